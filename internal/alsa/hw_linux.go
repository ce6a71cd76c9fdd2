package alsa

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hwPCM is an open /dev/snd/pcmC*D* node, configured and prepared.
type hwPCM struct {
	dev    device
	stream Stream
	par    Params
	fb     int
	log    *slog.Logger
	clock  Clock
	stop   chan struct{} // closed on close
	xruns  *atomic.Uint64

	x       xferi // transfer argument; only the transferring goroutine uses it
	lastLog time.Time
	fills   bool // playback runs free and the kernel fills silence (installSW)

	mu  sync.Mutex // guards following fields: ioctl argument blocks for Delay and Status
	d   int
	fwd uint // FORWARD's argument and result
	st  pcmStatus
}

// maxRecoveries bounds back-to-back recoveries without a frame moving, so a broken
// device gives an error instead of a busy loop.
const maxRecoveries = 8

func openHW(dn devName, s Stream, c Config, o *options, xruns *atomic.Uint64) (backend, error) {
	sys := o.sys
	if sys == nil {
		sys = realSystem
	}
	card, devNum, err := resolve(sys, dn, s)
	if err != nil {
		return nil, err
	}
	if dn.subdev >= 0 {
		// The kernel keeps the preference on the control file for the thread that opened
		// it, and honours it for PCM opens by that same thread while the file is open.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		ctl, err := sys.open(ctlPath(card))
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", ctlPath(card), err)
		}
		defer ctl.Close()
		sub := int32(dn.subdev)
		if err := ctl.ioctl(ioctlCtlPCMPreferSubdevice, unsafe.Pointer(&sub)); err != nil {
			return nil, fmt.Errorf("prefer subdevice %d: %w", dn.subdev, err)
		}
	}
	path := pcmPath(card, devNum, s)
	d, err := sys.open(path)
	if err != nil {
		name := fmt.Sprintf("hw:%d,%d", card, devNum)
		if dn.subdev >= 0 {
			name += fmt.Sprintf(",%d", dn.subdev)
		}
		return nil, explainOpen(sys, err, name, card, devNum, s, path)
	}
	h := &hwPCM{dev: d, stream: s, log: o.log, clock: o.clock, xruns: xruns, stop: make(chan struct{})}
	if err := h.setup(c); err != nil {
		d.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

func (h *hwPCM) setup(c Config) error {
	// Tell the kernel which protocol we speak; kernels before 5.5 do not know the ioctl.
	v := int32(pcmVersion)
	if err := h.dev.ioctl(ioctlPCMUserPVersion, unsafe.Pointer(&v)); err != nil && !isErrno(err, unix.ENOTTY, unix.EINVAL) {
		return fmt.Errorf("user_pversion: %w", err)
	}
	_, par, err := negotiate(h.dev, c)
	if err != nil {
		return err
	}
	h.par, h.fb = par, par.FrameBytes()
	if h.fills, err = installSW(h.dev, h.stream, par); err != nil {
		return err
	}
	if err := h.dev.ioctl(ioctlPrepare, nil); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	return nil
}

func (h *hwPCM) params() Params { return h.par }

// xfer moves all frames of buf, recovering from xruns on the way.
func (h *hwPCM) xfer(buf []byte, frames int) (int, error) {
	req := ioctlReadIFrames
	if h.stream == Playback {
		req = ioctlWriteIFrames
	}
	done, recoveries := 0, 0
	for done < frames {
		h.x = xferi{Buf: unsafe.Pointer(&buf[done*h.fb]), Frames: uint(frames - done)}
		err := h.dev.transfer(h.stream, req, unsafe.Pointer(&h.x))
		if err == nil {
			done += h.x.Result
			recoveries = 0
			continue
		}
		if recoveries++; recoveries > maxRecoveries {
			return done, fmt.Errorf("recovery keeps failing: %w", err)
		}
		if rerr := h.recover(err); rerr != nil {
			return done, rerr
		}
	}
	h.x.Buf = nil
	return done, nil
}

func (h *hwPCM) read(buf []byte, frames int) (int, error)  { return h.xfer(buf, frames) }
func (h *hwPCM) write(buf []byte, frames int) (int, error) { return h.xfer(buf, frames) }

// recover handles what a transfer can run into: an xrun (EPIPE), a suspend (ESTRPIPE) and
// a stream stopped under us by Drop (EBADFD). A stream whose card was disconnected answers
// EBADFD too, and then cannot be prepared again: that gives a goneError. Anything else is
// returned.
func (h *hwPCM) recover(err error) error {
	switch {
	case errors.Is(err, unix.EPIPE):
		h.xruns.Add(1)
		if now := h.clock.Now(); now.Sub(h.lastLog) > 10*time.Second {
			h.lastLog = now
			h.log.Warn("audio xrun recovered", "stream", h.stream.String(), "xruns", h.xruns.Load())
		}
		return h.prepare("xrun")
	case errors.Is(err, unix.ESTRPIPE):
		for range 100 {
			err := h.dev.ioctl(ioctlResume, nil)
			if err == nil {
				return nil
			}
			if !errors.Is(err, unix.EAGAIN) {
				break // the driver cannot resume: start over
			}
			if !h.clock.Sleep(10*time.Millisecond, h.stop) {
				return ErrClosed
			}
		}
		return h.prepare("suspend")
	case errors.Is(err, unix.EBADFD):
		return h.prepare("EBADFD")
	}
	return err
}

// prepare prepares the stream again after a transfer stopped (after says why).
func (h *hwPCM) prepare(after string) error {
	err := h.dev.ioctl(ioctlPrepare, nil)
	if err == nil {
		return nil
	}
	if isGone(err) {
		return &goneError{op: "prepare after " + after, err: err}
	}
	return fmt.Errorf("prepare after %s: %w", after, err)
}

// isGone reports whether an ioctl's errno means the card is disconnected, for ioctls that
// do not fail so on a stream that is set up (PREPARE, DROP, STATUS). The kernel answers
// EBADFD while the file still has the PCM's operations (pcm_native.c,
// snd_pcm_common_ioctl: state DISCONNECTED), and ENODEV once snd_card_disconnect has
// swapped in its dummy ones (init.c, snd_disconnect_ioctl); which one a call gets depends
// on whether it entered before or after the swap.
func isGone(err error) bool { return isErrno(err, unix.ENODEV, unix.EBADFD) }

func (h *hwPCM) delay() (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.dev.ioctl(ioctlDelay, unsafe.Pointer(&h.d)); err != nil {
		if isErrno(err, unix.EPIPE, unix.EBADFD) {
			return 0, nil // stopped: nothing queued
		}
		return 0, fmt.Errorf("delay: %w", err)
	}
	return h.d, nil
}

func (h *hwPCM) fillsSilence() bool { return h.fills }

// catchUp moves the application pointer of a free-running playback stream that fell
// behind the hardware's (it ran dry and the kernel played silence) up to it, so that what
// is written next plays next instead of a buffer later, and returns the delay after it.
func (h *hwPCM) catchUp() (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.dev.ioctl(ioctlDelay, unsafe.Pointer(&h.d)); err != nil {
		if isErrno(err, unix.ENODEV) {
			return 0, &goneError{op: "delay", err: err}
		}
		if !isErrno(err, unix.EPIPE, unix.EBADFD) {
			return 0, fmt.Errorf("delay: %w", err)
		}
		// Stopped (nothing queued, nothing to skip), or disconnected: STATUS, which
		// works on a stopped stream, tells.
		if err := h.dev.ioctl(ioctlStatus, unsafe.Pointer(&h.st)); err != nil {
			if isGone(err) {
				return 0, &goneError{op: "status after delay", err: err}
			}
			return 0, fmt.Errorf("status after delay: %w", err)
		}
		if h.st.State == stateDisconnected {
			return 0, &goneError{op: "status", err: unix.ENODEV}
		}
		return 0, nil
	}
	if h.d >= 0 || !h.fills {
		return max(h.d, 0), nil
	}
	// The kernel writes the frames it moved back into the same word.
	h.fwd = uint(-h.d)
	if err := h.dev.ioctl(ioctlForward, unsafe.Pointer(&h.fwd)); err != nil {
		return 0, fmt.Errorf("forward %d frames: %w", -h.d, err)
	}
	return max(h.d+int(h.fwd), 0), nil
}

var stateNames = [...]string{"OPEN", "SETUP", "PREPARED", "RUNNING", "XRUN", "DRAINING", "PAUSED", "SUSPENDED", "DISCONNECTED"}

func (h *hwPCM) status() (Status, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.dev.ioctl(ioctlStatus, unsafe.Pointer(&h.st)); err != nil {
		if isGone(err) {
			return Status{}, &goneError{op: "status", err: err}
		}
		return Status{}, fmt.Errorf("status: %w", err)
	}
	st := Status{State: fmt.Sprintf("STATE(%d)", h.st.State), Avail: int(h.st.Avail), Delay: h.st.Delay}
	if h.st.State >= 0 && int(h.st.State) < len(stateNames) {
		st.State = stateNames[h.st.State]
	}
	return st, nil
}

func (h *hwPCM) drop() error {
	if err := h.dev.ioctl(ioctlDrop, nil); err != nil {
		if isGone(err) {
			return &goneError{op: "drop", err: err}
		}
		return fmt.Errorf("drop: %w", err)
	}
	return h.prepare("drop")
}

// drain waits for queued playback to finish. On a non-blocking file the kernel starts
// draining and answers EAGAIN, so we watch the state until it leaves DRAINING.
func (h *hwPCM) drain() error {
	if h.stream == Capture {
		return h.drop()
	}
	err := h.dev.ioctl(ioctlDrain, nil)
	if err != nil && !errors.Is(err, unix.EAGAIN) {
		if isErrno(err, unix.EPIPE, unix.EBADFD) {
			return h.prepare("drain")
		}
		if errors.Is(err, unix.ENODEV) {
			return &goneError{op: "drain", err: err}
		}
		return fmt.Errorf("drain: %w", err)
	}
	period := time.Duration(h.par.PeriodFrames) * time.Second / time.Duration(h.par.Rate)
	for {
		st, err := h.status()
		if err != nil {
			return err
		}
		if st.State != "DRAINING" && st.State != "RUNNING" {
			break
		}
		if !h.clock.Sleep(period, h.stop) {
			return ErrClosed
		}
	}
	return h.prepare("drain")
}

func (h *hwPCM) pause(on bool) error {
	v := int32(0)
	if on {
		v = 1
	}
	if err := h.dev.ioctl(ioctlPause, unsafe.Pointer(&v)); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return &goneError{op: fmt.Sprintf("pause %v", on), err: err}
		}
		return fmt.Errorf("pause %v: %w", on, err)
	}
	return nil
}

func (h *hwPCM) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	return h.dev.Close()
}
