package vad

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/race"
	"github.com/voiced-project/voiced/internal/vad/silero"
	"github.com/voiced-project/voiced/internal/vad/vadtest"
	"github.com/voiced-project/voiced/internal/wav"
)

// readSileroWAV reads one of package silero's 16 kHz test recordings.
func readSileroWAV(t testing.TB, name string) []int16 {
	t.Helper()
	f, err := os.Open(filepath.Join("silero", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, h, err := wav.ReadMono16(f)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if h.Rate != 16000 || h.Channels != 1 {
		t.Fatalf("%s: %d Hz %d channels, want 16000 Hz mono", name, h.Rate, h.Channels)
	}
	return pcm
}

// runNeural feeds s in 10 ms frames and returns the decision per frame.
func runNeural(t testing.TB, n *Neural, s []int16) []bool {
	t.Helper()
	hop := n.FrameSize()
	out := make([]bool, len(s)/hop)
	for k := range out {
		out[k] = n.Process(s[k*hop : (k+1)*hop])
	}
	return out
}

func newNeural(t testing.TB, c NeuralConfig) *Neural {
	t.Helper()
	n, err := NewNeural(c)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// At 16 kHz the frames reach the network unchanged: each frame's decision is
// the hysteresis over the steps completed with it, exactly.
func TestNeuralFollowsNetwork(t *testing.T) {
	s := readSileroWAV(t, "speech.wav")
	got := runNeural(t, newNeural(t, NeuralConfig{SampleRate: 16000}), s)
	d := silero.New()
	on := false
	speech := 0
	for k := range got {
		end := (k + 1) * 160
		if end%silero.StepSamples < 160 && end >= silero.StepSamples {
			// A step completed within this frame.
			n := end/silero.StepSamples - 1
			p := d.ProcessInt16((*[silero.StepSamples]int16)(s[n*silero.StepSamples:]))
			if on {
				on = p >= NeuralOff
			} else {
				on = p >= NeuralOn
			}
		}
		if got[k] != on {
			t.Fatalf("frame %d: Process = %v, want the network's %v", k, got[k], on)
		}
		if on {
			speech++
		}
	}
	if speech < len(got)/5 {
		t.Errorf("speech.wav: %d of %d frames speech, want at least a fifth", speech, len(got))
	}
}

// resampleTo converts 16 kHz audio to rate.
func resampleTo(t testing.TB, s []int16, rate int) []int16 {
	t.Helper()
	r, err := dsp.NewResampler(16000, rate)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, r.MaxOutput(len(s)))
	_, n := r.Process(s, out)
	return out[:n]
}

// agreement is the share of frames where a and b decide alike.
func agreement(a, b []bool) float64 {
	n := min(len(a), len(b))
	same := 0
	for i := range n {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(n)
}

// At the capture rate the network hears the same speech through the resampler.
func TestNeuralCaptureRate(t *testing.T) {
	s := readSileroWAV(t, "speech.wav")
	ref := runNeural(t, newNeural(t, NeuralConfig{SampleRate: 16000}), s)
	for _, rate := range []int{24000, 48000} {
		got := runNeural(t, newNeural(t, NeuralConfig{SampleRate: rate}), resampleTo(t, s, rate))
		if a := agreement(ref, got); a < 0.97 {
			t.Errorf("%d Hz: decisions agree with 16 kHz on %.3f of frames, want >= 0.97", rate, a)
		}
	}
}

func TestNeuralNotSpeech(t *testing.T) {
	for _, name := range []string{"silence.wav", "music.wav"} {
		for _, gate := range []bool{false, true} {
			got := runNeural(t, newNeural(t, NeuralConfig{SampleRate: 16000, Gate: gate}), readSileroWAV(t, name))
			flagged := 0
			for _, v := range got {
				if v {
					flagged++
				}
			}
			if fa := float64(flagged) / float64(len(got)); fa > 0.05 {
				t.Errorf("%s gate %v: %.3f of frames speech, want <= 0.05", name, gate, fa)
			}
		}
	}
}

// The gate lets the network sleep in a quiet room and, on speech, catches up
// so that it decides nearly as it would have awake.
func TestNeuralGate(t *testing.T) {
	quiet := newNeural(t, NeuralConfig{SampleRate: 16000, Gate: true})
	q := readSileroWAV(t, "silence.wav")
	runNeural(t, quiet, q)
	if all := uint64(len(q) / silero.StepSamples); quiet.Steps() > all/10 {
		t.Errorf("silence.wav with the gate: the network ran %d of %d steps, want at most a tenth", quiet.Steps(), all)
	}
	s := readSileroWAV(t, "speech.wav")
	awake := runNeural(t, newNeural(t, NeuralConfig{SampleRate: 16000}), s)
	gated := runNeural(t, newNeural(t, NeuralConfig{SampleRate: 16000, Gate: true}), s)
	if a := agreement(awake, gated); a < 0.95 {
		t.Errorf("speech.wav: gated decisions agree with ungated on %.3f of frames, want >= 0.95", a)
	}
}

// Asleep, the network's input is not resampled; a waking network makes its
// catch-up steps from the frames kept at their own rate. What it decides must
// be what resampling every frame gives, bit for bit, however soon after
// falling asleep it wakes.
func TestNeuralSleepReplay(t *testing.T) {
	sil := readSileroWAV(t, "silence.wav")
	sp := readSileroWAV(t, "speech.wav")
	var s []int16
	// Silences from just over the sleep delay to seconds, each followed by
	// speech cut at a different place.
	for i, ms := range []int{3000, 520, 610, 700, 1500, 800, 530} {
		s = append(s, sil[i*4000:i*4000+ms*16]...)
		s = append(s, sp[i*9000:i*9000+16000+i*3000]...)
	}
	for _, rate := range []int{16000, 24000, 48000} {
		in := resampleTo(t, s, rate)
		ref := newNeural(t, NeuralConfig{SampleRate: rate, Gate: true})
		ref.eager = true
		got := newNeural(t, NeuralConfig{SampleRate: rate, Gate: true})
		hop := got.FrameSize()
		wakes := 0
		for k := 0; (k+1)*hop <= len(in); k++ {
			f := in[k*hop : (k+1)*hop]
			was := got.asleep
			want, have := ref.Process(f), got.Process(f)
			if was && !got.asleep {
				wakes++
			}
			if have != want || got.Probability() != ref.Probability() || got.Steps() != ref.Steps() {
				t.Fatalf("%d Hz frame %d: decision %v, probability %v after %d steps; resampling every frame gives %v, %v after %d",
					rate, k, have, got.Probability(), got.Steps(), want, ref.Probability(), ref.Steps())
			}
		}
		if wakes < 5 {
			t.Errorf("%d Hz: the network woke %d times, want at least 5 (the test's silences should put it to sleep)", rate, wakes)
		}
		if all := uint64(len(s) / silero.StepSamples); got.Steps() >= all {
			t.Errorf("%d Hz: the network ran %d steps of %d: it never slept", rate, got.Steps(), all)
		}
	}
}

func TestNeuralHangover(t *testing.T) {
	s := readSileroWAV(t, "speech.wav")
	plain := runNeural(t, newNeural(t, NeuralConfig{SampleRate: 16000}), s)
	hung := runNeural(t, newNeural(t, NeuralConfig{SampleRate: 16000, HangoverMs: 100}), s)
	for k := range plain {
		if !plain[k] && k > 0 && plain[k-1] {
			// Ten frames of hangover after each end of speech.
			for j := k; j < min(k+10, len(hung)); j++ {
				if !hung[j] {
					t.Fatalf("frame %d: off %d frames after speech ended, want the 100 ms hangover", j, j-k)
				}
			}
		}
		if plain[k] && !hung[k] {
			t.Fatalf("frame %d: the hangover turned speech off", k)
		}
	}
}

func TestNeuralEchoGuard(t *testing.T) {
	n := newNeural(t, NeuralConfig{SampleRate: 16000})
	s := readSileroWAV(t, "speech.wav")
	n.SetEchoGuard(true)
	guarded := runNeural(t, n, s)
	n.Reset()
	n.SetEchoGuard(false)
	free := runNeural(t, n, s)
	g, f := 0, 0
	for k := range free {
		if guarded[k] {
			g++
			if !free[k] {
				t.Fatalf("frame %d: speech only with the echo guard on", k)
			}
		}
		if free[k] {
			f++
		}
	}
	if g >= f {
		t.Errorf("echo guard on: %d speech frames, off: %d; want fewer with it on", g, f)
	}
}

// TestNeuralEchoGuardCancelled: behind a canceller (NoteResidual) the guarded
// frames are the network's at NeuralEchoOn/NeuralEchoOff: speech there is
// speech without the guard too, the classic detector not asked; a residual
// estimate 6 dB and more over the frames keeps every one out; a residual of
// nothing leaves the network's own decisions.
func TestNeuralEchoGuardCancelled(t *testing.T) {
	s := readSileroWAV(t, "speech.wav")
	run := func(residual float64, guard bool) []bool {
		n := newNeural(t, NeuralConfig{SampleRate: 16000})
		n.SetEchoGuard(guard)
		hop := n.FrameSize()
		out := make([]bool, len(s)/hop)
		for k := range out {
			n.NoteResidual(residual)
			out[k] = n.Process(s[k*hop : (k+1)*hop])
		}
		return out
	}
	free := run(0, false)
	cancelled := run(1e-6, true) // -60 dBFS: under the speech
	buried := run(1, true)       // full scale: over everything
	quiet := run(0, true)        // nothing left
	var nf, nc int
	for k := range free {
		if free[k] {
			nf++
		}
		if cancelled[k] {
			nc++
			if !free[k] {
				t.Fatalf("frame %d: speech behind the canceller, not without the guard", k)
			}
		}
		if buried[k] {
			t.Fatalf("frame %d: speech 6 dB under the residual", k)
		}
		if quiet[k] != free[k] {
			t.Fatalf("frame %d: with no residual %v, without the guard %v", k, quiet[k], free[k])
		}
	}
	if nc == 0 || nc >= nf {
		t.Errorf("speech frames behind the canceller %d, without the guard %d; want some, and fewer (raised thresholds)", nc, nf)
	}
}

func TestNewNeuralErrors(t *testing.T) {
	for _, c := range []NeuralConfig{
		{SampleRate: 11025},
		{SampleRate: 16000, HangoverMs: 5000},
		{SampleRate: 16000, Classic: Config{Sensitivity: 9}},
	} {
		if _, err := NewNeural(c); err == nil {
			t.Errorf("NewNeural(%+v) = nil error, want one", c)
		}
	}
}

func TestNeuralProcessAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocations are not meaningful under -race")
	}
	s := resampleTo(t, readSileroWAV(t, "speech.wav"), 24000)
	for _, gate := range []bool{false, true} {
		n := newNeural(t, NeuralConfig{SampleRate: 24000, Gate: gate})
		hop := n.FrameSize()
		k := 0
		allocs := testing.AllocsPerRun(500, func() {
			n.Process(s[k : k+hop])
			k = (k + hop) % (len(s) - hop)
		})
		if allocs != 0 {
			t.Errorf("gate %v: Process allocates %v times per frame, want 0", gate, allocs)
		}
	}
}

// BenchmarkNeuralProcess is the cost of one 10 ms capture frame at 24 kHz with
// speech: resampling, the classic detector and, every 32 ms, the network. The
// signal is synthesized: make bench runs it under qemu from another directory.
func BenchmarkNeuralProcess(b *testing.B) {
	s := vadtest.SynthVoice(24000, 4, 0.5, 3.5, 100, 3000, 7)
	n := newNeural(b, NeuralConfig{SampleRate: 24000})
	hop := n.FrameSize()
	b.SetBytes(int64(2 * hop))
	b.ReportAllocs()
	k := 0
	for b.Loop() {
		n.Process(s[k : k+hop])
		k += hop
		if k+hop > len(s) {
			k = 0
		}
	}
}
