// Package race tells whether the binary was built with the race detector.
//
// Tests read Enabled to skip allocation counts: the detector allocates on its own,
// so testing.AllocsPerRun means nothing under -race.
package race
