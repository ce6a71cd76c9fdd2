//go:build !arm64 || purego

package dsp

// fftRadix4, fftInterleave and fftSplit leave all the work to the Go loops (see
// fft_neon_arm64.go).
func fftRadix4(re, im []float32, inverse bool) int { return 0 }

func fftInterleave(re, im, x []float32, s float32) int { return 0 }

func fftSplit(re, im, spRe, spIm, outRe, outIm []float32) int { return 0 }
