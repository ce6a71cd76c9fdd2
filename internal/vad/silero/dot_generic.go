//go:build (!amd64 && !arm64 && !arm) || purego

package silero

// dot4 sets out[r] to the dot product of the row at w+r*stride with x, for
// four rows of n values; n is a positive multiple of 16: the portable loop,
// on architectures without a kernel in assembly and with -tags purego.
func dot4(w *float32, stride int, x *float32, n int, out *[4]float32) {
	dot4Go(w, stride, x, n, out)
}
