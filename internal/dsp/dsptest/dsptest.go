package dsptest

import "math"

// Ramp returns n samples counting up from from, so that a test can see which
// samples came through and in what order.
func Ramp(from, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(from + i)
	}
	return s
}

// BinAmp is the amplitude of the component at DFT bin k of y
// (Goertzel); with coherent sampling there is no leakage between bins.
func BinAmp(y []int16, k int) float64 {
	n := len(y)
	w := 2 * math.Pi * float64(k) / float64(n)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range y {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	re := s1 - s2*math.Cos(w)
	im := s2 * math.Sin(w)
	a := 2 * math.Hypot(re, im) / float64(n)
	if k == 0 || 2*k == n {
		a /= 2
	}
	return a
}
