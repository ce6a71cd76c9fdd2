//go:build race

package estuary

const raceEnabled = true
