//go:build race

package pipeline

// vadRaceEnabled: the race detector allocates, so allocation counts mean nothing under it.
const vadRaceEnabled = true
