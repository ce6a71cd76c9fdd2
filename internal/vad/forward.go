package vad

import "math"

// vadModelForward evaluates the network: standardisation is folded into the first layer,
// tanh hidden units, one linear output (the log-odds of speech).
func vadModelForward(x *[vadNumFeat]float32, h *[vadModelHidden]float32) float64 {
	for j := range h {
		s := vadModelB1[j]
		w := &vadModelW1[j]
		for i, xi := range x {
			s += w[i] * xi
		}
		h[j] = float32(math.Tanh(float64(s)))
	}
	z := vadModelB2
	for j, hj := range h {
		z += vadModelW2[j] * hj
	}
	return float64(z)
}
