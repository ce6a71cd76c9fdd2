package aec

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/voiced-project/voiced/internal/aec/echosim"
)

// speechLike is noise with a syllable-rate envelope and pauses, coloured like
// voice: enough structure for the delay estimator, broadband for the filter.
func speechLike(n, rate int, seed uint64, level float64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n)
	var lp, lp2 float64
	for i := range x {
		t := float64(i) / float64(rate)
		env := math.Max(0, math.Sin(2*math.Pi*3.7*t+math.Sin(2*math.Pi*0.3*t)*2))
		if math.Sin(2*math.Pi*0.23*t) < -0.6 { // pauses between phrases
			env = 0
		}
		lp = 0.6*lp + rng.NormFloat64()
		lp2 = 0.9*lp2 + 0.1*lp
		x[i] = float32(level * env * (lp - 0.5*lp2))
	}
	return x
}

// runScene cancels mic against ref and returns the output aligned with mic.
func runScene(t testing.TB, c Config, ref, mic []float32) ([]float32, *Canceller) {
	t.Helper()
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	f := c.FrameSize
	out := make([]float32, len(mic)+a.Latency()+f)
	for i := 0; i+f <= len(mic); i += f {
		a.Playback(ref[i:i+f], -1)
		if err := a.Process(mic[i:i+f], out[i:i+f]); err != nil {
			t.Fatal(err)
		}
	}
	return out[a.Latency():], a
}

func erle(mic, out []float32, from, to int) float64 {
	var d, e float64
	for i := from; i < to && i < len(out); i++ {
		d += float64(mic[i]) * float64(mic[i])
		e += float64(out[i]) * float64(out[i])
	}
	return 10 * math.Log10(d/(e+1e-20))
}

func TestLinearRoomConverges(t *testing.T) {
	const rate = 16000
	ref := speechLike(12*rate, rate, 1, 0.2)
	room := echosim.Room{DelayMs: 60, RT60Ms: 200, DRRdB: 6, GaindB: -6, Seed: 3}
	echo := room.Echo(ref, rate)
	out, a := runScene(t, Config{SampleRate: rate, FrameSize: 320, NoSuppress: true}, ref, echo)
	got := erle(echo, out, 6*rate, len(echo)-rate)
	t.Logf("ERLE %.1f dB, stats %+v", got, a.Stats())
	if got < 20 {
		t.Errorf("ERLE after 6 s = %.1f dB, want >= 20", got)
	}
}

func TestFixedDelayConverges(t *testing.T) {
	const rate = 16000
	ref := speechLike(12*rate, rate, 1, 0.2)
	room := echosim.Room{DelayMs: 60, RT60Ms: 200, DRRdB: 6, GaindB: -6, Seed: 3}
	echo := room.Echo(ref, rate)
	for _, d := range []int{1, 60} {
		out, a := runScene(t, Config{SampleRate: rate, FrameSize: 320, NoSuppress: true, DelayMs: d}, ref, echo)
		t.Logf("delay %d: ERLE per 2s: %.1f %.1f %.1f %.1f %.1f stats %+v", d, erle(echo, out, 0, 2*rate), erle(echo, out, 2*rate, 4*rate), erle(echo, out, 4*rate, 6*rate), erle(echo, out, 6*rate, 8*rate), erle(echo, out, 8*rate, 11*rate), a.Stats())
	}
}
