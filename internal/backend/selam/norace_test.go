//go:build !race

package selam

const raceEnabled = false
