package gpio

import (
	"fmt"
	pgpio "periph.io/x/conn/v3/gpio"
	"strconv"
	"strings"
)

// ChipInfo describes a GPIO chip as the kernel reports it.
type ChipInfo struct {
	Name  string   // gpiochip0
	Label string   // pinctrl-bcm2835
	Path  string   // /dev/gpiochip0
	Lines []string // line names by offset; "" where the chip gives none
}

// OpenButton opens line on chip and watches it as a push button. With
// c.KernelDebounce set, the kernel debounces the line too.
func OpenButton(chip, line string, c ButtonConfig) (*Button, error) {
	ln, err := openButtonLine(chip, line, c)
	if err != nil {
		return nil, err
	}
	return NewButton(ln, c)
}

// OpenLED opens line on chip and drives it as the state LED.
func OpenLED(chip, line string, c LEDConfig) (*LED, error) {
	ln, err := OpenLine(chip, line)
	if err != nil {
		return nil, err
	}
	return NewLED(ln, c)
}

// OpenRGBLED opens three lines on chip and drives them as an RGB state LED.
func OpenRGBLED(chip, red, green, blue string, c LEDConfig) (*LED, error) {
	var lines [3]pgpio.PinOut
	for i, name := range []string{red, green, blue} {
		ln, err := OpenLine(chip, name)
		if err != nil {
			closeLines(lines[:i])
			return nil, err
		}
		lines[i] = ln
	}
	return NewRGBLED(lines[0], lines[1], lines[2], c)
}

// resolveChip returns the index in chips of the chip named spec: by name, label or
// path, or the first one when spec is empty.
func resolveChip(chips []ChipInfo, spec string) (int, error) {
	if len(chips) == 0 {
		return -1, &LineError{Op: "open", Chip: spec, Kind: ErrNoChip, Hint: hintNoChips}
	}
	if spec == "" {
		return 0, nil
	}
	for i, c := range chips {
		if c.Name == spec || c.Label == spec || c.Path == spec {
			return i, nil
		}
	}
	if n, err := strconv.Atoi(spec); err == nil {
		for i, c := range chips {
			if c.Name == "gpiochip"+strconv.Itoa(n) {
				return i, nil
			}
		}
	}
	have := make([]string, len(chips))
	for i, c := range chips {
		have[i] = fmt.Sprintf("%s (%s)", c.Name, c.Label)
	}
	return -1, &LineError{Op: "open", Chip: spec, Kind: ErrNoChip,
		Hint: "the chips here are " + strings.Join(have, ", ")}
}

// resolveLine returns the offset of the line named spec on chip: by the name the
// chip reports, by offset, or as GPIO<n> where no line has that name.
func resolveLine(chip ChipInfo, spec string) (int, error) {
	if spec == "" {
		return -1, &LineError{Op: "open", Chip: chip.Name, Kind: ErrNoLine, Hint: "no line given"}
	}
	for i, n := range chip.Lines {
		// periph renames duplicate names to "<chip>-<name>"; accept both.
		if n == spec || n == chip.Name+"-"+spec {
			return i, nil
		}
	}
	num := spec
	if len(spec) > 4 && strings.EqualFold(spec[:4], "gpio") {
		num = spec[4:]
	}
	if n, err := strconv.Atoi(num); err == nil {
		if n < 0 || n >= len(chip.Lines) {
			return -1, &LineError{Op: "open", Chip: chip.Name, Line: spec, Kind: ErrNoLine,
				Hint: fmt.Sprintf("%s has lines 0 to %d", chip.Name, len(chip.Lines)-1)}
		}
		return n, nil
	}
	for i, n := range chip.Lines {
		if strings.EqualFold(n, spec) {
			return i, nil
		}
	}
	var named []string
	for _, n := range chip.Lines {
		if n != "" && len(named) < 12 {
			named = append(named, n)
		}
	}
	hint := fmt.Sprintf("give a line number 0 to %d", len(chip.Lines)-1)
	if len(named) > 0 {
		hint += " or a name such as " + strings.Join(named, ", ")
	}
	return -1, &LineError{Op: "open", Chip: chip.Name, Line: spec, Kind: ErrNoLine, Hint: hint}
}
