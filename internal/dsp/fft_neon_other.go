//go:build !arm64 || purego

package dsp

// fftRadix4 and fftInterleave leave all the work to the Go loops (see
// fft_neon_arm64.go).
func fftRadix4(re, im []float32, inverse bool) int { return 0 }

func fftInterleave(re, im, x []float32, s float32) int { return 0 }
