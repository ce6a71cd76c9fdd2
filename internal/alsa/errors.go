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
