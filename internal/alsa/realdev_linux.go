package alsa

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// realDev is a device node opened non-blocking and registered with the Go runtime
// poller, so transfers wait without holding a thread and Close wakes them up.
type realDev struct {
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool // the poller's "use of closed file" is not os.ErrClosed, so we track it

	mu     sync.Mutex // guards following fields: the argument block of ioctl
	req    uintptr
	arg    unsafe.Pointer
	errno  syscall.Errno
	ctlFn  func(fd uintptr) // made once, so ioctl does not allocate a closure per call
	xReq   uintptr          // transfer's argument block: one transferring goroutine per device
	xArg   unsafe.Pointer
	xErrno syscall.Errno
	xFn    func(fd uintptr) bool
}

func openReal(path string) (device, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err // a bare Errno, so callers can spot EBUSY and ENOENT
	}
	f := os.NewFile(uintptr(fd), path)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	d := &realDev{f: f, rc: rc}
	d.ctlFn = func(fd uintptr) {
		_, _, d.errno = unix.Syscall(unix.SYS_IOCTL, fd, d.req, uintptr(d.arg))
	}
	d.xFn = func(fd uintptr) bool {
		_, _, d.xErrno = unix.Syscall(unix.SYS_IOCTL, fd, d.xReq, uintptr(d.xArg))
		return d.xErrno != unix.EAGAIN
	}
	return d, nil
}

func (d *realDev) ioctl(req uintptr, arg unsafe.Pointer) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.req, d.arg = req, arg
	if err := d.rc.Control(d.ctlFn); err != nil {
		return d.closedErr(err)
	}
	d.arg = nil
	if d.errno != 0 {
		return d.errno
	}
	return nil
}

func (d *realDev) transfer(s Stream, req uintptr, arg unsafe.Pointer) error {
	d.xReq, d.xArg = req, arg
	var err error
	if s == Capture {
		err = d.rc.Read(d.xFn)
	} else {
		err = d.rc.Write(d.xFn)
	}
	if err != nil && !d.closed.Load() && !errors.Is(err, os.ErrClosed) {
		err = d.transferAfterPollError(err)
	}
	d.xArg = nil
	if err != nil {
		return d.closedErr(err)
	}
	if d.xErrno != 0 {
		return d.xErrno
	}
	return nil
}

// transferAfterPollError handles the poller failing a transfer. When a card is
// disconnected, the kernel gives every open file of it dummy operations whose poll
// answers EPOLLERR|EPOLLNVAL (sound/core/init.c, snd_disconnect_poll), of which epoll
// passes on only EPOLLERR. The Go runtime remembers an event of EPOLLERR alone, and the
// next read on the file that starts or waits fails with "not pollable" and no errno
// (runtime/netpoll.go, netpollcheckerr): a capture that was busy between two reads when
// the card went gets that, not the ENODEV its ioctl would get. So the transfer ioctl is
// issued once more, outside the poller, for the kernel's own answer. If even that would
// wait, the file is of no more use: the device counts as gone, to be reopened on a new
// file.
func (d *realDev) transferAfterPollError(perr error) error {
	if err := d.rc.Control(func(fd uintptr) { d.xFn(fd) }); err != nil {
		return err
	}
	if d.xErrno == unix.EAGAIN {
		d.xErrno = 0
		return &goneError{op: "wait for the device", err: perr}
	}
	return nil // xErrno, if any, is the answer
}

func (d *realDev) closedErr(err error) error {
	if d.closed.Load() || errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("%w (%v)", ErrClosed, err)
	}
	return err
}

func (d *realDev) Close() error {
	d.closed.Store(true)
	return d.f.Close()
}

var realSystem = &system{open: openReal, procRoot: "/proc"}
