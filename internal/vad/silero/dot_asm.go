//go:build (amd64 || arm64 || arm) && !purego

package silero

// dot16 returns the dot product of the n float32 values at a and b; n is a
// positive multiple of 16. Four accumulators: SSE lanes on amd64, NEON on
// arm64, VFP multiply-accumulate on ARMv6 (which has no vector unit).
//
//go:noescape
func dot16(a, b *float32, n int) float32
