package echosim

import (
	"math"
	"math/rand/v2"
)

// Room describes the path from what is played to what the microphone hears.
type Room struct {
	Name     string
	DelayMs  float64 // direct path delay, including the sound cards' buffering
	RT60Ms   float64 // reverberation time (60 dB decay)
	DRRdB    float64 // direct-to-reverberant energy ratio
	GaindB   float64 // level of the direct path relative to the reference
	ClipDB   float64 // loudspeaker drive into a tanh soft clip, dB above full scale; 0 = linear
	DriftPPM float64 // capture clock relative to playback, parts per million
	Seed     uint64
}

// Linear reports whether the room is a linear time-invariant path (no clipping, no drift).
func (r Room) Linear() bool { return r.ClipDB == 0 && r.DriftPPM == 0 }

// Impulse returns the room's impulse response at rate.
func (r Room) Impulse(rate int) []float32 {
	rng := rand.New(rand.NewPCG(r.Seed, 0x5eed))
	d := r.DelayMs * float64(rate) / 1000
	length := int(d) + int(r.RT60Ms*float64(rate)/1000) + 16
	h := make([]float64, length)
	// The direct path as a fractional-delay windowed sinc, a few taps wide.
	for i := -8; i <= 8; i++ {
		t := float64(int(d)+i) - d
		if k := int(d) + i; k >= 0 && k < length {
			h[k] += sinc(t) * (0.5 + 0.5*math.Cos(math.Pi*t/9))
		}
	}
	// A few early reflections, then a diffuse exponential tail.
	var tail float64
	start := int(d) + rate/1000 // 1 ms after the direct path
	rev := make([]float64, length)
	for k := start; k < length; k++ {
		t := float64(k-start) / float64(rate)
		env := math.Exp(-6.9078 * t / (r.RT60Ms / 1000))
		rev[k] = rng.NormFloat64() * env
		tail += rev[k] * rev[k]
	}
	for range 4 {
		k := start + rng.IntN(max(1, rate*15/1000))
		if k < length {
			rev[k] += 0.5 * rng.NormFloat64() * math.Sqrt(tail/float64(rate)*100)
		}
	}
	tail = 0
	for _, v := range rev {
		tail += v * v
	}
	want := math.Pow(10, -r.DRRdB/10) // direct energy is ~1
	g := math.Sqrt(want / tail)
	amp := math.Pow(10, r.GaindB/20)
	out := make([]float32, length)
	for k := range h {
		out[k] = float32(amp * (h[k] + g*rev[k]))
	}
	return out
}

func sinc(t float64) float64 {
	if t == 0 {
		return 1
	}
	return math.Sin(math.Pi*t) / (math.Pi * t)
}

// Echo renders what the microphone hears of ref in this room.
func (r Room) Echo(ref []float32, rate int) []float32 {
	x := ref
	if r.ClipDB != 0 {
		drive := math.Pow(10, r.ClipDB/20)
		x = make([]float32, len(ref))
		for i, v := range ref {
			x[i] = float32(math.Tanh(float64(v)*drive) / drive * 1.5)
		}
	}
	y := Convolve(x, r.Impulse(rate))
	if r.DriftPPM != 0 {
		y = Drift(y, r.DriftPPM)
	}
	return y[:len(ref)]
}

// Convolve returns x*h, len(x)+len(h)-1 samples (direct form; fine for scenes).
func Convolve(x, h []float32) []float32 {
	y := make([]float32, len(x)+len(h)-1)
	// Skip the leading zeros of h (the delay) to save time.
	first := 0
	for first < len(h) && h[first] == 0 {
		first++
	}
	for k := first; k < len(h); k++ {
		c := h[k]
		if c == 0 {
			continue
		}
		yy := y[k : k+len(x)]
		for i, v := range x {
			yy[i] += c * v
		}
	}
	return y
}

// Drift resamples x as a capture clock ppm parts per million fast would see it:
// output sample i is x at time i·(1+ppm·1e-6), interpolated with a 32-tap
// Hann-windowed sinc.
func Drift(x []float32, ppm float64) []float32 {
	ratio := 1 + ppm*1e-6
	y := make([]float32, len(x))
	const half = 16
	for i := range y {
		t := float64(i) * ratio
		k0 := int(math.Floor(t))
		var s float64
		for k := k0 - half + 1; k <= k0+half; k++ {
			if k < 0 || k >= len(x) {
				continue
			}
			u := t - float64(k)
			s += float64(x[k]) * sinc(u) * (0.5 + 0.5*math.Cos(math.Pi*u/half))
		}
		y[i] = float32(s)
	}
	return y
}
