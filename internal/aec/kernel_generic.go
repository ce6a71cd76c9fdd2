//go:build (!amd64 && !arm64 && !arm) || purego

package aec

import "unsafe"

// cmacConj4 and cmac2x4 are the kernels' signatures over the Go loops, on
// architectures without assembly and with -tags purego.
func cmacConj4(accRe, accIm, gRe, gIm, xRe, xIm *float32, n int) {
	s := func(p *float32) []float32 { return unsafe.Slice(p, n) }
	cmacConjGo(s(accRe), s(accIm), s(gRe), s(gIm), s(xRe), s(xIm))
}

func cmac2x4(yaRe, yaIm, ybRe, ybIm, waRe, waIm, wbRe, wbIm, xRe, xIm *float32, n int) {
	s := func(p *float32) []float32 { return unsafe.Slice(p, n) }
	cmac2Go(s(yaRe), s(yaIm), s(ybRe), s(ybIm), s(waRe), s(waIm), s(wbRe), s(wbIm), s(xRe), s(xIm))
}
