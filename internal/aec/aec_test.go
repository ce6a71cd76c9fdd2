package aec

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/aec/echosim"
)

// speechLike is noise with a syllable-rate envelope and pauses, coloured like
// voice: enough structure for the delay estimator, broadband for the filter.
func speechLike(n, rate int, seed uint64, level float64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n)
	var lp, lp2 float64
	for i := range x {
		t := float64(i) / float64(rate)
		env := math.Max(0, math.Sin(2*math.Pi*3.7*t+math.Sin(2*math.Pi*0.3*t)*2))
		if math.Sin(2*math.Pi*0.23*t) < -0.6 { // pauses between phrases
			env = 0
		}
		lp = 0.6*lp + rng.NormFloat64()
		lp2 = 0.9*lp2 + 0.1*lp
		x[i] = float32(level * env * (lp - 0.5*lp2))
	}
	return x
}

// runScene cancels mic against ref and returns the output aligned with mic.
func runScene(t testing.TB, c Config, ref, mic []float32) ([]float32, *Canceller) {
	t.Helper()
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	f := c.FrameSize
	out := make([]float32, len(mic)+a.Latency()+f)
	for i := 0; i+f <= len(mic); i += f {
		a.Playback(ref[i:i+f], -1)
		if err := a.Process(mic[i:i+f], out[i:i+f]); err != nil {
			t.Fatal(err)
		}
	}
	return out[a.Latency():], a
}

func erle(mic, out []float32, from, to int) float64 {
	var d, e float64
	for i := from; i < to && i < len(out); i++ {
		d += float64(mic[i]) * float64(mic[i])
		e += float64(out[i]) * float64(out[i])
	}
	return 10 * math.Log10(d/(e+1e-20))
}

func TestLinearRoomConverges(t *testing.T) {
	// 16 kHz with 20 ms frames; 24 kHz with the capture loop's 10 ms frames.
	for _, c := range []Config{{SampleRate: 16000, FrameSize: 320}, {SampleRate: 24000, FrameSize: 240}} {
		rate := c.SampleRate
		c.NoSuppress = true
		ref := speechLike(12*rate, rate, 1, 0.2)
		room := echosim.Room{DelayMs: 60, RT60Ms: 200, DRRdB: 6, GaindB: -6, Seed: 3}
		echo := room.Echo(ref, rate)
		out, a := runScene(t, c, ref, echo)
		if got := erle(echo, out, 6*rate, len(echo)-rate); got < 20 {
			t.Errorf("%d Hz: ERLE after 6 s = %.1f dB, want >= 20 (stats %+v)", rate, got, a.Stats())
		}
	}
}

func TestFixedDelayConverges(t *testing.T) {
	const rate = 16000
	ref := speechLike(12*rate, rate, 1, 0.2)
	room := echosim.Room{DelayMs: 60, RT60Ms: 200, DRRdB: 6, GaindB: -6, Seed: 3}
	echo := room.Echo(ref, rate)
	out, _ := runScene(t, Config{SampleRate: rate, FrameSize: 320, NoSuppress: true, DelayMs: 60}, ref, echo)
	if got := erle(echo, out, 6*rate, 11*rate); got < 20 {
		t.Errorf("ERLE with a fixed 60 ms delay after 6 s = %.1f dB, want >= 20", got)
	}
}

func TestProcessAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, c := range []Config{
		{SampleRate: 16000, FrameSize: 320},
		{SampleRate: 16000, FrameSize: 160, TailMs: 256},
		{SampleRate: 24000, FrameSize: 240, NoSuppress: true},
	} {
		a, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		ref := speechLike(c.FrameSize*50, c.SampleRate, 2, 0.1)
		mic := make([]float32, c.FrameSize)
		i16 := make([]int16, c.FrameSize)
		i := 0
		n := testing.AllocsPerRun(40, func() {
			f := ref[i*c.FrameSize : (i+1)*c.FrameSize]
			a.Playback(f, 480)
			copy(mic, f)
			_ = a.Process(mic, mic)
			a.PlaybackInt16(i16, -1)
			_ = a.ProcessInt16(i16, i16)
			_ = a.Stats()
			i = (i + 1) % 49
		})
		if n != 0 {
			t.Errorf("%+v: allocs per frame = %v, want 0", c, n)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Config
	}{
		{"no rate", Config{FrameSize: 160}},
		{"no frame", Config{SampleRate: 16000}},
		{"tail", Config{SampleRate: 16000, FrameSize: 160, TailMs: 5000}},
		{"block", Config{SampleRate: 16000, FrameSize: 160, BlockSize: 100}},
		{"floor", Config{SampleRate: 16000, FrameSize: 160, SuppressFloorDB: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.c); !errors.Is(err, ErrConfig) {
				t.Errorf("New(%+v) error = %v, want ErrConfig", tc.c, err)
			}
		})
	}
	a, _ := New(Config{SampleRate: 16000, FrameSize: 160})
	if err := a.Process(make([]float32, 100), make([]float32, 100)); !errors.Is(err, ErrFrame) {
		t.Errorf("Process(100 samples) error = %v, want ErrFrame", err)
	}
}

// TestDoubleTalkKeepsNearEnd: the user speaking over a converged echo comes out
// nearly intact, and the echo stays cancelled after.
func TestDoubleTalkKeepsNearEnd(t *testing.T) {
	const rate = 16000
	ref := speechLike(16*rate, rate, 1, 0.2)
	room := echosim.Room{DelayMs: 40, RT60Ms: 150, DRRdB: 6, GaindB: -6, Seed: 9}
	echo := room.Echo(ref, rate)
	near := make([]float32, len(ref))
	copy(near[8*rate:11*rate], speechLike(3*rate, rate, 77, 0.1))
	sc := echosim.Mix(ref, echo, near, 0, -90, 1)
	out, _ := runScene(t, Config{SampleRate: rate, FrameSize: 160, NoSuppress: true}, ref, sc.Mic)
	var ns, nd float64
	for i := 8 * rate; i < 11*rate; i++ {
		ns += float64(sc.Near[i]) * float64(sc.Near[i])
		d := float64(out[i] - sc.Near[i])
		nd += d * d
	}
	sdr := 10 * math.Log10(ns/nd)
	after := erle(sc.Mic, out, 12*rate, 15*rate)
	t.Logf("near-end SDR %.1f dB during double talk, ERLE after %.1f dB", sdr, after)
	if sdr < 10 {
		t.Errorf("near-end SDR in double talk = %.1f dB, want >= 10", sdr)
	}
	if after < 15 {
		t.Errorf("ERLE after double talk = %.1f dB, want >= 15", after)
	}
}

// TestRingConcurrent runs the playback side in its own goroutine (for -race).
func TestRingConcurrent(t *testing.T) {
	a, err := New(Config{SampleRate: 16000, FrameSize: 160})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]float32, 160)
		for i := range 400 {
			buf[0] = float32(i)
			a.Playback(buf, 320)
		}
	}()
	mic, out := make([]float32, 160), make([]float32, 160)
	for range 400 {
		if err := a.Process(mic, out); err != nil {
			t.Fatal(err)
		}
	}
	<-done
}

func benchProcess(b *testing.B, tail, frame int) {
	const rate = 16000
	a, err := New(Config{SampleRate: rate, FrameSize: frame, TailMs: tail})
	if err != nil {
		b.Fatal(err)
	}
	ref := speechLike(rate*4, rate, 3, 0.1)
	mic := make([]float32, frame)
	b.ReportAllocs()
	b.SetBytes(int64(frame * 4))
	i := 0
	for b.Loop() {
		f := ref[i : i+frame]
		a.Playback(f, -1)
		copy(mic, f)
		_ = a.Process(mic, mic)
		i = (i + frame) % (len(ref) - frame)
	}
}

// Per 20 ms frame at 16 kHz.
func BenchmarkProcess128ms(b *testing.B) { benchProcess(b, 128, 320) }
func BenchmarkProcess256ms(b *testing.B) { benchProcess(b, 256, 320) }

// A quiet room: nothing played, so the canceller passes the microphone through.
func BenchmarkProcessQuiet(b *testing.B) {
	a, err := New(Config{SampleRate: 16000, FrameSize: 320})
	if err != nil {
		b.Fatal(err)
	}
	mic := speechLike(320, 16000, 4, 0.01)
	b.ReportAllocs()
	for b.Loop() {
		_ = a.Process(mic, mic)
	}
}

// TestBypassPassesThrough: with nothing played the output is the input, delayed
// by Latency, also across the suppressor's overlap-add.
func TestBypassPassesThrough(t *testing.T) {
	const rate = 16000
	mic := speechLike(2*rate, rate, 5, 0.1)
	out, a := runScene(t, Config{SampleRate: rate, FrameSize: 160}, make([]float32, len(mic)), mic)
	for i := rate; i < len(mic)-2*a.Latency(); i++ {
		if d := math.Abs(float64(out[i] - mic[i])); d > 1e-5 {
			t.Fatalf("out[%d] = %v, want %v (the input)", i, out[i], mic[i])
		}
	}
}

// TestSkipKeepsAlignment: a canceller that skips a stretch of microphone audio
// (the capture loop asleep) while the reference goes on playing cancels again
// after it, with its latency unchanged.
func TestSkipKeepsAlignment(t *testing.T) {
	const rate, frame = 16000, 160
	c, err := New(Config{SampleRate: rate, FrameSize: frame})
	if err != nil {
		t.Fatal(err)
	}
	ref := speechLike(16*rate, rate, 7, 0.3)
	delay := rate * 50 / 1000
	mic := make([]float32, len(ref))
	for i := delay; i < len(mic); i++ {
		mic[i] = 0.5 * ref[i-delay]
	}
	out := make([]float32, len(mic))
	skipFrom, skipTo := 6*rate, 9*rate
	for k := 0; k+frame <= len(mic); k += frame {
		// The player runs ahead of the microphone by 20 ms, as a device buffer would.
		c.Playback(ref[k:k+frame], 320)
		if k >= skipFrom && k < skipTo {
			c.Skip(frame)
			continue
		}
		if err := c.Process(mic[k:k+frame], out[k:k+frame]); err != nil {
			t.Fatal(err)
		}
	}
	if c.Latency() != 256 {
		t.Errorf("latency = %d, want 256", c.Latency())
	}
	lat := c.Latency()
	if e := erle(mic[:len(mic)-lat], out[lat:], 12*rate, 15*rate); e < 15 {
		t.Errorf("ERLE 3 s after a 3 s skip = %.1f dB, want >= 15", e)
	}
}

// Per 20 ms at 24 kHz in the capture loop's 10 ms frames, 128 ms tail: what
// voiced runs (make bench counts its instructions).
func BenchmarkProcess24kHz(b *testing.B) {
	const rate, frame = 24000, 240
	a, err := New(Config{SampleRate: rate, FrameSize: frame})
	if err != nil {
		b.Fatal(err)
	}
	ref := speechLike(rate*4, rate, 3, 0.1)
	mic := make([]float32, frame)
	b.ReportAllocs()
	b.SetBytes(2 * frame * 4)
	i := 0
	for b.Loop() {
		for range 2 {
			f := ref[i : i+frame]
			a.Playback(f, -1)
			for j, v := range f {
				mic[j] = 0.3 * v
			}
			_ = a.Process(mic, mic)
			i = (i + frame) % (len(ref) - frame)
		}
	}
}

// TestIdle: idle before anything is played, not while the reference or its
// echo may be in the filter's reach, idle again once it has passed.
func TestIdle(t *testing.T) {
	const rate, frame = 16000, 160
	c, err := New(Config{SampleRate: rate, FrameSize: frame})
	if err != nil {
		t.Fatal(err)
	}
	mic := make([]float32, frame)
	step := func(ref []float32) {
		c.Playback(ref, -1)
		if err := c.Process(mic, mic); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		step(make([]float32, frame))
	}
	if !c.Idle() {
		t.Error("Idle() = false with only silence played, want true")
	}
	step(speechLike(frame, rate, 1, 0.1))
	if c.Idle() {
		t.Error("Idle() = true just after audio was played, want false")
	}
	// The reach: delay (up to 400 ms), tail (128 ms) and a margin.
	for range 60 {
		step(make([]float32, frame))
	}
	if !c.Idle() {
		t.Error("Idle() = false 600 ms after the last audio, want true")
	}
}

// TestIdleGapKeepsEchoPath: a reply played with the device's delay at 30 ms
// (under the ring's jump tolerance, so the writer does not move for it), 3 s
// in which nothing is played or processed (a device that plays silence by
// itself: the playback loop writes nothing), then a second reply on the same
// echo path. The second is placed as the first was and cancelled from its
// start; placed where the delay alone says, its echo would have moved by the
// 30 ms and gone uncancelled for seconds.
func TestIdleGapKeepsEchoPath(t *testing.T) {
	const rate, frame, queued = 16000, 160, 480
	a, err := New(Config{SampleRate: rate, FrameSize: frame})
	if err != nil {
		t.Fatal(err)
	}
	// The clock the ring reads runs with the simulated stream, 10 ms a frame.
	var clock time.Duration
	a.ring.since = func() time.Duration { return clock }
	ref := speechLike(8*rate, rate, 5, 0.3)
	room := echosim.Room{DelayMs: 40, RT60Ms: 150, DRRdB: 6, GaindB: -6, Seed: 4}
	echo := room.Echo(ref, rate)
	out := make([]float32, frame)
	mic := make([]float32, frame)
	play := func() (first float64) {
		var d, e float64
		for k := 0; k+frame <= len(ref); k += frame {
			a.Playback(ref[k:k+frame], queued)
			// The microphone hears what was handed over queued samples ago.
			for i := range mic {
				mic[i] = 0
				if j := k + i - queued; j >= 0 {
					mic[i] = echo[j]
				}
			}
			clock += 10 * time.Millisecond
			if err := a.Process(mic, out); err != nil {
				t.Fatal(err)
			}
			if k >= rate/2 && k < 2*rate {
				for i := range out {
					d += float64(mic[i]) * float64(mic[i])
					e += float64(out[i]) * float64(out[i])
				}
			}
		}
		return 10 * math.Log10(d/(e+1e-20))
	}
	play()
	zero := make([]float32, frame)
	for range 300 {
		clock += 10 * time.Millisecond
		if a.Idle() {
			a.Skip(frame) // as the capture loop does
		} else if err := a.Process(zero, out); err != nil {
			t.Fatal(err)
		}
	}
	if e := play(); e < 20 {
		t.Errorf("second reply after the gap, 0.5-2 s: cancelled %.1f dB, want >= 20", e)
	}
}
