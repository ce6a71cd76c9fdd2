package gpio

import (
	"errors"
	"strings"
	"syscall"
)

// Kinds of *LineError; test with errors.Is(err, gpio.ErrBusy).
var (
	ErrNoChip      = errors.New("gpio: no such chip")
	ErrNoLine      = errors.New("gpio: no such line")
	ErrBusy        = errors.New("gpio: line busy")
	ErrPermission  = errors.New("gpio: permission denied")
	ErrUnsupported = errors.New("gpio: not supported on this system")
	ErrRefused     = errors.New("gpio: line configuration refused")
	ErrClosed      = errors.New("gpio: closed")
)

// LineError is a GPIO chip or line that cannot be used. The daemon logs it, reports it in its
// status and runs on without the button or LED.
type LineError struct {
	Op   string // what was attempted: "open", "request input", "drive"
	Chip string // the chip as the user named it, or as found
	Line string // the line as the user named it; empty for chip errors
	Kind error  // ErrNoChip, ErrNoLine, ErrBusy, ErrPermission, ErrUnsupported or ErrRefused
	Hint string // what to do about it, in plain words
	Err  error  // the underlying error, errno intact where the kernel gave one
}

func (e *LineError) Error() string {
	var b strings.Builder
	b.WriteString("gpio: ")
	b.WriteString(e.Op)
	if e.Chip == "" && e.Line == "" && e.Op == "open" {
		b.WriteString(" chip")
	}
	if e.Chip != "" {
		b.WriteString(" chip ")
		b.WriteString(e.Chip)
	}
	if e.Line != "" {
		b.WriteString(" line ")
		b.WriteString(e.Line)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Kind.Error(), "gpio: "))
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap exposes both the kind and the cause, so errors.Is matches ErrBusy as well
// as syscall.EBUSY.
func (e *LineError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Unavailable reports whether err says the GPIO hardware cannot be used (missing,
// busy, not permitted, unsupported), as opposed to a programming or config mistake.
// The daemon runs on without GPIO when it is true.
func Unavailable(err error) bool {
	var e *LineError
	return errors.As(err, &e)
}

// Hints for the user, kept together so messages stay consistent.
const (
	hintPermission = "add the user to group gpio (usermod -aG gpio USER, then log in again) or check the udev rule for /dev/gpiochip*"
	hintBusy       = "another program or a kernel driver holds the line; stop it (gpioinfo shows the consumer) or pick another line"
	hintNoChips    = "no usable /dev/gpiochip* device: this kernel has no GPIO character device, or the board has no GPIO"
)

// errnos that periph reports as text; see errnoOf.
var knownErrnos = []syscall.Errno{
	syscall.EBUSY, syscall.EACCES, syscall.EPERM, syscall.EINVAL,
	syscall.ENODEV, syscall.ENOENT, syscall.ENXIO, syscall.EIO, syscall.ENOTTY,
}

// errnoOf recovers the errno behind err. periph's gpioioctl flattens ioctl errnos into
// errors.New(errno.Error()), so when errors.As finds none, the text is matched against
// the messages of the errnos a line request can fail with.
func errnoOf(err error) (syscall.Errno, bool) {
	if err == nil {
		return 0, false
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return en, true
	}
	msg := err.Error()
	for _, e := range knownErrnos {
		if strings.HasSuffix(msg, e.Error()) {
			return e, true
		}
	}
	return 0, false
}

// errnoError keeps the text of the original error and makes errors.Is see the errno.
type errnoError struct {
	err   error
	errno syscall.Errno
}

func (e *errnoError) Error() string   { return e.err.Error() }
func (e *errnoError) Unwrap() []error { return []error{e.err, e.errno} }

// lineError classifies an error from configuring a line (op: "request input", "drive").
// consumer is who held the line when the chip was scanned, if anyone.
func lineError(op, chip, line, consumer string, err error) error {
	en, ok := errnoOf(err)
	if ok && !errors.Is(err, en) {
		err = &errnoError{err: err, errno: en}
	}
	e := &LineError{Op: op, Chip: chip, Line: line, Err: err}
	switch {
	case ok && en == syscall.EBUSY:
		e.Kind, e.Hint = ErrBusy, hintBusy
		if consumer != "" {
			e.Hint = "held by " + consumer + "; " + hintBusy
		}
	case ok && (en == syscall.EACCES || en == syscall.EPERM):
		e.Kind, e.Hint = ErrPermission, hintPermission
	case ok && (en == syscall.ENODEV || en == syscall.ENXIO || en == syscall.ENOENT):
		e.Kind, e.Hint = ErrNoLine, "the chip went away; check the device tree overlay or the cable"
	default:
		// Any other failure to configure the line still means the daemon must run
		// on without it; the cause is in Err.
		e.Kind = ErrRefused
		e.Hint = "the chip may not support this bias or direction on the line"
	}
	return e
}
