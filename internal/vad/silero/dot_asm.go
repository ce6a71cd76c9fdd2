//go:build (amd64 || arm64 || arm) && !purego

package silero

// dot4 sets out[r] to the dot product of the row at w+r*stride with x, for
// four rows of n values (stride in values); n is a positive multiple of 16.
// Four rows share each load of x: with SSE (amd64) and NEON (arm64) lanes, and
// VFP multiply-accumulates on ARMv6, which has no vector unit.
//
//go:noescape
func dot4(w *float32, stride int, x *float32, n int, out *[4]float32)
