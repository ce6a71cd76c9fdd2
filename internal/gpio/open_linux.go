package gpio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"periph.io/x/conn/v3/driver/driverreg"
	pgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3/gpioioctl"
)

// periph scans /dev/gpiochip* once per process, in driverreg.Init (a chip that shows
// up later is seen after a restart), and keeps the chips open in gpioioctl.Chips;
// lines are shared *GPIOLine values. So chips are never closed here (a closed chip
// would stay in that list), lines are released one by one, and claimed stops two
// users in this process from sharing a line.
var (
	initOnce sync.Once

	claimMu sync.Mutex // guards claimed
	claimed = map[*gpioioctl.GPIOLine]bool{}
)

func periphChips() []*gpioioctl.GPIOChip {
	initOnce.Do(func() {
		// Errors of other drivers do not concern us; an empty Chips is diagnosed below.
		_, _ = driverreg.Init()
	})
	return gpioioctl.Chips
}

func chipInfo(c *gpioioctl.GPIOChip) ChipInfo {
	ci := ChipInfo{Name: c.Name(), Label: c.Label(), Path: c.Path()}
	for _, l := range c.Lines() {
		ci.Lines = append(ci.Lines, l.Name())
	}
	return ci
}

// Chips lists the GPIO chips this process can open.
func Chips() ([]ChipInfo, error) {
	cs := periphChips()
	if len(cs) == 0 {
		if err := noChipError(""); err != nil {
			return nil, err
		}
		return nil, &LineError{Op: "open", Kind: ErrNoChip, Hint: hintNoChips}
	}
	out := make([]ChipInfo, len(cs))
	for i, c := range cs {
		out[i] = chipInfo(c)
	}
	return out, nil
}

// noChipError explains why chip spec is not among the chips periph could open: no
// device nodes, or nodes this user may not open.
func noChipError(spec string) error {
	paths, _ := filepath.Glob("/dev/gpiochip*")
	if len(paths) == 0 {
		return &LineError{Op: "open", Chip: spec, Kind: ErrNoChip, Hint: hintNoChips}
	}
	// A label can name any chip, so then every unreadable node is a suspect.
	byLabel := spec != "" && !strings.HasPrefix(spec, "/dev/") && !strings.HasPrefix(spec, "gpiochip")
	for _, p := range paths {
		if spec != "" && !byLabel && spec != p && spec != filepath.Base(p) {
			continue
		}
		f, err := os.Open(p)
		if err == nil {
			f.Close()
			continue
		}
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			return &LineError{Op: "open", Chip: spec, Kind: ErrPermission, Hint: hintPermission, Err: err}
		}
		return &LineError{Op: "open", Chip: spec, Kind: ErrNoChip, Err: err}
	}
	return nil
}

// OpenLine finds line on chip (see the package doc for how both are named). The
// line is requested from the kernel on its first In or Out, which is where a busy
// line shows; close it with Close (the Button and LED do).
func OpenLine(chip, line string) (pgpio.PinIO, error) {
	cs, ci, off, err := findLine(chip, line)
	if err != nil {
		return nil, err
	}
	gl := cs[ci].ByNumber(off)
	if err := claim(gl, cs[ci].Name(), line); err != nil {
		return nil, err
	}
	return &cdevLine{GPIOLine: gl, chip: cs[ci].Name(), spec: line, consumer: gl.Consumer()}, nil
}

// openButtonLine opens the line of a button, with the kernel's debounce if asked for.
func openButtonLine(chip, line string, c ButtonConfig) (pgpio.PinIn, error) {
	if c.KernelDebounce > 0 {
		return openDebouncedLine(chip, line, c.KernelDebounce)
	}
	return OpenLine(chip, line)
}

// findLine returns periph's chips, the index of chip among them and line's offset.
func findLine(chip, line string) ([]*gpioioctl.GPIOChip, int, int, error) {
	cs := periphChips()
	infos := make([]ChipInfo, len(cs))
	for i, c := range cs {
		infos[i] = chipInfo(c)
	}
	ci, err := resolveChip(infos, chip)
	if err != nil {
		// The chip may exist but be unreadable: periph skips those silently.
		if e := noChipError(chip); e != nil {
			return nil, 0, 0, e
		}
		return nil, 0, 0, err
	}
	off, err := resolveLine(infos[ci], line)
	if err != nil {
		return nil, 0, 0, err
	}
	return cs, ci, off, nil
}

// claim marks gl as used by this process, or says it already is.
func claim(gl *gpioioctl.GPIOLine, chip, spec string) error {
	claimMu.Lock()
	defer claimMu.Unlock()
	if claimed[gl] {
		return &LineError{Op: "open", Chip: chip, Line: spec, Kind: ErrBusy,
			Hint: "voiced already uses this line (button and LED on the same line?)"}
	}
	claimed[gl] = true
	return nil
}

func release(gl *gpioioctl.GPIOLine) {
	claimMu.Lock()
	defer claimMu.Unlock()
	delete(claimed, gl)
}

// cdevLine is a periph line that reports failures as *LineError and can be released.
type cdevLine struct {
	*gpioioctl.GPIOLine
	chip     string
	spec     string // as the user named it
	consumer string // who held it when the chip was scanned

	once sync.Once
}

func (l *cdevLine) In(pull pgpio.Pull, edge pgpio.Edge) error {
	if err := l.GPIOLine.In(pull, edge); err != nil {
		return lineError("request input", l.chip, l.spec, l.consumer, err)
	}
	return nil
}

func (l *cdevLine) Out(v pgpio.Level) error {
	if err := l.GPIOLine.Out(v); err != nil {
		return lineError("drive", l.chip, l.spec, l.consumer, err)
	}
	return nil
}

// Close gives the line back to the kernel and to OpenLine.
func (l *cdevLine) Close() {
	l.once.Do(func() {
		l.GPIOLine.Close()
		release(l.GPIOLine)
	})
}

// Name returns the line's name, or the name the user gave for an unnamed line.
func (l *cdevLine) Name() string {
	if n := l.GPIOLine.Name(); n != "" {
		return n
	}
	return l.spec
}
