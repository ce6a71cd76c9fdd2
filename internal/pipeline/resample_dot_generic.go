//go:build (!amd64 && !arm64) || purego

package pipeline

import "unsafe"

// resampleDot16 returns the dot product of the n float32 values at c and w; n is a
// positive multiple of 16. ARMv6 has no vector unit Go can use: the scalar loop.
func resampleDot16(c, w *float32, n int) float32 {
	return resampleDotGo(unsafe.Slice(c, n), unsafe.Slice(w, n))
}
