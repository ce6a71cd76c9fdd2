//go:build !race

package pipeline

// ringRaceEnabled tells allocation tests to skip: the race detector
// allocates on its own.
const ringRaceEnabled = false
