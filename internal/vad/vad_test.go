package vad

import (
	"math"
	"testing"

	"github.com/voiced-project/voiced/internal/race"
	"github.com/voiced-project/voiced/internal/vad/vadtest"
)

// The detector's power spectrum and its autocorrelation come from the float32
// dsp.FFT; both must agree with direct float64 sums to well within what the
// features can tell apart.
func TestVADSpectrumMatchesDFT(t *testing.T) {
	for _, rate := range []int{16000, 24000} {
		v, err := New(Config{SampleRate: rate})
		if err != nil {
			t.Fatal(err)
		}
		s := vadtest.SynthVoice(rate, 0.45, 0, 0.45, 30, 8000, 7)
		n := v.FrameSize()
		for i := 0; i+n <= len(s); i += n {
			v.Process(s[i : i+n])
		}
		nf := len(v.frame)
		var peak float64
		want := make([]float64, v.maxBin+1)
		for k := range want {
			var re, im float64
			for i, h := range v.hist {
				a := -2 * math.Pi * float64(i*k) / float64(nf)
				x := h * v.window[i]
				re += x * math.Cos(a)
				im += x * math.Sin(a)
			}
			want[k] = (re*re + im*im) * v.powNorm
			peak = max(peak, want[k])
		}
		if peak < 1e-3 {
			t.Fatalf("%d Hz: spectrum peak %v: the test signal is too quiet to test anything", rate, peak)
		}
		for k, w := range want {
			if d := math.Abs(v.power[k] - w); d > 1e-5*peak {
				t.Errorf("%d Hz: power bin %d = %v, want %v (peak %v)", rate, k, v.power[k], w, peak)
			}
		}
		// v.acf still holds the last frame's even input; its transform is a cosine sum.
		na := len(v.acf)
		var r0 float64
		for _, x := range v.acf {
			r0 += float64(x)
		}
		if r0 <= 0 {
			t.Fatalf("%d Hz: autocorrelation input is all zero", rate)
		}
		for m := range v.winACF {
			var w float64
			for k, x := range v.acf {
				w += float64(x) * math.Cos(2*math.Pi*float64(k*m)/float64(na))
			}
			if d := math.Abs(float64(v.acfRe[m]) - w); d > 1e-5*r0 {
				t.Errorf("%d Hz: autocorrelation lag %d = %v, want %v (lag 0: %v)", rate, m, v.acfRe[m], w, r0)
			}
		}
	}
}

func TestNewVAD(t *testing.T) {
	tests := []struct {
		name      string
		c         Config
		frameSize int // 0: want an error
	}{
		{"16 kHz", Config{SampleRate: 16000}, 160},
		{"24 kHz", Config{SampleRate: 24000, Sensitivity: 3}, 240},
		{"48 kHz", Config{SampleRate: 48000, HangoverMs: -1}, 480},
		{"8 kHz", Config{SampleRate: 8000}, 0},
		{"44.1 kHz", Config{SampleRate: 44100}, 0},
		{"no rate", Config{}, 0},
		{"sensitivity 4", Config{SampleRate: 16000, Sensitivity: 4}, 0},
		{"sensitivity -1", Config{SampleRate: 16000, Sensitivity: -1}, 0},
		{"hangover 3 s", Config{SampleRate: 16000, HangoverMs: 3000}, 0},
		{"echo drop 7", Config{SampleRate: 16000, EchoSensitivityDrop: 7}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(tt.c)
			if tt.frameSize == 0 {
				if err == nil {
					t.Fatalf("NewVAD(%+v) = nil error, want one", tt.c)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewVAD(%+v): %v", tt.c, err)
			}
			if got := v.FrameSize(); got != tt.frameSize {
				t.Errorf("FrameSize() = %d, want %d", got, tt.frameSize)
			}
			if got := v.SampleRate(); got != tt.c.SampleRate {
				t.Errorf("SampleRate() = %d, want %d", got, tt.c.SampleRate)
			}
		})
	}
}

func TestVADProcessWrongLengthPanics(t *testing.T) {
	v, err := New(Config{SampleRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Process(159 samples) did not panic")
		}
	}()
	v.Process(make([]int16, 159))
}

// countSpeech runs v over s[from:to] seconds and returns the share of frames flagged.
func countSpeech(v *Detector, s []int16, rate int, from, to float64) float64 {
	hop := v.FrameSize()
	n, c := 0, 0
	for k := int(from * float64(rate)); k+hop <= int(to*float64(rate)); k += hop {
		n++
		if v.Process(s[k : k+hop]) {
			c++
		}
	}
	return float64(c) / float64(n)
}

func TestVADSynthetic(t *testing.T) {
	for _, rate := range []int{16000, 24000, 48000} {
		t.Run(rateName(rate), func(t *testing.T) {
			v, err := New(Config{SampleRate: rate, Sensitivity: DefaultSensitivity})
			if err != nil {
				t.Fatal(err)
			}
			// 0-3 s noise at -50 dBFS, 3-6 s voice at about 20 dB SNR, 6-9 s noise, then the
			// noise jumps by 20 dB: the floor takes a while to follow, the decision must not.
			s := vadtest.SynthVoice(rate, 9, 3, 6, 100, 3000, 2)
			loud := vadtest.SynthVoice(rate, 3, 0, 0, 1000, 0, 3)
			for _, step := range []struct {
				name     string
				s        []int16
				from, to float64
				lo, hi   float64
			}{
				{"noise", s, 0, 3, 0, 0.05},
				{"voice", s, 3, 6, 0.9, 1},
				{"noise after voice", s, 6, 9, 0, 0.05},
				{"noise 20 dB louder", loud, 0, 3, 0, 0.1},
			} {
				if got := countSpeech(v, step.s, rate, step.from, step.to); got < step.lo || got > step.hi {
					t.Errorf("%s: %.2f of frames flagged, want %.2f..%.2f", step.name, got, step.lo, step.hi)
				}
			}
		})
	}
}

func rateName(rate int) string {
	switch rate {
	case 16000:
		return "16kHz"
	case 24000:
		return "24kHz"
	}
	return "48kHz"
}

func TestVADResetRepeats(t *testing.T) {
	const rate = 16000
	s := vadtest.SynthVoice(rate, 4, 1, 3, 200, 2000, 4)
	v, err := New(Config{SampleRate: rate})
	if err != nil {
		t.Fatal(err)
	}
	run := func() []bool {
		var out []bool
		for k := 0; k+160 <= len(s); k += 160 {
			out = append(out, v.Process(s[k:k+160]))
		}
		return out
	}
	first := run()
	v.Reset()
	second := run()
	for i := range first {
		if first[i] != second[i] {
			t.Fatalf("frame %d after Reset = %v, want %v as before", i, second[i], first[i])
		}
	}
}

func TestVADEchoGuard(t *testing.T) {
	const rate = 16000
	v, err := New(Config{SampleRate: rate, Sensitivity: DefaultSensitivity})
	if err != nil {
		t.Fatal(err)
	}
	// 2 s of room noise, then the device's own voice at about 25 dB above it with the guard
	// on, then the same voice from a user with the guard off again.
	noise := vadtest.SynthVoice(rate, 2, 0, 0, 100, 0, 8)
	voice := vadtest.SynthVoice(rate, 3, 0, 3, 100, 5000, 9)
	if got := countSpeech(v, noise, rate, 0, 2); got > 0.05 {
		t.Errorf("noise: %.2f flagged, want <= 0.05", got)
	}
	v.SetEchoGuard(true)
	v.SetEchoGuard(true) // repeating it must not restart the echo level
	if got := countSpeech(v, voice, rate, 0, 3); got > 0.05 {
		t.Errorf("device voice with echo guard: %.2f flagged, want <= 0.05", got)
	}
	v.SetEchoGuard(false)
	if got := countSpeech(v, voice, rate, 0, 3); got < 0.9 {
		t.Errorf("user voice after the guard: %.2f flagged, want >= 0.9", got)
	}
}

func TestVADProcessAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocations are not meaningful under -race")
	}
	for _, rate := range []int{16000, 24000} {
		v, err := New(Config{SampleRate: rate})
		if err != nil {
			t.Fatal(err)
		}
		s := vadtest.SynthVoice(rate, 1, 0.2, 0.8, 100, 3000, 6)
		k := 0
		hop := v.FrameSize()
		allocs := testing.AllocsPerRun(200, func() {
			v.Process(s[k : k+hop])
			k = (k + hop) % (len(s) - hop)
		})
		if allocs != 0 {
			t.Errorf("%d Hz: Process allocates %v times per frame, want 0", rate, allocs)
		}
	}
}

func BenchmarkVADProcess(b *testing.B) {
	for _, rate := range []int{16000, 24000, 48000} {
		b.Run(rateName(rate), func(b *testing.B) {
			v, err := New(Config{SampleRate: rate})
			if err != nil {
				b.Fatal(err)
			}
			s := vadtest.SynthVoice(rate, 2, 0.5, 1.5, 100, 3000, 7)
			hop := v.FrameSize()
			b.SetBytes(int64(2 * hop))
			b.ReportAllocs()
			k := 0
			cpu0 := processCPUTime()
			for b.Loop() {
				v.Process(s[k : k+hop])
				k += hop
				if k+hop > len(s) {
					k = 0
				}
			}
			// CPU time, unlike wall time, does not grow when other work shares the cores.
			if cpu := processCPUTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// vadAfterSpeech is a 24 kHz VAD that has heard two seconds of synthetic voice, and a
// frame of digital silence to feed it.
func vadAfterSpeech(tb testing.TB) (*Detector, []int16) {
	tb.Helper()
	v, err := New(Config{SampleRate: 24000})
	if err != nil {
		tb.Fatal(err)
	}
	s := vadtest.SynthVoice(24000, 2, 0.5, 1.5, 100, 3000, 7)
	hop := v.FrameSize()
	for k := 0; k+hop <= len(s); k += hop {
		v.Process(s[k : k+hop])
	}
	return v, make([]int16, hop)
}

// On digital silence no feature decays into a subnormal float (see vadFlush).
func TestVADSilenceNoSubnormals(t *testing.T) {
	v, zero := vadAfterSpeech(t)
	for n := range 20000 {
		v.Process(zero)
		for i, x := range v.Features() {
			if x != 0 && math.Abs(float64(x)) < math.SmallestNonzeroFloat32*(1<<23) {
				t.Fatalf("after %d frames of silence feature %d is subnormal: %g", n+1, i, x)
			}
		}
	}
}

// BenchmarkVADProcessSilence is the VAD on digital silence (a muted microphone, a file
// microphone after its end), after long enough for every smoothed feature to decay as
// far as it goes: decays into subnormal floats cost tens of times a normal frame on x86,
// and bounce to the kernel's VFP support code on ARMv6.
func BenchmarkVADProcessSilence(b *testing.B) {
	v, zero := vadAfterSpeech(b)
	for range 20000 {
		v.Process(zero)
	}
	hop := len(zero)
	b.SetBytes(int64(2 * hop))
	b.ReportAllocs()
	for b.Loop() {
		v.Process(zero)
	}
}

// TestVADEchoGuardFromAnotherGoroutine: the engine sets the guard while the capture
// goroutine processes frames (run with -race).
func TestVADEchoGuardFromAnotherGoroutine(t *testing.T) {
	v, err := New(Config{SampleRate: 24000})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, v.FrameSize())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			v.SetEchoGuard(i%2 == 0)
		}
	}()
	for i := 0; i < 200; i++ {
		v.Process(frame)
	}
	<-done
	v.SetEchoGuard(true)
	v.Process(frame)
	if !v.echoGuard {
		t.Errorf("the guard set before a frame is not in force for it")
	}
}
