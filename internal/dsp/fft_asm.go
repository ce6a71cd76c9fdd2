//go:build (amd64 || arm64 || arm) && !purego

package dsp

// fftStage runs one radix-2 stage of the FFT (see fftStageGo): four
// butterflies a turn in SSE (amd64) and NEON (arm64) lanes, and with VFP loads
// at fixed offsets on ARMv6, where the compiled loop spends as many
// instructions on addresses as on arithmetic. The stages are most of an FFT's
// work, and the FFTs a third of the echo canceller's.
//
//go:noescape
func fftStage(re, im, wRe, wIm []float32)
