//go:build !purego

package dsp

// fftRadix4 runs the first two stages (see FFT.transform) over the largest
// multiple of 16 values of re and im and returns how many it did; NEON's
// four-way deinterleaving loads make them vector operations. The Go loop does
// the rest, and everything on other architectures.
//
//go:noescape
func fftRadix4(re, im []float32, inverse bool) int

// fftInterleave sets x[2k], x[2k+1] to re[k]·s, im[k]·s for the largest
// multiple of 4 of len(re) values of k and returns how many it did.
//
//go:noescape
func fftInterleave(re, im, x []float32, s float32) int

// fftSplit does the forward split (see fftSplitGo) for k from 1 to the largest
// multiple of 4 up to len(re)/2 and returns that k.
//
//go:noescape
func fftSplit(re, im, spRe, spIm, outRe, outIm []float32) int
