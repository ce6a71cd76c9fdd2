//go:build (!amd64 && !arm64 && !arm) || purego

package silero

import "unsafe"

// dot16 returns the dot product of the n float32 values at a and b; n is a
// positive multiple of 16: the portable loop, on architectures without a
// kernel in assembly and with -tags purego.
func dot16(a, b *float32, n int) float32 {
	return dotGo(unsafe.Slice(a, n), unsafe.Slice(b, n))
}
