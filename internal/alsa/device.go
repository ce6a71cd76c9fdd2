package alsa

import "unsafe"

// device is an open PCM or control node: the real one is a non-blocking file waiting in
// the Go poller; tests use a fake kernel. arg points at the ioctl's argument struct.
type device interface {
	// ioctl issues one ioctl and returns its errno (a syscall.Errno) or nil.
	ioctl(req uintptr, arg unsafe.Pointer) error
	// transfer issues a READI/WRITEI ioctl, waiting in the poller while it returns EAGAIN
	// until the device is readable (capture) or writable (playback). Close ends the wait
	// with an error wrapping ErrClosed.
	transfer(s Stream, req uintptr, arg unsafe.Pointer) error
	Close() error
}

// system is where devices come from: the real /dev/snd and /proc, or a fake in tests.
type system struct {
	open     func(path string) (device, error) // opens non-blocking, read-write
	procRoot string                            // "/proc"
}

// withSystem replaces /dev and /proc; unit tests use it so nothing opens /dev.
func withSystem(s *system) Option { return func(o *options) { o.sys = s } }
