package vadtest

import (
	"math"
	"math/rand/v2"
)

// SynthVoice makes secs seconds of Gaussian noise (standard deviation noiseAmp, in LSB) with
// a voiced sound from startS to endS: a 100-180 Hz glottal-like harmonic series shaped by
// three formants and a 4 Hz syllable envelope, peak amplitude about voiceAmp.
func SynthVoice(rate int, secs, startS, endS, noiseAmp, voiceAmp float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([]int16, int(secs*float64(rate)))
	var ph, f0 float64
	var amps [64]float64 // harmonic amplitudes, updated every 10 ms as the pitch moves
	for t := range out {
		ts := float64(t) / float64(rate)
		x := noiseAmp * rng.NormFloat64()
		if ts >= startS && ts < endS {
			if t%(rate/100) == 0 || f0 == 0 {
				f0 = 140 + 40*math.Sin(2*math.Pi*1.3*ts)
				for h := 1; h < len(amps); h++ {
					fh := f0 * float64(h)
					if fh >= math.Min(5000, float64(rate)/2) {
						amps[h] = 0
						continue
					}
					a := 0.3
					for _, fm := range [...]float64{600, 1400, 2600} {
						a += math.Exp(-(fh - fm) * (fh - fm) / (2 * 150 * 150))
					}
					amps[h] = a / math.Sqrt(float64(h))
				}
			}
			ph += 2 * math.Pi * f0 / float64(rate)
			env := 0.55 - 0.45*math.Cos(2*math.Pi*4*(ts-startS))
			var s float64
			for h := 1; h < len(amps) && amps[h] != 0; h++ {
				s += amps[h] * math.Sin(float64(h)*ph)
			}
			x += voiceAmp / 4 * env * s
		}
		out[t] = int16(max(-32768, min(32767, math.Round(x))))
	}
	return out
}
