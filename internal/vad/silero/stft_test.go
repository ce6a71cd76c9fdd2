package silero

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSTFTMag holds the FFT to a direct Hann-windowed DFT in float64 (that the
// model's basis is this DFT, internal/onnxconv checks).
func TestSTFTMag(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, fftLen)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 0.3)
	}
	st := newSTFT()
	got := make([]float32, bins)
	st.mag(got, x)
	for k := range bins {
		var re, im float64
		for n, v := range x {
			w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(n)/fftLen)
			s, c := math.Sincos(2 * math.Pi * float64(k*n) / fftLen)
			re += w * c * float64(v)
			im -= w * s * float64(v)
		}
		want := math.Hypot(re, im)
		if e := math.Abs(float64(got[k]) - want); e > 2e-5 {
			t.Errorf("bin %d: |X| = %v, direct DFT %v", k, got[k], want)
		}
	}
}
