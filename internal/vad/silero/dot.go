package silero

import "unsafe"

// dotGo is the portable dot product, and the reference the kernels are tested
// against: four partial sums, as the vector kernels keep lanes.
func dotGo(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	b = b[:len(a)]
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dot4Go is the portable dot4: the dot products of four rows w, w+stride,
// w+2*stride, w+3*stride (n values each) with x.
func dot4Go(w *float32, stride int, x *float32, n int, out *[4]float32) {
	xs := unsafe.Slice(x, n)
	for r := range out {
		out[r] = dotGo(unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(w), 4*r*stride)), n), xs)
	}
}
