package alsa

import (
	"fmt"
	"strings"
	"syscall"
)

// BusyError says a device is open elsewhere, and by whom when /proc tells.
type BusyError struct {
	Device  string // e.g. "hw:1,0 (/dev/snd/pcmC1D0c)"
	PID     int    // 0 when unknown
	Command string // the holder's comm, "" when unknown
}

func (e *BusyError) Error() string {
	msg := "device " + e.Device + " is busy"
	switch {
	case e.PID != 0 && e.Command != "":
		msg += fmt.Sprintf(": held by pid %d (%s)", e.PID, e.Command)
	case e.PID != 0:
		msg += fmt.Sprintf(": held by pid %d", e.PID)
	default:
		msg += ": another program has it open"
	}
	if strings.Contains(e.Command, "pulseaudio") || strings.Contains(e.Command, "pipewire") || strings.Contains(e.Command, "wireplumber") {
		msg += "; stop the sound server or give voiced a device it does not use"
	}
	return msg
}

// Unwrap makes errors.Is(err, syscall.EBUSY) true.
func (e *BusyError) Unwrap() error { return syscall.EBUSY }

// goneError is a device that went away under an open stream (unplugged, its driver
// unbound), whichever errno the kernel used to say so. errors.Is(err, syscall.ENODEV) is
// true, which is what "gone" means to callers and to WithReopen; the kernel's own errno
// stays reachable through Unwrap.
type goneError struct {
	op  string // what found out, e.g. "prepare after EBADFD"
	err error
}

func (e *goneError) Error() string {
	return "device disconnected (" + e.op + ": " + e.err.Error() + ")"
}

func (e *goneError) Unwrap() error { return e.err }

// Is makes errors.Is(err, syscall.ENODEV) true.
func (e *goneError) Is(target error) bool { return target == syscall.ENODEV }
