package alsa

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
	"github.com/voiced-project/voiced/internal/race"
)

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		name string
		caps fakeCaps
		cfg  Config
		want Params
	}{
		{
			name: "exact match",
			caps: loopbackCaps,
			cfg:  Config{Rate: 16000, Channels: 1, PeriodMs: 20, BufferMs: 80},
			want: Params{Format: S16LE, Channels: 1, Rate: 16000, PeriodFrames: 320, BufferFrames: 1280},
		},
		{
			name: "rate rounds to nearest offered, up",
			caps: fakeCaps{formats: []int{fmtS16LE}, chMin: 2, chMax: 2, rates: []uint32{44100, 48000}, periodMin: 16, periodMax: 8192, bufferMin: 32, bufferMax: 65536},
			cfg:  Config{Rate: 16000, Channels: 1, PeriodMs: 10, BufferMs: 40},
			want: Params{Format: S16LE, Channels: 2, Rate: 44100, PeriodFrames: 441, BufferFrames: 1764},
		},
		{
			name: "rate rounds to nearest offered, down",
			caps: fakeCaps{formats: []int{fmtS16LE}, chMin: 1, chMax: 2, rates: []uint32{16000, 44100}, periodMin: 16, periodMax: 8192, bufferMin: 32, bufferMax: 65536},
			cfg:  Config{Rate: 24000, Channels: 1, PeriodMs: 20, BufferMs: 40},
			want: Params{Format: S16LE, Channels: 1, Rate: 16000, PeriodFrames: 320, BufferFrames: 640},
		},
		{
			name: "32-bit only I2S microphone",
			caps: fakeCaps{formats: []int{fmtS32LE}, chMin: 2, chMax: 2, rates: []uint32{8000, 16000, 48000}, periodMin: 32, periodMax: 8192, bufferMin: 64, bufferMax: 65536},
			cfg:  Config{Rate: 16000, Channels: 1, PeriodMs: 20, BufferMs: 80},
			want: Params{Format: S32LE, Channels: 2, Rate: 16000, PeriodFrames: 320, BufferFrames: 1280},
		},
		{
			name: "S24_3LE USB device",
			caps: fakeCaps{formats: []int{0, fmtS24_3LE}, chMin: 1, chMax: 1, rates: []uint32{48000}, periodMin: 48, periodMax: 48000, bufferMin: 96, bufferMax: 96000},
			cfg:  Config{Rate: 48000, Channels: 1, PeriodMs: 20, BufferMs: 60},
			want: Params{Format: S24_3LE, Channels: 1, Rate: 48000, PeriodFrames: 960, BufferFrames: 2880},
		},
		{
			name: "S16 preferred over S24 and S32",
			caps: fakeCaps{formats: []int{fmtS16LE, fmtS24LE, fmtS32LE}, chMin: 1, chMax: 8, rates: []uint32{48000}, periodMin: 16, periodMax: 8192, bufferMin: 32, bufferMax: 65536},
			cfg:  Config{Rate: 48000, Channels: 2, PeriodMs: 10, BufferMs: 40},
			want: Params{Format: S16LE, Channels: 2, Rate: 48000, PeriodFrames: 480, BufferFrames: 1920},
		},
		{
			name: "configured format wins when offered",
			caps: fakeCaps{formats: []int{fmtS16LE, fmtS24LE, fmtS32LE}, chMin: 1, chMax: 8, rates: []uint32{48000}, periodMin: 16, periodMax: 8192, bufferMin: 32, bufferMax: 65536},
			cfg:  Config{Rate: 48000, Channels: 2, PeriodMs: 10, BufferMs: 40, Format: S24LE},
			want: Params{Format: S24LE, Channels: 2, Rate: 48000, PeriodFrames: 480, BufferFrames: 1920},
		},
		{
			name: "period and buffer clamp to the device maximum",
			caps: fakeCaps{formats: []int{fmtS16LE}, chMin: 1, chMax: 2, rates: []uint32{48000}, periodMin: 64, periodMax: 1024, bufferMin: 128, bufferMax: 4096},
			cfg:  Config{Rate: 48000, Channels: 1, PeriodMs: 50, BufferMs: 200},
			want: Params{Format: S16LE, Channels: 1, Rate: 48000, PeriodFrames: 1024, BufferFrames: 4096},
		},
		{
			name: "channels above the maximum",
			caps: fakeCaps{formats: []int{fmtS16LE}, chMin: 1, chMax: 1, rates: []uint32{16000}, periodMin: 16, periodMax: 8192, bufferMin: 32, bufferMax: 65536},
			cfg:  Config{Rate: 16000, Channels: 2, PeriodMs: 20, BufferMs: 80},
			want: Params{Format: S16LE, Channels: 1, Rate: 16000, PeriodFrames: 320, BufferFrames: 1280},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakePCM(tc.caps)
			c, err := tc.cfg.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			_, got, err := negotiate(d, c)
			if err != nil {
				t.Fatalf("negotiate(%+v) error: %v", tc.cfg, err)
			}
			if got != tc.want {
				t.Errorf("negotiate(%+v) = %v, want %v", tc.cfg, got, tc.want)
			}
		})
	}
}

func TestNegotiateErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		caps fakeCaps
		want string
	}{
		{"float only", fakeCaps{formats: []int{14}, chMin: 1, chMax: 2, rates: []uint32{48000}, periodMin: 16, periodMax: 8192, bufferMin: 32, bufferMax: 65536}, "device offers none of S16_LE, S32_LE, S24_LE, S24_3LE (it offers FLOAT_LE)"},
		{"mmap only", fakeCaps{formats: []int{fmtS16LE}, noInterleaved: true, chMin: 1, chMax: 2, rates: []uint32{48000}, periodMin: 16, periodMax: 8192, bufferMin: 32, bufferMax: 65536}, "device offers no interleaved read/write access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := Config{}.withDefaults()
			_, _, err := negotiate(newFakePCM(tc.caps), c)
			if err == nil || err.Error() != tc.want {
				t.Errorf("negotiate error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSWParams(t *testing.T) {
	for _, tc := range []struct {
		name      string
		s         Stream
		noSilence bool
		wantStart uint
		wantStop  uint // 0: the boundary
		wantFills bool
		wantCalls []string
	}{
		{"capture", Capture, false, 1, 1280, false, []string{"user_pversion", "hw_params", "sw_params", "prepare"}},
		// Free-running: never stops, the kernel fills silence, starts on a period.
		{"playback", Playback, false, 320, 0, true, []string{"user_pversion", "hw_params", "sw_params", "sw_params", "prepare"}},
		// A kernel that refuses silence filling keeps the classic parameters.
		{"playback without silence filling", Playback, true, 640, 1280, false, []string{"user_pversion", "hw_params", "sw_params", "failed sw_params", "prepare"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, f := openFakeFill(t, tc.s, tc.noSilence)
			bound := f.boundaryLocked()
			if bound < 1<<20 || bound%1280 != 0 {
				t.Fatalf("fake boundary %d", bound)
			}
			wantStop, wantSilence := tc.wantStop, uint(0)
			if wantStop == 0 {
				wantStop, wantSilence = bound, bound
			}
			if f.sw.AvailMin != 320 || f.sw.StartThreshold != tc.wantStart || f.sw.StopThreshold != wantStop ||
				f.sw.SilenceThreshold != 0 || f.sw.SilenceSize != wantSilence {
				t.Errorf("sw_params avail_min %d start %d stop %d silence %d/%d, want 320 %d %d 0/%d",
					f.sw.AvailMin, f.sw.StartThreshold, f.sw.StopThreshold, f.sw.SilenceThreshold, f.sw.SilenceSize, tc.wantStart, wantStop, wantSilence)
			}
			if got := f.callLog(); !slices.Equal(got, tc.wantCalls) {
				t.Errorf("ioctls = %v, want %v", got, tc.wantCalls)
			}
			if got := p.FillsSilence(); got != tc.wantFills {
				t.Errorf("FillsSilence = %v, want %v", got, tc.wantFills)
			}
		})
	}
}

func TestCatchUp(t *testing.T) {
	for _, tc := range []struct {
		name      string
		noSilence bool
		delay     int
		want      int
		wantCalls []string
	}{
		// Behind by 5000 frames: skip exactly that far, to what plays now.
		{"behind", false, -5000, 0, []string{"forward 5000"}},
		{"queued", false, 400, 400, nil},
		{"empty", false, 0, 0, nil},
		// A stream that stops on underrun is never behind: nothing to skip.
		{"not free-running", true, -5000, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, f := openFakeFill(t, Playback, tc.noSilence)
			f.mu.Lock()
			f.delayVal, f.calls = tc.delay, nil
			f.mu.Unlock()
			got, err := p.CatchUp()
			if err != nil || got != tc.want {
				t.Errorf("CatchUp = %d, %v; want %d", got, err, tc.want)
			}
			if calls := f.callLog(); !slices.Equal(calls, tc.wantCalls) {
				t.Errorf("ioctls = %v, want %v", calls, tc.wantCalls)
			}
		})
	}
	// A failing FORWARD is an error naming it.
	p, f := openFakeFill(t, Playback, false)
	f.mu.Lock()
	f.delayVal = -10
	f.mu.Unlock()
	f.failNext(ioctlForward, syscall.EIO)
	if _, err := p.CatchUp(); err == nil || !strings.Contains(err.Error(), "forward 10 frames") {
		t.Errorf("CatchUp with FORWARD failing = %v, want an error naming forward", err)
	}
}

func TestOpenNames(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		s          Stream
		prefer     []int
	}{
		{"hw:1,0", "/dev/snd/pcmC1D0c", Capture, nil},
		{"hw:CARD=Loopback,DEV=1", "/dev/snd/pcmC1D1c", Capture, nil},
		{"plughw:CARD=USB,DEV=0", "/dev/snd/pcmC2D0p", Playback, nil},
		{"hw:Loopback,1,0", "/dev/snd/pcmC1D1c", Capture, []int{0}},
		{"hw:CARD=loopback,DEV=0,SUBDEV=1", "/dev/snd/pcmC1D0p", Playback, []int{1}},
		{"default", "/dev/snd/pcmC1D0c", Capture, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeSystem(t)
			fs.addCard(t, 1, "Loopback", loopbackCaps, 0, 1)
			fs.addCard(t, 2, "USB", loopbackCaps, 0)
			p, err := Open(tc.name, tc.s, Config{}, withSystem(fs.sys))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if len(fs.opened[tc.path]) != 1 {
				t.Errorf("Open(%q) did not open %s; opened %v", tc.name, tc.path, reflect.ValueOf(fs.opened).MapKeys())
			}
			if !slices.Equal(fs.preferred, tc.prefer) {
				t.Errorf("preferred subdevices = %v, want %v", fs.preferred, tc.prefer)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	fs := newFakeSystem(t)
	fs.addCard(t, 0, "Loopback", loopbackCaps, 0)
	for _, tc := range []struct {
		name string
		want string
	}{
		{"hw:CARD=Nope,DEV=0", "no card \"Nope\" (cards: Loopback)"},
		{"hw:0,7", "no capture device 7 on card 0 (/dev/snd/pcmC0D7c does not exist; `voiced devices` lists what there is): no such file or directory"},
		{"hw:", "alsa: device \"hw:\": empty card"},
		{"hw:0,x", "alsa: device \"hw:0,x\": DEV=\"x\" is not a number"},
		{"pulse", "alsa: device \"pulse\": want hw:CARD,DEV, plughw:CARD,DEV, default or file:PATH.wav"},
	} {
		_, err := Open(tc.name, Capture, Config{}, withSystem(fs.sys))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) error = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	if _, err := Open("hw:0,0", Capture, Config{Rate: 5}, withSystem(fs.sys)); err == nil {
		t.Error("Open with rate 5 succeeded, want an error")
	}
}

func TestOpenBusyNamesHolder(t *testing.T) {
	fs := newFakeSystem(t)
	fs.addCard(t, 0, "Loopback", loopbackCaps, 0)
	path := pcmPath(0, 0, Capture)
	fs.openErrs[path] = []error{syscall.EBUSY}
	sub := filepath.Join(fs.sys.procRoot, "asound", "card0", "pcm0c", "sub0")
	os.MkdirAll(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "status"), []byte("state: RUNNING\nowner_pid   : 4250\ntrigger_time: 1.0\n"), 0o644)
	// owner_pid is the opening thread; its Tgid is the process.
	os.MkdirAll(filepath.Join(fs.sys.procRoot, "4242"), 0o755)
	os.WriteFile(filepath.Join(fs.sys.procRoot, "4242", "comm"), []byte("pulseaudio\n"), 0o644)
	os.MkdirAll(filepath.Join(fs.sys.procRoot, "4250"), 0o755)
	os.WriteFile(filepath.Join(fs.sys.procRoot, "4250", "status"), []byte("Name:\tpulseaudio\nTgid:\t4242\nPid:\t4250\n"), 0o644)

	_, err := Open("hw:0,0", Capture, Config{}, withSystem(fs.sys))
	var busy *BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("Open error = %v, want a *BusyError", err)
	}
	if busy.PID != 4242 || busy.Command != "pulseaudio" {
		t.Errorf("BusyError = %+v, want pid 4242 pulseaudio", busy)
	}
	if !errors.Is(err, syscall.EBUSY) {
		t.Errorf("errors.Is(%v, EBUSY) = false", err)
	}
	if want := "device hw:0,0 (/dev/snd/pcmC0D0c) is busy: held by pid 4242 (pulseaudio); stop the sound server"; !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
}

func openFake(t *testing.T, s Stream, cfg Config, opts ...Option) (*PCM, *fakeSystem, *fakePCM) {
	t.Helper()
	fs := newFakeSystem(t)
	fs.addCard(t, 0, "Loopback", loopbackCaps, 0)
	p, err := Open("hw:0,0", s, cfg, append([]Option{withSystem(fs.sys)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, fs, fs.last(t, pcmPath(0, 0, s))
}

// openFakeFill opens a stream of 20 ms periods in an 80 ms buffer on a fake card whose
// sw_params refuses silence filling if noSilence.
func openFakeFill(t *testing.T, s Stream, noSilence bool) (*PCM, *fakePCM) {
	t.Helper()
	fs := newFakeSystem(t)
	fs.addCard(t, 0, "Loopback", loopbackCaps, 0)
	fs.onOpen = func(f *fakePCM) { f.noSilence = noSilence }
	p, err := Open("hw:0,0", s, Config{Rate: 16000, PeriodMs: 20, BufferMs: 80}, withSystem(fs.sys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, fs.last(t, pcmPath(0, 0, s))
}

func TestReadFramesXrun(t *testing.T) {
	for _, tc := range []struct {
		name      string
		errs      []error
		resume    []error
		wantXruns uint64
		wantCalls []string
	}{
		{"overrun", []error{syscall.EPIPE}, nil, 1, []string{"prepare"}},
		{"two overruns", []error{syscall.EPIPE, syscall.EPIPE}, nil, 2, []string{"prepare", "prepare"}},
		{"suspend resumed", []error{syscall.ESTRPIPE}, []error{syscall.EAGAIN}, 0, []string{"resume", "resume"}},
		{"suspend without resume", []error{syscall.ESTRPIPE}, []error{syscall.ENOSYS}, 0, []string{"resume", "prepare"}},
		{"dropped under us", []error{syscall.EBADFD}, nil, 0, []string{"prepare"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktest.NewClock(time.Unix(1_700_000_000, 0))
			p, _, f := openFake(t, Capture, Config{Rate: 16000, PeriodMs: 10}, WithClock(clk))
			before := len(f.callLog())
			f.xferErrs, f.resumeErr = tc.errs, tc.resume
			buf := make([]byte, 160*2)
			n, err := p.ReadFrames(buf)
			if err != nil || n != 160 {
				t.Fatalf("ReadFrames = %d, %v, want 160, nil", n, err)
			}
			if buf[0] != 0 || buf[319] != byte(319%256) {
				t.Errorf("data not delivered after recovery: %v...", buf[:4])
			}
			if got := p.Xruns(); got != tc.wantXruns {
				t.Errorf("Xruns() = %d, want %d", got, tc.wantXruns)
			}
			if got := f.callLog()[before:]; !slices.Equal(got, tc.wantCalls) {
				t.Errorf("recovery ioctls = %v, want %v", got, tc.wantCalls)
			}
		})
	}
}

func TestWriteFramesUnderrun(t *testing.T) {
	p, _, f := openFake(t, Playback, Config{Rate: 48000, Channels: 2, PeriodMs: 10})
	f.written = make([]byte, 0, 4096)
	f.xferErrs = []error{syscall.EPIPE}
	buf := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	n, err := p.WriteFrames(buf)
	if err != nil || n != 2 {
		t.Fatalf("WriteFrames = %d, %v, want 2, nil", n, err)
	}
	if !slices.Equal(f.written, buf) {
		t.Errorf("written %v, want %v", f.written, buf)
	}
	if p.Xruns() != 1 {
		t.Errorf("Xruns() = %d, want 1", p.Xruns())
	}
}

func TestRecoveryGivesUp(t *testing.T) {
	p, _, f := openFake(t, Capture, Config{})
	for range maxRecoveries + 1 {
		f.xferErrs = append(f.xferErrs, syscall.EPIPE)
	}
	_, err := p.ReadFrames(make([]byte, 64))
	if !errors.Is(err, syscall.EPIPE) {
		t.Errorf("ReadFrames error = %v, want EPIPE after %d recoveries", err, maxRecoveries)
	}
}

func TestENODEVWithoutReopen(t *testing.T) {
	p, _, f := openFake(t, Capture, Config{})
	f.xferErrs = []error{syscall.ENODEV}
	_, err := p.ReadFrames(make([]byte, 64))
	if !errors.Is(err, syscall.ENODEV) {
		t.Errorf("ReadFrames error = %v, want ENODEV", err)
	}
}

func TestENODEVReopens(t *testing.T) {
	clk := clocktest.NewClock(time.Unix(1_700_000_000, 0))
	p, fs, f := openFake(t, Capture, Config{Rate: 16000}, WithClock(clk), WithReopen(100*time.Millisecond, 300*time.Millisecond))
	path := pcmPath(0, 0, Capture)
	f.xferErrs = []error{syscall.ENODEV}
	fs.openErrs[path] = []error{syscall.ENOENT, syscall.ENOENT, syscall.ENOENT}
	var goneWhileWaiting []bool
	clk.OnSleep(func() { goneWhileWaiting = append(goneWhileWaiting, p.Gone()) })
	if p.Gone() {
		t.Errorf("Gone() before the device vanished")
	}
	buf := make([]byte, 64)
	n, err := p.ReadFrames(buf)
	if err != nil || n != 32 {
		t.Fatalf("ReadFrames = %d, %v, want 32, nil", n, err)
	}
	if !slices.Equal(goneWhileWaiting, []bool{true, true, true, true}) || p.Gone() {
		t.Errorf("Gone() while reopening = %v, after = %v; want true each time, then false", goneWhileWaiting, p.Gone())
	}
	if got, want := clk.Slept(), []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond}; !slices.Equal(got, want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
	if got := len(fs.opened[path]); got != 2 {
		t.Errorf("substream opened %d times, want 2", got)
	}
	select {
	case <-f.closed:
	default:
		t.Error("the vanished device was not closed")
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	p, _, f := openFake(t, Capture, Config{})
	f.mu.Lock()
	f.block = true
	f.mu.Unlock()
	done := make(chan error)
	go func() {
		_, err := p.ReadFrames(make([]byte, 64))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the reader block; the test passes either way
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("ReadFrames after Close = %v, want ErrClosed", err)
	}
	if _, err := p.ReadFrames(make([]byte, 64)); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadFrames on a closed PCM = %v, want ErrClosed", err)
	}
}

func TestDelayDropPause(t *testing.T) {
	p, _, f := openFake(t, Playback, Config{})
	f.delayVal = 777
	if d, err := p.Delay(); err != nil || d != 777 {
		t.Errorf("Delay() = %d, %v, want 777", d, err)
	}
	st, err := p.Status()
	if err != nil || st.State != "PREPARED" || st.Delay != 777 || st.Avail != 7 {
		t.Errorf("Status() = %+v, %v", st, err)
	}
	before := len(f.callLog())
	if err := p.Drop(); err != nil {
		t.Fatal(err)
	}
	if err := p.Pause(true); err != nil {
		t.Fatal(err)
	}
	if got, want := f.callLog()[before:], []string{"drop", "prepare", "pause 1"}; !slices.Equal(got, want) {
		t.Errorf("ioctls = %v, want %v", got, want)
	}
}

func TestTransferAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector allocates")
	}
	rp, _, _ := openFake(t, Capture, Config{Rate: 16000, PeriodMs: 20})
	wp, _, wf := openFake(t, Playback, Config{Rate: 16000, PeriodMs: 20})
	wf.written = make([]byte, 0, 1<<20)
	buf := make([]byte, rp.Params().PeriodFrames*rp.Params().FrameBytes())
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"ReadFrames", func() { rp.ReadFrames(buf) }},
		{"WriteFrames", func() { wp.WriteFrames(buf) }},
		{"Delay", func() { wp.Delay() }},
	} {
		if got := testing.AllocsPerRun(100, tc.f); got != 0 {
			t.Errorf("%s: %v allocs per period, want 0", tc.name, got)
		}
	}
}

func TestList(t *testing.T) {
	fs := newFakeSystem(t)
	fs.addCard(t, 0, "Loopback", loopbackCaps, 0, 1)
	fs.addCard(t, 1, "Mic", fakeCaps{formats: []int{fmtS32LE, 14}, chMin: 2, chMax: 2, rates: []uint32{16000, 48000}, periodMin: 32, periodMax: 4096, bufferMin: 64, bufferMax: 16384}, 0)
	fs.openErrs[pcmPath(1, 0, Playback)] = []error{syscall.EBUSY}
	cards, err := List(withSystem(fs.sys))
	if err != nil {
		t.Fatal(err)
	}
	if len(cards) != 2 || len(cards[0].Devices) != 4 || len(cards[1].Devices) != 2 {
		t.Fatalf("List() = %+v, want 2 cards with 4 and 2 devices", cards)
	}
	if c := cards[0]; c.ID != "Loopback" || c.Name != "Loopback name" || c.HWName(c.Devices[2]) != "hw:CARD=Loopback,DEV=1" {
		t.Errorf("card 0 = %+v", c)
	}
	mic := cards[1].Devices[1]
	want := Caps{Formats: []Format{S32LE}, OtherFormats: "FLOAT_LE", MinChannels: 2, MaxChannels: 2, MinRate: 16000, MaxRate: 48000,
		Rates: []int{16000, 48000}, MinPeriod: 32, MaxPeriod: 4096, MinBuffer: 64, MaxBuffer: 16384}
	if mic.Stream != Capture || !reflect.DeepEqual(mic.Caps, want) {
		t.Errorf("mic capture caps = %+v, want %+v", mic.Caps, want)
	}
	var busy *BusyError
	if d := cards[1].Devices[0]; !errors.As(d.CapsErr, &busy) {
		t.Errorf("busy playback device CapsErr = %v, want *BusyError", d.CapsErr)
	}
}
