package silero

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/voiced-project/voiced/internal/vad/vadtest"
	"github.com/voiced-project/voiced/internal/wav"
)

// sharedDir is the project's shared data, a sibling of the repository;
// VOICED_SHARED points elsewhere.
func sharedDir() string {
	if d := os.Getenv("VOICED_SHARED"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "..", "shared")
}

const (
	modelSHA256   = "7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49"
	weightsSHA256 = "2ff111bbd149549f539bdc239b24c3c124353bdd814a8486ec5025574466970f"
)

func TestWeightsPinned(t *testing.T) {
	sum := sha256.Sum256(weightsBlob)
	if got := hex.EncodeToString(sum[:]); got != weightsSHA256 {
		t.Errorf("sha256(weights.bin) = %s, want %s", got, weightsSHA256)
	}
}

func TestModelPinned(t *testing.T) {
	path := filepath.Join(sharedDir(), "models", "silero-vad", "silero_vad_16k_op15.onnx")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("model not reachable at %s (%v): its sha256 not checked", path, err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != modelSHA256 {
		t.Errorf("sha256(%s) = %s, want %s: the model changed; rerun go generate and the references", path, got, modelSHA256)
	}
}

func TestDecodeRejectsShortBlob(t *testing.T) {
	if _, err := decode(weightsBlob[:len(weightsBlob)-4]); err == nil {
		t.Error("decode(short blob) succeeded, want an error")
	}
}

func readWAV(t testing.TB, path string) []int16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, h, err := wav.ReadMono16(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if h.Rate != SampleRate || h.Channels != 1 {
		t.Fatalf("%s: %d Hz, %d channels; want 16000 Hz mono", path, h.Rate, h.Channels)
	}
	return pcm
}

func readProbs(t *testing.T, path string) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, err := strconv.ParseFloat(sc.Text(), 64)
		if err != nil {
			t.Fatalf("%s line %d: %v", path, len(p)+1, err)
		}
		p = append(p, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMatchesONNXRuntime holds every step's probability to the ONNX Runtime's
// (testdata/*.prob, from gen-reference.mjs) within 1e-4.
func TestMatchesONNXRuntime(t *testing.T) {
	const tol = 1e-4
	for _, name := range []string{"speech", "silence", "noise", "music"} {
		t.Run(name, func(t *testing.T) {
			pcm := readWAV(t, filepath.Join("testdata", name+".wav"))
			want := readProbs(t, filepath.Join("testdata", name+".prob"))
			if n := len(pcm) / StepSamples; n != len(want) || n < 900 {
				t.Fatalf("%s: %d steps of audio, %d references; want equal and >= 900 (30 s)", name, n, len(want))
			}
			d := New()
			worst, at, speech := 0.0, 0, 0
			for i, w := range want {
				got := float64(d.ProcessInt16((*[StepSamples]int16)(pcm[i*StepSamples:])))
				if e := math.Abs(got - w); e > worst || math.IsNaN(e) {
					worst, at = e, i
				}
				if w > 0.5 {
					speech++
				}
			}
			t.Logf("%s: %d steps, %d over 0.5, worst |Go - ONNX Runtime| %.2g at step %d", name, len(want), speech, worst, at)
			if !(worst <= tol) {
				t.Errorf("%s step %d: |Go - ONNX Runtime| = %.3g, want <= %g", name, at, worst, tol)
			}
		})
	}
}

func TestResetRepeats(t *testing.T) {
	pcm := readWAV(t, filepath.Join("testdata", "speech.wav"))
	d := New()
	run := func() []float32 {
		var p []float32
		for i := range 200 {
			p = append(p, d.ProcessInt16((*[StepSamples]int16)(pcm[i*StepSamples:])))
		}
		return p
	}
	first := run()
	second := run() // continues the stream: state carried over
	d.Reset()
	again := run()
	same := 0
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("step %d after Reset = %v, want %v as from New", i, again[i], first[i])
		}
		if first[i] == second[i] {
			same++
		}
	}
	if same == len(first) {
		t.Error("without Reset a replayed stream gave the same outputs: the state is not carried")
	}
}

func TestProcessMatchesProcessInt16(t *testing.T) {
	pcm := readWAV(t, filepath.Join("testdata", "music.wav"))
	a, b := New(), New()
	var f [StepSamples]float32
	for i := range 50 {
		s := (*[StepSamples]int16)(pcm[i*StepSamples:])
		for k, v := range s {
			f[k] = float32(v) / 32768
		}
		if pa, pb := a.Process(&f), b.ProcessInt16(s); pa != pb {
			t.Fatalf("step %d: Process = %v, ProcessInt16 = %v", i, pa, pb)
		}
	}
}

func TestProcessAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	d := New()
	var s [StepSamples]int16
	for i := range s {
		s[i] = int16(1000 * math.Sin(float64(i)))
	}
	if n := testing.AllocsPerRun(100, func() { d.ProcessInt16(&s) }); n != 0 {
		t.Errorf("ProcessInt16 allocates %v times a step, want 0", n)
	}
}

// BenchmarkProcess is one step. The signal is synthesized (a voice-like buzz in
// noise): make bench runs it under qemu from another directory, and the work of
// a step does not depend on what it hears.
func BenchmarkProcess(b *testing.B) {
	pcm := vadtest.SynthVoice(16000, 4, 0.5, 3.5, 100, 3000, 7)
	d := New()
	steps := len(pcm) / StepSamples
	b.SetBytes(2 * StepSamples)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.ProcessInt16((*[StepSamples]int16)(pcm[i*StepSamples:]))
		if i++; i == steps {
			i = 0
		}
	}
}

func TestExp(t *testing.T) {
	for x := -90.0; x <= 90; x += 0.01237 {
		want := math.Exp(max(-80, min(80, x)))
		if got := exp(x); math.Abs(got-want) > 1e-9*want {
			t.Fatalf("exp(%v) = %v, want %v", x, got, want)
		}
	}
	for _, x := range []float32{-20, -3, -0.5, 0, 1e-6, 0.5, 3, 20} {
		if got, want := tanh(x), float32(math.Tanh(float64(x))); math.Abs(float64(got-want)) > 1e-7 {
			t.Errorf("tanh(%v) = %v, want %v", x, got, want)
		}
		if got, want := sigmoid(x), float32(1/(1+math.Exp(-float64(x)))); math.Abs(float64(got-want)) > 1e-7 {
			t.Errorf("sigmoid(%v) = %v, want %v", x, got, want)
		}
	}
}
