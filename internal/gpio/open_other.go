//go:build !linux

package gpio

import pgpio "periph.io/x/conn/v3/gpio"

// Chips lists the GPIO chips; there are none outside Linux.
func Chips() ([]ChipInfo, error) {
	return nil, &LineError{Op: "list chips", Kind: ErrUnsupported, Hint: "GPIO needs Linux"}
}

// OpenLine is not supported outside Linux.
func OpenLine(chip, line string) (pgpio.PinIO, error) {
	return nil, &LineError{Op: "open", Chip: chip, Line: line, Kind: ErrUnsupported, Hint: "GPIO needs Linux"}
}

func openButtonLine(chip, line string, _ ButtonConfig) (pgpio.PinIn, error) {
	return OpenLine(chip, line)
}
