//go:build (amd64 || arm64 || arm) && !purego

package dsp

// resampleDot16 returns the dot product of the n float32 values at c and w; n is a
// positive multiple of 16. Four vector accumulators of four lanes (SSE on amd64, NEON
// on arm64): about four times the scalar loop. ARMv6 has no vector unit, but its
// VFP multiply-accumulate and offset loads take a third of the compiled loop's
// instructions. The resampler is most of the audio path's CPU.
//
//go:noescape
func resampleDot16(c, w *float32, n int) float32
