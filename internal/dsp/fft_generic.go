//go:build (!amd64 && !arm64 && !arm) || purego

package dsp

// fftStage runs one radix-2 stage of the FFT: the portable loop, on
// architectures without a kernel in assembly and with -tags purego.
func fftStage(re, im, wRe, wIm []float32) { fftStageGo(re, im, wRe, wIm) }
