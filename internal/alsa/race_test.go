//go:build !race

package alsa

const raceEnabled = false
