package silero

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDot4 holds the kernel (assembly where there is one) to the portable loop.
func TestDot4(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{16, 32, 64, 128, 192, 256, 384, 400, 1024} {
		for _, stride := range []int{n, n + 16, 3} {
			w, x := make([]float32, 3*stride+n), make([]float32, n)
			for i := range w {
				w[i] = float32(r.NormFloat64())
			}
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			var got, want [4]float32
			dot4(&w[0], stride, &x[0], n, &got)
			dot4Go(&w[0], stride, &x[0], n, &want)
			for k := range got {
				var mag float64
				for i := range x {
					mag += math.Abs(float64(w[k*stride+i]) * float64(x[i]))
				}
				// Fused and unfused multiply-adds, and sums in another
				// order, round differently: a few float32 ulps of the sum
				// of magnitudes.
				if e := math.Abs(float64(got[k] - want[k])); e > 1e-6*mag {
					t.Errorf("dot4(n=%d, stride=%d) row %d = %v, portable loop %v", n, stride, k, got[k], want[k])
				}
			}
		}
	}
	ones := make([]float32, 4*48)
	for i := range ones {
		ones[i] = float32(i/48 + 1)
	}
	var got [4]float32
	dot4(&ones[0], 48, &ones[0], 48, &got)
	if got != [4]float32{48, 96, 144, 192} {
		t.Errorf("dot4(rows of 1, 2, 3, 4; x of 1) = %v, want [48 96 144 192]", got)
	}
}

func BenchmarkDot4(b *testing.B) {
	w := make([]float32, 4*256)
	for i := range w {
		w[i] = float32(i)
	}
	var out [4]float32
	b.SetBytes(4 * 4 * 256)
	for b.Loop() {
		dot4(&w[0], 256, &w[0], 256, &out)
	}
}
