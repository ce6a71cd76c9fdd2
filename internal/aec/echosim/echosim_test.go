package echosim

import (
	"math"
	"testing"
)

func TestImpulse(t *testing.T) {
	r := Room{DelayMs: 50, RT60Ms: 200, DRRdB: 6, Seed: 1}
	h := r.Impulse(16000)
	best, at := float32(0), 0
	for i, v := range h {
		if v*v > best {
			best, at = v*v, i
		}
	}
	if at != 800 {
		t.Errorf("direct path at sample %d, want 800 (50 ms)", at)
	}
	var direct, rest float64
	for i, v := range h {
		if i >= 792 && i <= 808 {
			direct += float64(v * v)
		} else {
			rest += float64(v * v)
		}
	}
	if drr := 10 * math.Log10(direct/rest); math.Abs(drr-6) > 1.5 {
		t.Errorf("direct-to-reverberant = %.1f dB, want 6 ± 1.5", drr)
	}
}

func TestDriftAndResample(t *testing.T) {
	x := make([]float32, 16000)
	for i := range x {
		x[i] = float32(math.Sin(float64(i) * 0.05))
	}
	if y := Drift(x, 0); y[5000] != x[5000] {
		t.Errorf("Drift(x, 0)[5000] = %v, want %v", y[5000], x[5000])
	}
	// +100 ppm: sample 10000 of the output is input time 10001.
	y := Drift(x, 100)
	if want := math.Sin(10001 * 0.05); math.Abs(float64(y[10000])-want) > 1e-3 {
		t.Errorf("Drift(x, 100)[10000] = %v, want %v", y[10000], want)
	}
	z := Resample(x, 16000, 24000)
	if len(z) != 24000 {
		t.Fatalf("len(Resample 16k→24k of 1 s) = %d, want 24000", len(z))
	}
	if want := math.Sin(6000 * 0.05); math.Abs(float64(z[9000])-want) > 1e-2 {
		t.Errorf("Resample(x)[9000] = %v, want %v", z[9000], want)
	}
}

func TestMixLevels(t *testing.T) {
	echo := make([]float32, 1000)
	near := make([]float32, 1000)
	for i := range echo {
		echo[i] = 0.1
		near[i] = 0.5
	}
	s := Mix(echo, echo, near, 6, -120, 1)
	if got := 20 * math.Log10(RMS(s.Near)/RMS(echo)); math.Abs(got-6) > 0.01 {
		t.Errorf("near-end level = %.2f dB over the echo, want 6", got)
	}
}
