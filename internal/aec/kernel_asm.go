//go:build (amd64 || arm64 || arm) && !purego

package aec

// cmacConj4 is cmacConj over n bins, n a positive multiple of 4: SSE (amd64)
// and NEON (arm64) lanes, four bins a turn, and VFP loads and stores at fixed
// offsets on ARMv6, which has no vector unit.
//
//go:noescape
func cmacConj4(accRe, accIm, gRe, gIm, xRe, xIm *float32, n int)

// cmac2x4 is cmac2 over n bins, n a positive multiple of 4, in the same way.
//
//go:noescape
func cmac2x4(yaRe, yaIm, ybRe, ybIm, waRe, waIm, wbRe, wbIm, xRe, xIm *float32, n int)
