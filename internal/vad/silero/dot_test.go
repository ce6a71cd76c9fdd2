package silero

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDot16 holds the kernel (assembly where there is one) to the portable loop.
func TestDot16(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{16, 32, 64, 128, 192, 256, 384, 400, 1024} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i] = float32(r.NormFloat64())
			b[i] = float32(r.NormFloat64())
		}
		got, want := dot16(&a[0], &b[0], n), dotGo(a, b)
		var mag float64
		for i := range a {
			mag += math.Abs(float64(a[i]) * float64(b[i]))
		}
		// Fused and unfused multiply-adds round differently; the bound is
		// a few float32 ulps of the sum of magnitudes.
		if e := math.Abs(float64(got - want)); e > 1e-6*mag {
			t.Errorf("dot16(n=%d) = %v, portable loop %v", n, got, want)
		}
	}
	ones := make([]float32, 48)
	for i := range ones {
		ones[i] = 1
	}
	if got := dot16(&ones[0], &ones[0], 48); got != 48 {
		t.Errorf("dot16(ones, ones, 48) = %v, want 48", got)
	}
}

func BenchmarkDot16(b *testing.B) {
	x := make([]float32, 256)
	for i := range x {
		x[i] = float32(i)
	}
	b.SetBytes(4 * 256)
	for b.Loop() {
		dot16(&x[0], &x[0], len(x))
	}
}
