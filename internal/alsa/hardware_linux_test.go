package alsa

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/race"
)

// Hardware tests run against a real kernel with snd-aloop loaded as card 0
// (modprobe snd-aloop index=0 pcm_substreams=2), where what is played to hw:Loopback,0,N
// is captured from hw:Loopback,1,N. They are skipped unless VOICED_HW_TEST=1.

func needHW(t *testing.T) {
	t.Helper()
	if os.Getenv("VOICED_HW_TEST") != "1" {
		t.Skip("set VOICED_HW_TEST=1 to run against snd-aloop")
	}
}

// openLoopbackPair opens capture on hw:Loopback,1,0 and playback on hw:Loopback,0,0, the
// two ends of one loopback cable, in S16_LE with 20 ms periods and a 500 ms buffer
// (generous: emulated guests are slow).
func openLoopbackPair(t *testing.T, rate, channels int) (capt, play *PCM) {
	t.Helper()
	cfg := Config{Rate: rate, Channels: channels, PeriodMs: 20, BufferMs: 500, Format: S16LE}
	capt, err := Open("hw:Loopback,1,0", Capture, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { capt.Close() })
	play, err = Open("hw:Loopback,0,0", Playback, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { play.Close() })
	return capt, play
}

// signal makes frames of nonzero pseudo-random samples, so that dropping the all-zero
// frames snd-aloop inserts leaves exactly what was played.
func signal(frames, channels int) []int16 {
	s := make([]int16, frames*channels)
	x := uint32(12345)
	for i := range s {
		x = x*1664525 + 1013904223
		v := int16(x >> 16)
		if v == 0 {
			v = 1
		}
		s[i] = v / 2
	}
	return s
}

func TestHWLoopback(t *testing.T) {
	needHW(t)
	for _, tc := range []struct {
		rate, channels int
	}{
		{16000, 1},
		{48000, 2},
	} {
		t.Run(fmt.Sprintf("%dHz_%dch", tc.rate, tc.channels), func(t *testing.T) {
			capt, play := openLoopbackPair(t, tc.rate, tc.channels)
			want := Params{Format: S16LE, Channels: tc.channels, Rate: tc.rate, PeriodFrames: tc.rate / 50, BufferFrames: tc.rate / 2}
			for _, p := range []*PCM{capt, play} {
				if got := p.Params(); got != want {
					t.Errorf("%s Params() = %v, want %v", p.Name(), got, want)
				}
			}
			par := play.Params()
			sent := signal(par.Rate/2, par.Channels) // half a second
			// Run the capture side first: snd-aloop discards what is played while it is stopped.
			raw := make([]byte, 2*par.Rate*par.FrameBytes()) // two seconds
			if _, err := capt.ReadFrames(raw[:par.PeriodFrames*par.FrameBytes()]); err != nil {
				t.Fatal(err)
			}
			playErr := make(chan error, 1)
			var maxDelay int
			go func() {
				buf := make([]byte, par.PeriodFrames*par.FrameBytes())
				step := par.PeriodFrames * par.Channels
				for i := 0; i < len(sent); i += step {
					n := S16LE.FromInt16(buf, sent[i:min(i+step, len(sent))])
					if _, err := play.WriteFrames(buf[:n*2]); err != nil {
						playErr <- err
						return
					}
					if d, err := play.Delay(); err == nil {
						maxDelay = max(maxDelay, d)
					}
				}
				clear(buf)
				for range 20 { // trailing silence pushes the signal through
					if _, err := play.WriteFrames(buf); err != nil {
						playErr <- err
						return
					}
				}
				playErr <- play.Drain()
			}()
			// Capture into one big buffer first: under emulation, work between reads
			// would make the reader fall behind.
			for off := 0; off < len(raw); {
				n, err := capt.ReadFrames(raw[off:min(off+par.PeriodFrames*par.FrameBytes(), len(raw))])
				if err != nil {
					t.Fatal(err)
				}
				off += n * par.FrameBytes()
			}
			if err := <-playErr; err != nil {
				t.Fatalf("playback: %v", err)
			}
			all := make([]int16, len(raw)/2)
			S16LE.ToInt16(all, raw)
			var got []int16
			for f := 0; f < len(all); f += par.Channels {
				if fr := all[f : f+par.Channels]; slices.ContainsFunc(fr, func(v int16) bool { return v != 0 }) {
					got = append(got, fr...)
				}
			}
			found, notes := matchSignal(got, sent, 32*par.Channels)
			for _, n := range notes {
				t.Log(n)
			}
			if want := len(sent); found != want {
				t.Fatalf("found %d of %d played samples in the capture, in order (xruns: capture %d, playback %d)", found, want, capt.Xruns(), play.Xruns())
			}
			if maxDelay <= 0 || maxDelay > par.BufferFrames {
				t.Errorf("playback Delay() peaked at %d, want 1..%d", maxDelay, par.BufferFrames)
			}
			t.Logf("%d frames at %d Hz x %d came through; playback delay up to %d frames; xruns capture %d playback %d",
				len(sent)/par.Channels, par.Rate, par.Channels, maxDelay, capt.Xruns(), play.Xruns())
		})
	}
}

// matchSignal looks for sent in got block by block, in order, tolerating audio in got
// that is not in sent (snd-aloop may insert some). It returns how many samples of sent
// were found and notes on what was inserted or missing.
func matchSignal(got, sent []int16, block int) (int, []string) {
	found, j := 0, 0
	var notes []string
	for i := 0; i < len(sent); i += block {
		b := sent[i:min(i+block, len(sent))]
		k := indexBlock(got[j:], b)
		if k < 0 {
			notes = append(notes, fmt.Sprintf("played samples %d..%d not captured", i, i+len(b)))
			continue
		}
		if k > 0 {
			notes = append(notes, fmt.Sprintf("%d samples inserted before played sample %d", k, i))
		}
		j += k + len(b)
		found += len(b)
	}
	if j < len(got) {
		notes = append(notes, fmt.Sprintf("%d nonzero samples after the signal", len(got)-j))
	}
	return found, notes
}

func indexBlock(s, b []int16) int {
	for k := 0; k+len(b) <= len(s); k++ {
		if s[k] == b[0] && slices.Equal(s[k:k+len(b)], b) {
			return k
		}
	}
	return -1
}

func TestHWXrunRecovered(t *testing.T) {
	needHW(t)
	capt, err := Open("hw:Loopback,1,1", Capture, Config{Rate: 16000, Channels: 1, PeriodMs: 10, BufferMs: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer capt.Close()
	buf := make([]byte, capt.Params().PeriodFrames*capt.Params().FrameBytes())
	for range 5 {
		if _, err := capt.ReadFrames(buf); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // the 40 ms buffer overruns
	for range 5 {
		if n, err := capt.ReadFrames(buf); err != nil || n != capt.Params().PeriodFrames {
			t.Fatalf("ReadFrames after the stall = %d, %v", n, err)
		}
	}
	if capt.Xruns() == 0 {
		t.Error("Xruns() = 0 after stalling the reader past the buffer, want at least 1")
	}
	t.Logf("xruns counted: %d", capt.Xruns())
}

func TestHWCloseUnblocksRead(t *testing.T) {
	needHW(t)
	capt, err := Open("hw:Loopback,1,1", Capture, Config{Rate: 8000, PeriodMs: 100, BufferMs: 400})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := capt.ReadFrames(make([]byte, 10*8000*2)) // ten seconds: blocks in the poller
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	capt.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("ReadFrames after Close = %v, want ErrClosed", err)
		}
		t.Logf("reader unblocked %v after Close", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFrames still blocked 5 s after Close")
	}
}

func TestHWBusy(t *testing.T) {
	needHW(t)
	a, err := Open("hw:Loopback,0,1", Playback, Config{Rate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = Open("hw:Loopback,0,1", Playback, Config{Rate: 16000})
	var busy *BusyError
	if !errors.As(err, &busy) || !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("second open = %v, want a *BusyError", err)
	}
	if busy.PID != os.Getpid() {
		t.Errorf("BusyError names pid %d, want ours (%d): %v", busy.PID, os.Getpid(), err)
	}
	t.Logf("%v", err)
}

func TestHWList(t *testing.T) {
	needHW(t)
	cards, err := List()
	if err != nil {
		t.Fatal(err)
	}
	var lb *Card
	for i := range cards {
		if cards[i].ID == "Loopback" {
			lb = &cards[i]
		}
	}
	if lb == nil {
		t.Fatalf("List() = %+v, want a card Loopback", cards)
	}
	if len(lb.Devices) != 4 {
		t.Errorf("Loopback has %d PCM streams, want 4 (2 devices x 2 directions)", len(lb.Devices))
	}
	for _, d := range lb.Devices {
		if d.CapsErr != nil {
			t.Errorf("%s %v: %v", lb.HWName(d), d.Stream, d.CapsErr)
			continue
		}
		if !slices.Contains(d.Caps.Formats, S16LE) || !slices.Contains(d.Caps.Rates, 16000) || !slices.Contains(d.Caps.Rates, 48000) {
			t.Errorf("%s %v caps = %+v, want S16_LE at 16000 and 48000", lb.HWName(d), d.Stream, d.Caps)
		}
		t.Logf("%s %v %q: %+v", lb.HWName(d), d.Stream, d.Name, d.Caps)
	}
}

func TestHWTransferAllocs(t *testing.T) {
	needHW(t)
	if race.Enabled {
		t.Skip("the race detector allocates")
	}
	capt, err := Open("hw:Loopback,1,1", Capture, Config{Rate: 16000, PeriodMs: 10, BufferMs: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer capt.Close()
	buf := make([]byte, capt.Params().PeriodFrames*capt.Params().FrameBytes())
	capt.ReadFrames(buf) // starts the stream
	if got := testing.AllocsPerRun(20, func() { capt.ReadFrames(buf); capt.Delay() }); got != 0 {
		t.Errorf("ReadFrames+Delay on the kernel: %v allocs per period, want 0", got)
	}
}

func TestHWPlaybackDropDrain(t *testing.T) {
	needHW(t)
	play, err := Open("hw:Loopback,0,1", Playback, Config{Rate: 16000, PeriodMs: 20, BufferMs: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer play.Close()
	par := play.Params()
	buf := make([]byte, par.PeriodFrames*par.FrameBytes())
	S16LE.FromInt16(buf, signal(par.PeriodFrames, 1))
	for range 8 { // past the start threshold of half the buffer
		if _, err := play.WriteFrames(buf); err != nil {
			t.Fatal(err)
		}
	}
	st, err := play.Status()
	if err != nil || st.State != "RUNNING" || st.Delay <= 0 {
		t.Fatalf("Status() while playing = %+v, %v, want RUNNING with a delay", st, err)
	}
	if err := play.Drop(); err != nil {
		t.Fatal(err)
	}
	if st, _ := play.Status(); st.State != "PREPARED" {
		t.Errorf("Status() after Drop = %+v, want PREPARED", st)
	}
	if d, err := play.Delay(); err != nil || d != 0 {
		t.Errorf("Delay() after Drop = %d, %v, want 0", d, err)
	}
	for range 8 {
		if _, err := play.WriteFrames(buf); err != nil {
			t.Fatalf("WriteFrames after Drop: %v", err)
		}
	}
	start := time.Now()
	if err := play.Drain(); err != nil {
		t.Fatal(err)
	}
	if st, _ := play.Status(); st.State != "PREPARED" {
		t.Errorf("Status() after Drain = %+v, want PREPARED", st)
	}
	t.Logf("drain took %v; xruns %d", time.Since(start), play.Xruns())
}

// A playback stream in free-running mode keeps running when nothing is written: no xrun,
// the application pointer falls behind the hardware's, and the kernel plays silence, not
// the stale contents of the buffer. CatchUp then moves the pointer up, and what is written
// next plays next, whole and in order.
func TestHWPlaybackFillsSilence(t *testing.T) {
	needHW(t)
	capt, play := openLoopbackPair(t, 16000, 1)
	if !play.FillsSilence() {
		t.Fatal("the kernel refused free-running playback with silence filling")
	}
	par := play.Params()
	fb := par.FrameBytes()
	a, b := signal(par.Rate/5, 1), signal(2*par.Rate/5+7, 1)[7:] // 200 and 400 ms, different
	raw := make([]byte, 3*par.Rate*fb)                           // three seconds
	if _, err := capt.ReadFrames(raw[:par.PeriodFrames*fb]); err != nil {
		t.Fatal(err)
	}
	captErr := make(chan error, 1)
	go func() {
		for off := 0; off < len(raw); {
			n, err := capt.ReadFrames(raw[off:min(off+par.PeriodFrames*fb, len(raw))])
			if err != nil {
				captErr <- err
				return
			}
			off += n * fb
		}
		captErr <- nil
	}()
	write := func(s []int16) {
		t.Helper()
		buf := make([]byte, len(s)*2)
		S16LE.FromInt16(buf, s)
		if _, err := play.WriteFrames(buf); err != nil {
			t.Fatal(err)
		}
	}
	write(a)
	time.Sleep(time.Second) // a plays out, then the stream runs dry for about 800 ms
	st, err := play.Status()
	if err != nil || st.State != "RUNNING" || st.Delay >= 0 {
		t.Fatalf("Status() after running dry = %+v, %v; want RUNNING with the write position behind (negative delay)", st, err)
	}
	d, err := play.CatchUp()
	if err != nil || d < 0 || d > par.PeriodFrames {
		t.Fatalf("CatchUp() = %d, %v; want 0 (up to a period of slack)", d, err)
	}
	write(make([]int16, 2*par.PeriodFrames)) // the lead the playback loop puts first
	write(b)
	// Written behind the hardware, b would play a lap of the buffer late, or in pieces.
	if st, err := play.Status(); err != nil || st.Delay <= 0 {
		t.Errorf("Status() after writing = %+v, %v; want what was written queued ahead of the hardware (positive delay)", st, err)
	}
	if err := <-captErr; err != nil {
		t.Fatal(err)
	}
	if x := play.Xruns(); x != 0 {
		t.Errorf("%d playback xruns: the stream stopped instead of running free", x)
	}
	all := make([]int16, len(raw)/2)
	S16LE.ToInt16(all, raw)
	ia := indexBlock(all, a)
	if ia < 0 {
		t.Fatal("the first burst is not in the capture, whole")
	}
	ib := indexBlock(all[ia+len(a):], b)
	if ib < 0 {
		t.Fatal("the burst written after CatchUp is not in the capture after the first, whole: it went into the past")
	}
	gap := all[ia+len(a) : ia+len(a)+ib]
	if k := slices.IndexFunc(gap, func(v int16) bool { return v != 0 }); k >= 0 {
		t.Fatalf("sound at %d of the %d samples between the bursts: the buffer's old contents played again", k, len(gap))
	}
	t.Logf("%d ms of silence between the bursts; delay when dry %d frames", len(gap)*1000/par.Rate, st.Delay)
}
