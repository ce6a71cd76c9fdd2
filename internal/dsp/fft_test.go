package dsp

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/voiced-project/voiced/internal/race"
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
		f, err := NewFFT(n)
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
		if _, err := NewFFT(n); err == nil {
			t.Errorf("NewFFT(%d) = nil error, want one", n)
		}
	}
}

func TestFFTAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector allocates")
	}
	f, _ := NewFFT(256)
	x := make([]float32, 256)
	re, im := make([]float32, 129), make([]float32, 129)
	if n := testing.AllocsPerRun(100, func() { f.Forward(x, re, im); f.Inverse(re, im, x) }); n != 0 {
		t.Errorf("Forward+Inverse allocs = %v, want 0", n)
	}
}

func BenchmarkFFT256(b *testing.B) {
	f, _ := NewFFT(256)
	x := make([]float32, 256)
	re, im := make([]float32, 129), make([]float32, 129)
	b.ReportAllocs()
	for b.Loop() {
		f.Forward(x, re, im)
		f.Inverse(re, im, x)
	}
}

// TestFFTStage holds the stage kernel to the Go loop: the same operations, so
// equal but for the fused multiply-adds of arm64.
func TestFFTStage(t *testing.T) {
	tol := 1e-6
	if runtime.GOARCH == "amd64" {
		tol = 0 // the same operations in the same order
	}
	rng := rand.New(rand.NewPCG(2, 9))
	for _, c := range []struct{ half, m int }{{4, 8}, {4, 128}, {8, 64}, {16, 16 * 2}, {64, 512}} {
		vec := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return v
		}
		re, im, wRe, wIm := vec(c.m), vec(c.m), vec(c.half), vec(c.half)
		wantRe, wantIm := append([]float32(nil), re...), append([]float32(nil), im...)
		fftStageGo(wantRe, wantIm, wRe, wIm)
		fftStage(re, im, wRe, wIm)
		for i := range re {
			if math.Abs(float64(re[i]-wantRe[i])) > tol || math.Abs(float64(im[i]-wantIm[i])) > tol {
				t.Fatalf("half %d, m %d: fftStage[%d] = %v%+vi, want %v%+vi", c.half, c.m, i, re[i], im[i], wantRe[i], wantIm[i])
			}
		}
	}
}

// TestFFTRadix4Interleave holds the first stages' and the inverse's output
// kernels to the Go loops: additions and exact scalings only, so equal to the
// bit everywhere.
func TestFFTRadix4Interleave(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, m := range []int{4, 8, 16, 20, 128, 256} {
		for _, inverse := range []bool{false, true} {
			re, im := make([]float32, m), make([]float32, m)
			for i := range re {
				re[i], im[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			wantRe, wantIm := append([]float32(nil), re...), append([]float32(nil), im...)
			fftRadix4Go(wantRe, wantIm, inverse, 0)
			gotRe, gotIm := append([]float32(nil), re...), append([]float32(nil), im...)
			fftRadix4Go(gotRe, gotIm, inverse, fftRadix4(gotRe, gotIm, inverse))
			for i := range gotRe {
				if gotRe[i] != wantRe[i] || gotIm[i] != wantIm[i] {
					t.Fatalf("m %d, inverse %v: [%d] = %v%+vi, Go loop %v%+vi", m, inverse, i, gotRe[i], gotIm[i], wantRe[i], wantIm[i])
				}
			}
		}
	}
	re, im := make([]float32, 37), make([]float32, 37)
	for i := range re {
		re[i], im[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	x := make([]float32, 2*len(re))
	for k := fftInterleave(re, im, x, 1.0/256); k < len(re); k++ {
		x[2*k], x[2*k+1] = re[k]/256, im[k]/256
	}
	for k := range re {
		if x[2*k] != re[k]/256 || x[2*k+1] != im[k]/256 {
			t.Fatalf("fftInterleave: x[%d], x[%d] = %v, %v, want %v, %v", 2*k, 2*k+1, x[2*k], x[2*k+1], re[k]/256, im[k]/256)
		}
	}
}

// TestFFTSplit holds the forward split's kernel to the Go loop: equal but for
// the fused multiply-adds of arm64.
func TestFFTSplit(t *testing.T) {
	tol := float32(1e-5)
	if runtime.GOARCH != "arm64" {
		tol = 0 // no kernel: the Go loop itself
	}
	rng := rand.New(rand.NewPCG(4, 7))
	for _, m := range []int{2, 4, 8, 16, 24, 128, 256} {
		v := func(n int) []float32 {
			s := make([]float32, n)
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
			return s
		}
		re, im, spRe, spIm := v(m), v(m), v(m/2+1), v(m/2+1)
		wantRe, wantIm := make([]float32, m+1), make([]float32, m+1)
		fftSplitGo(re, im, spRe, spIm, wantRe, wantIm, 1)
		gotRe, gotIm := make([]float32, m+1), make([]float32, m+1)
		fftSplitGo(re, im, spRe, spIm, gotRe, gotIm, 1+fftSplit(re, im, spRe, spIm, gotRe, gotIm))
		for k := range gotRe {
			if d, e := gotRe[k]-wantRe[k], gotIm[k]-wantIm[k]; d > tol || d < -tol || e > tol || e < -tol {
				t.Fatalf("m %d: bin %d = %v%+vi, Go loop %v%+vi", m, k, gotRe[k], gotIm[k], wantRe[k], wantIm[k])
			}
		}
	}
}
