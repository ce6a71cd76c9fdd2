//go:build !race

package pipeline_test

const engineRace = false
