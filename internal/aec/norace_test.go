//go:build !race

package aec

// raceEnabled tells allocation tests to skip: the race detector allocates on its own.
const raceEnabled = false
