package aec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveDFT is the reference the FFT is checked against: the definition, in float64.
func naiveDFT(x []float32) (re, im []float64) {
	n := len(x)
	re, im = make([]float64, n/2+1), make([]float64, n/2+1)
	for k := range n/2 + 1 {
		for t, v := range x {
			a := -2 * math.Pi * float64(k*t) / float64(n)
			re[k] += float64(v) * math.Cos(a)
			im[k] += float64(v) * math.Sin(a)
		}
	}
	return re, im
}

func TestFFTMatchesDFT(t *testing.T) {
	for _, n := range []int{4, 8, 16, 64, 256, 512, 1024} {
		f, err := newFFT(n)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		wr, wi := naiveDFT(x)
		re, im := make([]float32, n/2+1), make([]float32, n/2+1)
		f.Forward(x, re, im)
		tol := 1e-4 * math.Sqrt(float64(n)) * math.Log2(float64(n))
		for k := range re {
			if d := math.Hypot(float64(re[k])-wr[k], float64(im[k])-wi[k]); d > tol {
				t.Fatalf("n=%d: X[%d] = %v%+vi, want %v%+vi", n, k, re[k], im[k], wr[k], wi[k])
			}
		}
		y := make([]float32, n)
		f.Inverse(re, im, y)
		for i := range x {
			if d := math.Abs(float64(y[i] - x[i])); d > 1e-5*math.Log2(float64(n)) {
				t.Fatalf("n=%d: Inverse(Forward(x))[%d] = %v, want %v", n, i, y[i], x[i])
			}
		}
	}
}

func TestFFTRejectsLength(t *testing.T) {
	for _, n := range []int{0, 2, 6, 100} {
		if _, err := newFFT(n); err == nil {
			t.Errorf("newFFT(%d) = nil error, want one", n)
		}
	}
}

func TestFFTAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	f, _ := newFFT(256)
	x := make([]float32, 256)
	re, im := make([]float32, 129), make([]float32, 129)
	if n := testing.AllocsPerRun(100, func() { f.Forward(x, re, im); f.Inverse(re, im, x) }); n != 0 {
		t.Errorf("Forward+Inverse allocs = %v, want 0", n)
	}
}

func BenchmarkFFT256(b *testing.B) {
	f, _ := newFFT(256)
	x := make([]float32, 256)
	re, im := make([]float32, 129), make([]float32, 129)
	b.ReportAllocs()
	for b.Loop() {
		f.Forward(x, re, im)
		f.Inverse(re, im, x)
	}
}
