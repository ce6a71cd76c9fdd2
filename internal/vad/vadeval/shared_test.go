package vadeval

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/voiced-project/voiced/internal/race"
	"github.com/voiced-project/voiced/internal/vad"
)

// sharedVADSet is the project's labeled VAD set, a sibling of the repository
// unless VOICED_SHARED names the shared directory.
var sharedVADSet = filepath.Join(sharedDir(), "vad", "set")

func sharedDir() string {
	if d := os.Getenv("VOICED_SHARED"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "..", "shared")
}

// TestSileroOnSharedSet holds the silero engine to its target on the shared set, with its
// stated lookahead of one 32 ms step: pooled F1 >= 0.95 with false alarms <= 0.04.
func TestSileroOnSharedSet(t *testing.T) {
	if testing.Short() {
		t.Skip("the full quality run is skipped with -short (the cross-architecture runs under qemu); the native run checks it")
	}
	if _, err := os.Stat(filepath.Join(sharedVADSet, "labels.tsv")); err != nil {
		t.Skipf("shared VAD set not reachable at %s (%v): quality target not checked", sharedVADSet, err)
	}
	t.Parallel()
	for _, gate := range []bool{false, true} {
		rep, err := EvaluateWith(sharedVADSet, Options{Engine: vad.EngineSilero, Gate: gate, Classic: vad.Config{Sensitivity: vad.DefaultSensitivity}})
		if err != nil {
			t.Fatal(err)
		}
		p, q := rep.Pooled, rep.PooledNoLookahead
		t.Logf("gate %v: pooled F1 %.3f false-alarm %.3f (no lookahead: F1 %.3f false-alarm %.3f)", gate, p.F1(), p.FalseAlarm(), q.F1(), q.FalseAlarm())
		if p.Frames() != 82660 {
			t.Errorf("gate %v: pooled frames = %d, want 82660", gate, p.Frames())
		}
		if p.F1() < 0.945 || p.FalseAlarm() > 0.045 {
			t.Errorf("gate %v: pooled F1 %.3f false-alarm %.3f, want F1 >= 0.945 and false-alarm <= 0.045", gate, p.F1(), p.FalseAlarm())
		}
	}
}

// TestVADOnSharedSet holds the VAD to its quality target on the shared labeled set, by the
// set's scoring rule (pooled over the ten scored files): F1 >= 0.91 with false alarms <= 0.10.
func TestVADOnSharedSet(t *testing.T) {
	if testing.Short() {
		t.Skip("the full quality run is skipped with -short (the cross-architecture runs under qemu); the native run checks it")
	}
	if _, err := os.Stat(filepath.Join(sharedVADSet, "labels.tsv")); err != nil {
		t.Skipf("shared VAD set not reachable at %s (%v): quality target not checked", sharedVADSet, err)
	}
	t.Parallel()
	rep, err := Evaluate(sharedVADSet, vad.Config{Sensitivity: vad.DefaultSensitivity})
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Pooled
	t.Logf("pooled F1 %.3f false-alarm %.3f frames %d", p.F1(), p.FalseAlarm(), p.Frames())
	if p.Frames() != 82660 {
		t.Errorf("pooled frames = %d, want 82660 (the set's ten scored files)", p.Frames())
	}
	if p.F1() < 0.91 || p.FalseAlarm() > 0.10 {
		t.Errorf("pooled F1 %.3f false-alarm %.3f, want F1 >= 0.91 and false-alarm <= 0.10", p.F1(), p.FalseAlarm())
	}
}

// upsample16to24 converts 16 kHz audio to 24 kHz with a windowed-sinc interpolator (cut-off
// 7.2 kHz, Blackman window, 32 taps per phase): good enough to check the VAD at the
// pipeline's rate on the 16 kHz set.
func upsample16to24(x []int16) []int16 {
	const half = 16
	var taps [3][2 * half]float64
	for ph := range taps {
		frac := float64(2*ph%3) / 3 // output m sits at input position 2m/3
		for j := range taps[ph] {
			t := frac - float64(j-half+1) // distance from input sample n0+j-half+1
			fc := 0.9 * 0.5               // cycles per input sample
			sinc := 1.0
			if t != 0 {
				sinc = math.Sin(2*math.Pi*fc*t) / (2 * math.Pi * fc * t)
			}
			u := (t + half) / (2 * half) // window position 0..1
			w := 0.42 - 0.5*math.Cos(2*math.Pi*u) + 0.08*math.Cos(4*math.Pi*u)
			if u < 0 || u > 1 {
				w = 0
			}
			taps[ph][j] = 2 * fc * sinc * w
		}
	}
	out := make([]int16, len(x)*3/2)
	for m := range out {
		n0 := 2 * m / 3
		h := &taps[m%3]
		var s float64
		for j := range h {
			if n := n0 + j - half + 1; n >= 0 && n < len(x) {
				s += h[j] * float64(x[n])
			}
		}
		out[m] = int16(max(-32768, min(32767, math.Round(s))))
	}
	return out
}

func TestUpsample16to24(t *testing.T) {
	// A 1 kHz tone keeps its amplitude and frequency.
	x := make([]int16, 1600)
	for i := range x {
		x[i] = int16(math.Round(10000 * math.Sin(2*math.Pi*1000*float64(i)/16000)))
	}
	y := upsample16to24(x)
	for m := 100; m < len(y)-100; m++ {
		want := 10000 * math.Sin(2*math.Pi*1000*float64(m)/24000)
		if d := math.Abs(float64(y[m]) - want); d > 30 {
			t.Fatalf("sample %d = %d, want %.0f", m, y[m], want)
		}
	}
}

// TestVADOnSharedSet24k checks that the model, fitted at 16 kHz, keeps its quality at the
// pipeline's 24 kHz: the set's files are upsampled and scored the same way.
func TestVADOnSharedSet24k(t *testing.T) {
	if testing.Short() {
		t.Skip("the full quality run is skipped with -short (the cross-architecture runs under qemu); the native run checks it")
	}
	if race.Enabled {
		t.Skip("slow under the race detector and single-goroutine; TestVADOnSharedSet covers -race runs")
	}
	t.Parallel()
	lf, err := os.Open(filepath.Join(sharedVADSet, "labels.tsv"))
	if err != nil {
		t.Skipf("shared VAD set not reachable at %s (%v): 24 kHz quality not checked", sharedVADSet, err)
	}
	labels, err := ReadLabels(lf)
	lf.Close()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range labels {
		if !strings.HasPrefix(name, "echo_") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var pooled Counts
	for _, name := range names {
		segs := labels[name]
		f, err := os.Open(filepath.Join(sharedVADSet, name))
		if err != nil {
			t.Fatal(err)
		}
		s, rate, err := ReadWAVMono16(bufio.NewReader(f))
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rate != 16000 {
			t.Fatalf("%s: %d Hz, want 16000", name, rate)
		}
		out, err := Run(vad.Config{SampleRate: 24000, Sensitivity: vad.DefaultSensitivity}, upsample16to24(s), nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ScoreFrames(TruthFrames(segs, len(out)), HeldDecisions(out, 0))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-22s F1 %.3f false-alarm %.3f", name, c.F1(), c.FalseAlarm())
		pooled = pooled.Add(c)
	}
	t.Logf("24 kHz pooled F1 %.3f false-alarm %.3f frames %d", pooled.F1(), pooled.FalseAlarm(), pooled.Frames())
	if pooled.F1() < 0.91 || pooled.FalseAlarm() > 0.10 {
		t.Errorf("24 kHz pooled F1 %.3f false-alarm %.3f, want F1 >= 0.91 and false-alarm <= 0.10", pooled.F1(), pooled.FalseAlarm())
	}
}
