//go:build (amd64 || arm64) && !purego

package pipeline

// resampleDot16 returns the dot product of the n float32 values at c and w; n is a
// positive multiple of 16. Four vector accumulators of four lanes (SSE on amd64, NEON
// on arm64): about four times the scalar loop, and the resampler is most of the
// audio path's CPU.
//
//go:noescape
func resampleDot16(c, w *float32, n int) float32
