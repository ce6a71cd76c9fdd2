//go:build !race

package pipeline

const vadRaceEnabled = false
