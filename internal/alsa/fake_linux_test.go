package alsa

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

// fakeCaps is what a fake PCM offers.
type fakeCaps struct {
	formats              []int    // kernel format numbers
	noInterleaved        bool     // offer only MMAP access
	chMin, chMax         uint32   // channels
	rates                []uint32 // a discrete list, ascending
	periodMin, periodMax uint32
	bufferMin, bufferMax uint32
}

var loopbackCaps = fakeCaps{
	formats: []int{fmtS16LE, fmtS32LE}, chMin: 1, chMax: 32,
	rates:     []uint32{8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000, 192000},
	periodMin: 16, periodMax: 1 << 16, bufferMin: 32, bufferMax: 1 << 17,
}

// fakePCM is a PCM substream as the kernel would present it through ioctls.
type fakePCM struct {
	caps fakeCaps
	sys  *fakeSystem

	mu        sync.Mutex // guards following fields
	installed *hwParams
	sw        swParams
	state     int
	calls     []string            // non-transfer ioctls in order
	xferErrs  []error             // errors the next transfers return, in order
	resumeErr []error             // errors RESUME returns, in order
	ctlErrs   map[uintptr][]error // errors the next non-transfer ioctls of a kind return, in order
	delayVal  int
	noSilence bool   // sw_params refuses silence filling, as an old or odd kernel might
	next      byte   // capture: the next byte value produced
	written   []byte // playback: what was written
	block     bool   // transfers wait until Close
	closed    chan struct{}
}

func newFakePCM(caps fakeCaps) *fakePCM { return &fakePCM{caps: caps, closed: make(chan struct{})} }

func (f *fakePCM) refineLocked(p *hwParams) error {
	acc := p.mask(paramAccess)
	allowed := sndMask{}
	if !f.caps.noInterleaved {
		allowed.Bits[0] |= 1 << accessRWInterleaved
	}
	allowed.Bits[0] |= 1 << 0 // MMAP_INTERLEAVED
	for i := range acc.Bits {
		acc.Bits[i] &= allowed.Bits[i]
	}
	fm := p.mask(paramFormat)
	var fmts sndMask
	for _, k := range f.caps.formats {
		fmts.Bits[k>>5] |= 1 << (k & 31)
	}
	for i := range fm.Bits {
		fm.Bits[i] &= fmts.Bits[i]
	}
	if acc.empty() || fm.empty() {
		return syscall.EINVAL
	}
	clamp := func(param int, lo, hi uint32) error {
		iv := p.interval(param)
		l, h := max(iv.lo(), lo), min(iv.hi(), hi)
		if l > h {
			return syscall.EINVAL
		}
		iv.set(l, h)
		iv.Flags |= intervalInteger
		return nil
	}
	if err := clamp(paramChannels, f.caps.chMin, f.caps.chMax); err != nil {
		return err
	}
	rv := p.interval(paramRate)
	lo, hi := uint32(0), uint32(0)
	for _, r := range f.caps.rates {
		if r >= rv.lo() && r <= rv.hi() {
			if lo == 0 {
				lo = r
			}
			hi = r
		}
	}
	if lo == 0 {
		return syscall.EINVAL
	}
	rv.set(lo, hi)
	if err := clamp(paramPeriodSize, f.caps.periodMin, f.caps.periodMax); err != nil {
		return err
	}
	if err := clamp(paramBufferSize, f.caps.bufferMin, f.caps.bufferMax); err != nil {
		return err
	}
	// A buffer holds at least two periods.
	if err := clamp(paramBufferSize, 2*p.interval(paramPeriodSize).lo(), ^uint32(0)); err != nil {
		return err
	}
	return clamp(paramPeriodSize, 0, p.interval(paramBufferSize).hi()/2)
}

func (f *fakePCM) ioctl(req uintptr, arg unsafe.Pointer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if errs := f.ctlErrs[req]; len(errs) > 0 {
		f.ctlErrs[req] = errs[1:]
		f.calls = append(f.calls, "failed "+ioctlNames[req])
		return errs[0]
	}
	switch req {
	case ioctlPCMUserPVersion:
		f.calls = append(f.calls, "user_pversion")
	case ioctlHWRefine:
		return f.refineLocked((*hwParams)(arg))
	case ioctlHWParams:
		p := (*hwParams)(arg)
		if err := f.refineLocked(p); err != nil {
			return err
		}
		for _, param := range []int{paramChannels, paramRate, paramPeriodSize, paramBufferSize} {
			iv := p.interval(param)
			iv.set(iv.lo(), iv.lo()) // the kernel chooses the minimum of what is left
		}
		p.mask(paramFormat).only(p.mask(paramFormat).first())
		cp := *p
		f.installed = &cp
		f.state = stateSetup
		f.calls = append(f.calls, "hw_params")
	case ioctlSWParams:
		// As pcm_native.c checks and answers: silence_size at or past the boundary
		// (top-up) needs threshold 0, otherwise it is at most the threshold, which is at
		// most the buffer; the boundary comes back.
		sw := (*swParams)(arg)
		bound := f.boundaryLocked()
		if f.noSilence && sw.SilenceSize > 0 {
			f.calls = append(f.calls, "failed sw_params")
			return syscall.EINVAL
		}
		if sw.SilenceSize >= bound && sw.SilenceThreshold != 0 ||
			sw.SilenceSize < bound && (sw.SilenceSize > sw.SilenceThreshold || sw.SilenceThreshold > uint(f.bufferLocked())) {
			return syscall.EINVAL
		}
		sw.Boundary = bound
		f.sw = *sw
		f.calls = append(f.calls, "sw_params")
	case ioctlPrepare:
		if f.installed == nil {
			return syscall.EBADFD
		}
		f.state = statePrepared
		f.calls = append(f.calls, "prepare")
	case ioctlDrop:
		f.state = stateSetup
		f.calls = append(f.calls, "drop")
	case ioctlDrain:
		f.state = stateSetup
		f.calls = append(f.calls, "drain")
	case ioctlResume:
		f.calls = append(f.calls, "resume")
		if len(f.resumeErr) > 0 {
			err := f.resumeErr[0]
			f.resumeErr = f.resumeErr[1:]
			return err
		}
		f.state = stateRunning
	case ioctlPause:
		f.calls = append(f.calls, fmt.Sprintf("pause %d", *(*int32)(arg)))
	case ioctlDelay:
		*(*int)(arg) = f.delayVal
	case ioctlForward:
		// Playback may move ahead by at most avail: buffer minus delay.
		n := min(*(*uint)(arg), uint(f.bufferLocked()-f.delayVal))
		f.delayVal += int(n)
		*(*uint)(arg) = n
		f.calls = append(f.calls, fmt.Sprintf("forward %d", n))
	case ioctlStatus:
		st := (*pcmStatus)(arg)
		*st = pcmStatus{State: int32(f.state), Delay: f.delayVal, Avail: 7}
	default:
		return syscall.ENOTTY
	}
	return nil
}

// bufferLocked is the installed buffer size in frames.
func (f *fakePCM) bufferLocked() int {
	if f.installed == nil {
		return 0
	}
	return int(f.installed.interval(paramBufferSize).lo())
}

// boundaryLocked is the kernel's pointer wrap point: the buffer size doubled while it
// stays below LONG_MAX minus the buffer (snd_pcm_hw_params).
func (f *fakePCM) boundaryLocked() uint {
	buf := uint(f.bufferLocked())
	if buf == 0 {
		return 0
	}
	b := buf
	for b*2 <= uint(math.MaxInt)-buf {
		b *= 2
	}
	return b
}

// ioctlNames names the ioctls whose failures tests script (ctlErrs).
var ioctlNames = map[uintptr]string{
	ioctlPrepare: "prepare", ioctlDrop: "drop", ioctlDrain: "drain", ioctlResume: "resume",
	ioctlPause: "pause", ioctlStatus: "status", ioctlDelay: "delay", ioctlForward: "forward",
	ioctlSWParams: "sw_params",
}

// failNext makes the next ioctls of kind req fail with errs, in order.
func (f *fakePCM) failNext(req uintptr, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctlErrs == nil {
		f.ctlErrs = map[uintptr][]error{}
	}
	f.ctlErrs[req] = append(f.ctlErrs[req], errs...)
}

func (f *fakePCM) transfer(s Stream, req uintptr, arg unsafe.Pointer) error {
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block {
		<-f.closed
		return ErrClosed
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.closed:
		return ErrClosed
	default:
	}
	if len(f.xferErrs) > 0 {
		err := f.xferErrs[0]
		f.xferErrs = f.xferErrs[1:]
		if err == syscall.EPIPE {
			f.state = stateXrun
		}
		return err
	}
	if f.state != statePrepared && f.state != stateRunning {
		return syscall.EBADFD
	}
	f.state = stateRunning
	x := (*xferi)(arg)
	fb := int(f.installed.interval(paramChannels).lo()) * (formatFromKernel(f.installed.mask(paramFormat).first()).BytesPerSample())
	buf := unsafe.Slice((*byte)(x.Buf), int(x.Frames)*fb)
	if req == ioctlReadIFrames {
		for i := range buf {
			buf[i] = f.next
			f.next++
		}
	} else if len(f.written)+len(buf) <= cap(f.written) {
		f.written = append(f.written, buf...)
	}
	x.Result = int(x.Frames)
	return nil
}

func (f *fakePCM) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.closed:
	default:
		close(f.closed)
	}
	return nil
}

func (f *fakePCM) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// fakeCtl is a control device listing PCM devices.
type fakeCtl struct {
	sys  *fakeSystem
	card int
}

func (c *fakeCtl) ioctl(req uintptr, arg unsafe.Pointer) error {
	s := c.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req {
	case ioctlCtlCardInfo:
		ci := (*ctlCardInfo)(arg)
		ci.Card = int32(c.card)
		copy(ci.ID[:], s.cards[c.card])
		copy(ci.Driver[:], "FakeDrv")
		copy(ci.Name[:], s.cards[c.card]+" name")
		copy(ci.Longname[:], s.cards[c.card]+" long name")
	case ioctlCtlPCMNextDevice:
		n := (*int32)(arg)
		next := int32(-1)
		for path := range s.pcms {
			var card, dev int
			var dir byte
			fmt.Sscanf(path, "/dev/snd/pcmC%dD%d%c", &card, &dev, &dir)
			if card == c.card && int32(dev) > *n && (next < 0 || int32(dev) < next) {
				next = int32(dev)
			}
		}
		*n = next
	case ioctlCtlPCMInfo:
		in := (*pcmInfo)(arg)
		s := Playback
		if in.Stream == streamCapture {
			s = Capture
		}
		if _, ok := c.sys.pcms[pcmPath(c.card, int(in.Device), s)]; !ok {
			return syscall.ENOENT
		}
		in.Card = int32(c.card)
		copy(in.ID[:], fmt.Sprintf("Fake PCM %d", in.Device))
		copy(in.Name[:], fmt.Sprintf("Fake PCM %d name", in.Device))
		in.SubdevicesCount, in.SubdevicesAvail = 2, 1
	case ioctlCtlPCMPreferSubdevice:
		s.preferred = append(s.preferred, int(*(*int32)(arg)))
	default:
		return syscall.ENOTTY
	}
	return nil
}

func (c *fakeCtl) transfer(Stream, uintptr, unsafe.Pointer) error { return syscall.ENOTTY }
func (c *fakeCtl) Close() error                                   { return nil }

// fakeSystem is /dev/snd and /proc for tests: cards, their PCMs, scripted open failures.
type fakeSystem struct {
	sys *system

	mu        sync.Mutex // guards following fields
	cards     map[int]string
	pcms      map[string]func() *fakePCM // path → a new substream per open
	openErrs  map[string][]error         // path → errors the next opens return
	opened    map[string][]*fakePCM
	preferred []int
	onOpen    func(*fakePCM) // if set, called on every substream opened
}

func newFakeSystem(t testing.TB) *fakeSystem {
	t.Helper()
	f := &fakeSystem{
		cards: map[int]string{}, pcms: map[string]func() *fakePCM{},
		openErrs: map[string][]error{}, opened: map[string][]*fakePCM{},
	}
	f.sys = &system{open: f.open, procRoot: t.TempDir()}
	return f
}

// addCard adds a card with the given PCM devices, each with playback and capture.
func (f *fakeSystem) addCard(t testing.TB, n int, id string, caps fakeCaps, devs ...int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cards[n] = id
	for _, d := range devs {
		for _, s := range []Stream{Playback, Capture} {
			f.pcms[pcmPath(n, d, s)] = func() *fakePCM { return newFakePCM(caps) }
		}
	}
	var text string
	for i := 0; i < 8; i++ {
		if id, ok := f.cards[i]; ok {
			text += fmt.Sprintf("%2d [%-15s]: FakeDrv - %s name\n                      %s long name\n", i, id, id, id)
		}
	}
	dir := filepath.Join(f.sys.procRoot, "asound")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "cards"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeSystem) open(path string) (device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if errs := f.openErrs[path]; len(errs) > 0 {
		f.openErrs[path] = errs[1:]
		return nil, errs[0]
	}
	var card int
	if _, err := fmt.Sscanf(path, "/dev/snd/controlC%d", &card); err == nil {
		if _, ok := f.cards[card]; ok {
			return &fakeCtl{sys: f, card: card}, nil
		}
		return nil, syscall.ENOENT
	}
	mk, ok := f.pcms[path]
	if !ok {
		return nil, syscall.ENOENT
	}
	p := mk()
	p.sys = f
	if f.onOpen != nil {
		f.onOpen(p)
	}
	f.opened[path] = append(f.opened[path], p)
	return p, nil
}

// last is the most recently opened substream at path.
func (f *fakeSystem) last(t *testing.T, path string) *fakePCM {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	ps := f.opened[path]
	if len(ps) == 0 {
		t.Fatalf("%s was never opened", path)
	}
	return ps[len(ps)-1]
}
