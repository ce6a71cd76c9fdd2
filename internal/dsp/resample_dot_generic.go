//go:build (!amd64 && !arm64 && !arm) || purego

package dsp

import "unsafe"

// resampleDot16 returns the dot product of the n float32 values at c and w; n is a
// positive multiple of 16: the portable loop, on architectures without a kernel
// in assembly and with -tags purego.
func resampleDot16(c, w *float32, n int) float32 {
	return resampleDotGo(unsafe.Slice(c, n), unsafe.Slice(w, n))
}
