package gpio

import (
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	pgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3/gpioioctl"
)

// The GPIO v2 uAPI of <linux/gpio.h>, only as far as a debounced input line needs it.
// periph's gpioioctl has no way to ask for the kernel's debounce attribute, so a
// button with ButtonConfig.KernelDebounce is requested here; chips and lines are still
// found through periph. The structs are laid out so they are the same on every
// GOARCH (the header pads them for that); sizes are pinned in cdev_linux_test.go.

const (
	gpioV2LineFlagInput       = 1 << 2
	gpioV2LineFlagEdgeRising  = 1 << 4
	gpioV2LineFlagEdgeFalling = 1 << 5
	gpioV2LineFlagBiasPullUp  = 1 << 8
	gpioV2LineFlagBiasPullDn  = 1 << 9
	gpioV2LineFlagBiasOff     = 1 << 10
	gpioV2LineAttrIDDebounce  = 3
	gpioConsumer              = "voiced"
)

// struct gpio_v2_line_attribute (the value is a union; debounce_period_us is its low u32).
type gpioV2LineAttribute struct {
	id      uint32
	padding uint32
	value   uint64
}

// struct gpio_v2_line_config_attribute
type gpioV2LineConfigAttribute struct {
	attr gpioV2LineAttribute
	mask uint64
}

// struct gpio_v2_line_config
type gpioV2LineConfig struct {
	flags    uint64
	numAttrs uint32
	padding  [5]uint32
	attrs    [10]gpioV2LineConfigAttribute
}

// struct gpio_v2_line_request
type gpioV2LineRequest struct {
	offsets         [64]uint32
	consumer        [32]byte
	config          gpioV2LineConfig
	numLines        uint32
	eventBufferSize uint32
	padding         [5]uint32
	fd              int32
}

// struct gpio_v2_line_values
type gpioV2LineValues struct {
	bits uint64
	mask uint64
}

// sizeofLineEvent is sizeof(struct gpio_v2_line_event); events are read whole and
// only counted, so the struct itself is not needed.
const sizeofLineEvent = 48

// ioctl numbers: _IOWR(0xB4, nr, size), as <asm-generic/ioctl.h> builds them.
func iowr(nr, size uintptr) uintptr { return 3<<30 | size<<16 | 0xB4<<8 | nr }

var (
	gpioV2GetLineIoctl       = iowr(0x07, unsafe.Sizeof(gpioV2LineRequest{}))
	gpioV2LineSetConfigIoctl = iowr(0x0D, unsafe.Sizeof(gpioV2LineConfig{}))
	gpioV2LineGetValuesIoctl = iowr(0x0E, unsafe.Sizeof(gpioV2LineValues{}))
)

func ioctl(fd, req uintptr, arg unsafe.Pointer) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(arg)); e != 0 {
		return e
	}
	return nil
}

// lineConfig builds the config of an input line with edges, bias and debounce.
func lineConfig(pull pgpio.Pull, edge pgpio.Edge, debounce time.Duration) gpioV2LineConfig {
	c := gpioV2LineConfig{flags: gpioV2LineFlagInput}
	switch edge {
	case pgpio.RisingEdge:
		c.flags |= gpioV2LineFlagEdgeRising
	case pgpio.FallingEdge:
		c.flags |= gpioV2LineFlagEdgeFalling
	case pgpio.BothEdges:
		c.flags |= gpioV2LineFlagEdgeRising | gpioV2LineFlagEdgeFalling
	}
	switch pull {
	case pgpio.PullUp:
		c.flags |= gpioV2LineFlagBiasPullUp
	case pgpio.PullDown:
		c.flags |= gpioV2LineFlagBiasPullDn
	case pgpio.Float:
		c.flags |= gpioV2LineFlagBiasOff
	}
	if us := debounce.Microseconds(); us > 0 {
		c.attrs[0] = gpioV2LineConfigAttribute{
			attr: gpioV2LineAttribute{id: gpioV2LineAttrIDDebounce, value: uint64(uint32(us))},
			mask: 1, // the one line of the request
		}
		c.numAttrs = 1
	}
	return c
}

// openDebouncedLine finds line on chip through periph and returns it as a pgpio.PinIn
// that In requests with the kernel's debounce attribute set to debounce.
func openDebouncedLine(chip, line string, debounce time.Duration) (pgpio.PinIn, error) {
	cs, ci, off, err := findLine(chip, line)
	if err != nil {
		return nil, err
	}
	gl := cs[ci].ByNumber(off)
	if err := claim(gl, cs[ci].Name(), line); err != nil {
		return nil, err
	}
	return &kernelLine{gl: gl, path: cs[ci].Path(), chip: cs[ci].Name(), spec: line,
		consumer: gl.Consumer(), debounce: debounce}, nil
}

// kernelLine is an input line requested through the GPIO v2 uAPI directly. Its edge
// reads go through the runtime poller, so deadlines and Halt interrupt them.
type kernelLine struct {
	gl       *gpioioctl.GPIOLine // for its name and number, and as the claim key
	path     string
	chip     string
	spec     string
	consumer string
	debounce time.Duration

	once sync.Once             // guards the release in Close
	ev   [sizeofLineEvent]byte // read buffer of the one goroutine that waits for edges

	mu   sync.Mutex // guards following fields
	f    *os.File   // the line request; nil before In
	pull pgpio.Pull
}

var _ pgpio.PinIn = (*kernelLine)(nil)

func (l *kernelLine) String() string   { return l.chip + "/" + l.Name() }
func (l *kernelLine) Number() int      { return l.gl.Number() }
func (l *kernelLine) Function() string { return "In" }
func (l *kernelLine) Name() string {
	if n := l.gl.Name(); n != "" {
		return n
	}
	return l.spec
}

func (l *kernelLine) DefaultPull() pgpio.Pull { return pgpio.PullNoChange }
func (l *kernelLine) Pull() pgpio.Pull {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pull
}

func (l *kernelLine) file() *os.File {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f
}

// In requests the line (or reconfigures it) as an input with kernel debounce.
func (l *kernelLine) In(pull pgpio.Pull, edge pgpio.Edge) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cfg := lineConfig(pull, edge, l.debounce)
	if l.f != nil {
		rc, err := l.f.SyscallConn()
		if err != nil {
			return lineError("request input", l.chip, l.spec, l.consumer, err)
		}
		var ierr error
		if err := rc.Control(func(fd uintptr) { ierr = ioctl(fd, gpioV2LineSetConfigIoctl, unsafe.Pointer(&cfg)) }); err != nil {
			ierr = err
		}
		if ierr != nil {
			return lineError("request input", l.chip, l.spec, l.consumer, fmt.Errorf("set line config: %w", ierr))
		}
		l.pull = pull
		return nil
	}
	chip, err := os.OpenFile(l.path, os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return lineError("request input", l.chip, l.spec, l.consumer, err)
	}
	defer chip.Close()
	req := gpioV2LineRequest{numLines: 1, config: cfg}
	req.offsets[0] = uint32(l.gl.Number())
	copy(req.consumer[:len(req.consumer)-1], gpioConsumer)
	if err := ioctl(chip.Fd(), gpioV2GetLineIoctl, unsafe.Pointer(&req)); err != nil {
		return lineError("request input", l.chip, l.spec, l.consumer, fmt.Errorf("get line %s: %w", l.path, err))
	}
	if err := unix.SetNonblock(int(req.fd), true); err != nil {
		unix.Close(int(req.fd))
		return lineError("request input", l.chip, l.spec, l.consumer, err)
	}
	l.f = os.NewFile(uintptr(req.fd), l.path+":"+l.Name())
	l.pull = pull
	return nil
}

// Read returns the line's level; Low when it cannot be read (not requested, closed).
func (l *kernelLine) Read() pgpio.Level {
	f := l.file()
	if f == nil {
		return pgpio.Low
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return pgpio.Low
	}
	v := gpioV2LineValues{mask: 1}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = ioctl(fd, gpioV2LineGetValuesIoctl, unsafe.Pointer(&v)) }); err != nil || ierr != nil {
		return pgpio.Low
	}
	return v.bits&1 != 0
}

// WaitForEdge waits up to timeout (0: forever) for one edge event.
func (l *kernelLine) WaitForEdge(timeout time.Duration) bool {
	f := l.file()
	if f == nil {
		return false
	}
	var dl time.Time
	if timeout > 0 {
		dl = time.Now().Add(timeout)
	}
	if f.SetReadDeadline(dl) != nil {
		return false
	}
	n, err := f.Read(l.ev[:])
	return err == nil && n == sizeofLineEvent
}

// Halt interrupts a WaitForEdge in progress.
func (l *kernelLine) Halt() error {
	if f := l.file(); f != nil {
		return f.SetReadDeadline(time.Unix(0, 1))
	}
	return nil
}

// Close releases the line to the kernel and to OpenLine.
func (l *kernelLine) Close() error {
	var err error
	l.once.Do(func() {
		l.mu.Lock()
		if l.f != nil {
			err = l.f.Close()
		}
		l.mu.Unlock()
		release(l.gl)
	})
	return err
}
