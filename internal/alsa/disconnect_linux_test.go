package alsa

import (
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
)

// disconnects are the errno sequences a stream runs into when its card is disconnected
// under it (sound/core/init.c snd_card_disconnect, pcm.c snd_pcm_dev_disconnect): an ioctl
// that entered before the card swapped in its dummy file operations sees the state
// DISCONNECTED and answers EBADFD, one that enters after answers ENODEV.
var disconnects = []struct {
	name      string
	xfer      []error             // what the transfers answer
	ctl       map[uintptr][]error // what the recovery's ioctls answer
	wantErrno syscall.Errno       // the kernel's last word, kept in the error
	wantXruns uint64
}{
	{"ENODEV from the transfer", []error{syscall.ENODEV}, nil, syscall.ENODEV, 0},
	{"EBADFD, then PREPARE EBADFD", []error{syscall.EBADFD}, map[uintptr][]error{ioctlPrepare: {syscall.EBADFD}}, syscall.EBADFD, 0},
	{"EBADFD, then PREPARE ENODEV", []error{syscall.EBADFD}, map[uintptr][]error{ioctlPrepare: {syscall.ENODEV}}, syscall.ENODEV, 0},
	{"xrun, then PREPARE ENODEV", []error{syscall.EPIPE}, map[uintptr][]error{ioctlPrepare: {syscall.ENODEV}}, syscall.ENODEV, 1},
	{"xrun, then PREPARE EBADFD", []error{syscall.EPIPE}, map[uintptr][]error{ioctlPrepare: {syscall.EBADFD}}, syscall.EBADFD, 1},
	{"suspend, RESUME ENODEV, PREPARE ENODEV", []error{syscall.ESTRPIPE}, map[uintptr][]error{ioctlResume: {syscall.ENODEV}, ioctlPrepare: {syscall.ENODEV}}, syscall.ENODEV, 0},
}

func (f *fakePCM) script(xfer []error, ctl map[uintptr][]error) {
	f.mu.Lock()
	f.xferErrs = append(f.xferErrs, xfer...)
	f.mu.Unlock()
	for req, errs := range ctl {
		f.failNext(req, errs...)
	}
}

func isClosed(f *fakePCM) bool {
	select {
	case <-f.closed:
		return true
	default:
		return false
	}
}

func TestDisconnectedReopens(t *testing.T) {
	for _, s := range []Stream{Capture, Playback} {
		for _, tc := range disconnects {
			t.Run(s.String()+"/"+tc.name, func(t *testing.T) {
				clk := clocktest.NewClock(time.Unix(1_700_000_000, 0))
				p, fs, f := openFake(t, s, Config{Rate: 16000}, WithClock(clk), WithReopen(100*time.Millisecond, time.Second))
				path := pcmPath(0, 0, s)
				fs.openErrs[path] = []error{syscall.ENOENT} // still gone at the first attempt
				f.script(tc.xfer, tc.ctl)
				var goneWhileWaiting, closedWhileWaiting []bool
				clk.OnSleep(func() {
					goneWhileWaiting = append(goneWhileWaiting, p.Gone())
					closedWhileWaiting = append(closedWhileWaiting, isClosed(f))
				})
				buf := make([]byte, 64)
				var n int
				var err error
				if s == Capture {
					n, err = p.ReadFrames(buf)
				} else {
					n, err = p.WriteFrames(buf)
				}
				if err != nil || n != 32 {
					t.Fatalf("transfer = %d, %v, want 32, nil (reopened)", n, err)
				}
				if !slices.Equal(goneWhileWaiting, []bool{true, true}) || p.Gone() {
					t.Errorf("Gone() while reopening = %v, after = %v; want [true true], then false", goneWhileWaiting, p.Gone())
				}
				if !slices.Equal(closedWhileWaiting, []bool{true, true}) {
					t.Errorf("disconnected file closed while waiting = %v, want [true true]", closedWhileWaiting)
				}
				if got := len(fs.opened[path]); got != 2 {
					t.Errorf("substream opened %d times, want 2", got)
				}
				if got := p.Xruns(); got != tc.wantXruns {
					t.Errorf("Xruns() = %d, want %d", got, tc.wantXruns)
				}
			})
		}
	}
}

func TestDisconnectedWithoutReopen(t *testing.T) {
	for _, tc := range disconnects {
		t.Run(tc.name, func(t *testing.T) {
			p, fs, f := openFake(t, Capture, Config{}, WithClock(clocktest.NewClock(time.Unix(1_700_000_000, 0))))
			f.script(tc.xfer, tc.ctl)
			_, err := p.ReadFrames(make([]byte, 64))
			if !errors.Is(err, syscall.ENODEV) || !errors.Is(err, tc.wantErrno) {
				t.Errorf("ReadFrames error = %v, want one that is ENODEV and %v", err, tc.wantErrno)
			}
			if !p.Gone() || !isClosed(f) {
				t.Errorf("Gone() = %v, file closed = %v; want both true", p.Gone(), isClosed(f))
			}
			if _, err := p.ReadFrames(make([]byte, 64)); !errors.Is(err, syscall.ENODEV) {
				t.Errorf("ReadFrames after the loss = %v, want ENODEV", err)
			}
			if got := len(fs.opened[pcmPath(0, 0, Capture)]); got != 1 {
				t.Errorf("substream opened %d times, want 1 (no WithReopen)", got)
			}
			if err := p.Close(); err != nil {
				t.Errorf("Close after the loss = %v", err)
			}
		})
	}
}

// Failures that do not mean a disconnect must not close the device.
func TestNotDisconnected(t *testing.T) {
	for _, tc := range []struct {
		name string
		xfer []error
		ctl  map[uintptr][]error
		want syscall.Errno
	}{
		{"PREPARE EIO after an xrun", []error{syscall.EPIPE}, map[uintptr][]error{ioctlPrepare: {syscall.EIO}}, syscall.EIO},
		{"transfer EIO", []error{syscall.EIO}, nil, syscall.EIO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _, f := openFake(t, Capture, Config{}, WithClock(clocktest.NewClock(time.Unix(1_700_000_000, 0))), WithReopen(time.Millisecond, time.Millisecond))
			f.script(tc.xfer, tc.ctl)
			_, err := p.ReadFrames(make([]byte, 64))
			if !errors.Is(err, tc.want) || errors.Is(err, syscall.ENODEV) {
				t.Errorf("ReadFrames error = %v, want %v and not ENODEV", err, tc.want)
			}
			if p.Gone() || isClosed(f) {
				t.Errorf("Gone() = %v, file closed = %v; want both false", p.Gone(), isClosed(f))
			}
		})
	}
}

// Calls from other goroutines tell a disconnected device as ENODEV too, keeping the
// kernel's errno, but leave closing it to the transferring goroutine.
func TestDisconnectedControl(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ctl      map[uintptr][]error
		call     func(*PCM) error
		wantGone bool
		want     syscall.Errno
	}{
		{"Status EBADFD", map[uintptr][]error{ioctlStatus: {syscall.EBADFD}}, func(p *PCM) error { _, err := p.Status(); return err }, true, syscall.EBADFD},
		{"Status ENODEV", map[uintptr][]error{ioctlStatus: {syscall.ENODEV}}, func(p *PCM) error { _, err := p.Status(); return err }, true, syscall.ENODEV},
		{"Drop EBADFD", map[uintptr][]error{ioctlDrop: {syscall.EBADFD}}, (*PCM).Drop, true, syscall.EBADFD},
		{"Drop, then PREPARE ENODEV", map[uintptr][]error{ioctlPrepare: {syscall.ENODEV}}, (*PCM).Drop, true, syscall.ENODEV},
		{"Drain ENODEV", map[uintptr][]error{ioctlDrain: {syscall.ENODEV}}, (*PCM).Drain, true, syscall.ENODEV},
		{"Pause ENODEV", map[uintptr][]error{ioctlPause: {syscall.ENODEV}}, func(p *PCM) error { return p.Pause(true) }, true, syscall.ENODEV},
		// PAUSE answers EBADFD to a stream that is not running: not a disconnect.
		{"Pause EBADFD", map[uintptr][]error{ioctlPause: {syscall.EBADFD}}, func(p *PCM) error { return p.Pause(true) }, false, syscall.EBADFD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _, f := openFake(t, Playback, Config{}, WithClock(clocktest.NewClock(time.Unix(1_700_000_000, 0))))
			f.script(nil, tc.ctl)
			err := tc.call(p)
			if !errors.Is(err, tc.want) || errors.Is(err, syscall.ENODEV) != tc.wantGone {
				t.Errorf("error = %v, want %v, ENODEV %v", err, tc.want, tc.wantGone)
			}
			if p.Gone() || isClosed(f) {
				t.Errorf("Gone() = %v, file closed = %v; want both false until a transfer finds out", p.Gone(), isClosed(f))
			}
		})
	}
}

// An idle playback loop on a stream that fills silence calls only CatchUp: it must find
// an unplugged card as a transfer does (close its file, and reopen it), and must not take a
// stopped stream for one.
func TestCatchUpDisconnected(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ctl      map[uintptr][]error
		wantGone bool
	}{
		{"DELAY ENODEV", map[uintptr][]error{ioctlDelay: {syscall.ENODEV}}, true},
		{"DELAY EBADFD, STATUS EBADFD", map[uintptr][]error{ioctlDelay: {syscall.EBADFD}, ioctlStatus: {syscall.EBADFD}}, true},
		{"DELAY EBADFD, STATUS ENODEV", map[uintptr][]error{ioctlDelay: {syscall.EBADFD}, ioctlStatus: {syscall.ENODEV}}, true},
		{"stopped: DELAY EBADFD, STATUS fine", map[uintptr][]error{ioctlDelay: {syscall.EBADFD}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktest.NewClock(time.Unix(1_700_000_000, 0))
			p, fs, f := openFake(t, Playback, Config{Rate: 16000}, WithClock(clk), WithReopen(100*time.Millisecond, time.Second))
			f.mu.Lock()
			f.delayVal = -100
			f.mu.Unlock()
			f.script(nil, tc.ctl)
			d, err := p.CatchUp()
			if err != nil || d != 0 {
				t.Fatalf("CatchUp = %d, %v; want 0, nil", d, err)
			}
			path := pcmPath(0, 0, Playback)
			opens := len(fs.opened[path])
			if tc.wantGone != (opens == 2) || tc.wantGone != isClosed(f) {
				t.Errorf("opened %d times, first file closed %v; want reopened: %v", opens, isClosed(f), tc.wantGone)
			}
		})
	}
	// Without WithReopen the error says the device is gone.
	p, _, f := openFake(t, Playback, Config{Rate: 16000})
	f.script(nil, map[uintptr][]error{ioctlDelay: {syscall.ENODEV}})
	if _, err := p.CatchUp(); !errors.Is(err, syscall.ENODEV) || !isClosed(f) {
		t.Errorf("CatchUp on a gone card without reopen = %v, file closed %v; want ENODEV, true", err, isClosed(f))
	}
}
