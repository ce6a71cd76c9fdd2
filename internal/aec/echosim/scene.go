package echosim

import "math"

// Resample converts x from one rate to another with a Hann-windowed sinc (for
// preparing material, not for the audio path).
func Resample(x []float32, from, to int) []float32 {
	if from == to {
		return append([]float32(nil), x...)
	}
	ratio := float64(from) / float64(to)
	cut := math.Min(1, 1/ratio) * 0.95
	const half = 24
	n := int(float64(len(x)) / ratio)
	y := make([]float32, n)
	for i := range y {
		t := float64(i) * ratio
		k0 := int(math.Floor(t))
		var s float64
		for k := k0 - half + 1; k <= k0+half; k++ {
			if k < 0 || k >= len(x) {
				continue
			}
			u := t - float64(k)
			s += float64(x[k]) * cut * sinc(cut*u) * (0.5 + 0.5*math.Cos(math.Pi*u/half))
		}
		y[i] = float32(s)
	}
	return y
}

// RMS is the root mean square of x over the samples louder than -60 dBFS (the
// active level, as speech levels are quoted).
func RMS(x []float32) float64 {
	var s float64
	var n int
	for _, v := range x {
		if math.Abs(float64(v)) > 1e-3 {
			s += float64(v) * float64(v)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(s / float64(n))
}

// Scene is one microphone recording with its parts kept apart.
type Scene struct {
	Ref  []float32 // what was played
	Echo []float32 // what the microphone heard of it
	Near []float32 // the user, as the microphone heard them
	Mic  []float32 // Echo + Near + noise
}

// Mix builds a scene: near is scaled so its active level is nearDB relative to
// the echo's, and white noise at noiseDBFS is added.
func Mix(ref, echo, near []float32, nearDB, noiseDBFS float64, seed uint64) Scene {
	s := Scene{Ref: ref, Echo: echo, Near: make([]float32, len(echo)), Mic: make([]float32, len(echo))}
	g := 0.0
	if re, rn := RMS(echo), RMS(near); rn > 0 {
		g = re / rn * math.Pow(10, nearDB/20)
	}
	noise := math.Pow(10, noiseDBFS/20)
	state := seed*2862933555777941757 + 3037000493
	for i := range s.Mic {
		if i < len(near) {
			s.Near[i] = float32(g * float64(near[i]))
		}
		state = state*6364136223846793005 + 1442695040888963407
		u := float64(state>>11)/float64(1<<53)*2 - 1
		s.Mic[i] = s.Echo[i] + s.Near[i] + float32(noise*u*math.Sqrt(3))
	}
	return s
}
