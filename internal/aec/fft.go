package aec

import (
	"fmt"
	"math"
)

// fft is a real FFT of a fixed power-of-two length n, built once and reused: the
// n real samples are packed as n/2 complex ones, transformed by an iterative
// radix-2 complex FFT, and split into the n/2+1 bins of the real spectrum. All
// buffers are preallocated, so Forward and Inverse never allocate.
//
// Spectra are held as separate real and imaginary slices of n/2+1 values (bin 0
// to Nyquist): the filter's multiply-accumulate loops then run over plain float32
// slices.
type fft struct {
	n, m   int       // real length, complex length n/2
	rev    []int32   // bit reversal of m
	twRe   []float32 // exp(-2πij/m), j < m/2
	twIm   []float32
	spRe   []float32 // exp(-2πik/n), k <= m/2: the split between packed and real spectra
	spIm   []float32
	re, im []float32 // work, m values
}

func newFFT(n int) (*fft, error) {
	if n < 4 || n&(n-1) != 0 {
		return nil, fmt.Errorf("aec: fft length %d is not a power of two >= 4", n)
	}
	m := n / 2
	f := &fft{n: n, m: m,
		rev: make([]int32, m), twRe: make([]float32, m/2), twIm: make([]float32, m/2),
		spRe: make([]float32, m/2+1), spIm: make([]float32, m/2+1),
		re: make([]float32, m), im: make([]float32, m)}
	bits := 0
	for 1<<bits < m {
		bits++
	}
	for i := range m {
		r := 0
		for b := range bits {
			if i&(1<<b) != 0 {
				r |= 1 << (bits - 1 - b)
			}
		}
		f.rev[i] = int32(r)
	}
	for j := range m / 2 {
		a := -2 * math.Pi * float64(j) / float64(m)
		f.twRe[j], f.twIm[j] = float32(math.Cos(a)), float32(math.Sin(a))
	}
	for k := range m/2 + 1 {
		a := -2 * math.Pi * float64(k) / float64(n)
		f.spRe[k], f.spIm[k] = float32(math.Cos(a)), float32(math.Sin(a))
	}
	return f, nil
}

// transform runs the complex FFT of length m in place on f.re, f.im; inverse
// conjugates the twiddles (no scaling).
func (f *fft) transform(inverse bool) {
	re, im, m := f.re[:f.m], f.im[:f.m], f.m
	for i := range m {
		j := int(f.rev[i])
		if j > i {
			re[i], re[j] = re[j], re[i]
			im[i], im[j] = im[j], im[i]
		}
	}
	sign := float32(1)
	if inverse {
		sign = -1
	}
	// First stage by itself: its twiddle is 1.
	for i := 0; i+1 < m; i += 2 {
		ar, ai, br, bi := re[i], im[i], re[i+1], im[i+1]
		re[i], im[i], re[i+1], im[i+1] = ar+br, ai+bi, ar-br, ai-bi
	}
	for size := 4; size <= m; size <<= 1 {
		half, step := size>>1, m/size
		for start := 0; start < m; start += size {
			a, b := start, start+half
			for j := range half {
				wr, wi := f.twRe[j*step], sign*f.twIm[j*step]
				xr, xi := re[b+j], im[b+j]
				tr := wr*xr - wi*xi
				ti := wr*xi + wi*xr
				ur, ui := re[a+j], im[a+j]
				re[a+j], im[a+j] = ur+tr, ui+ti
				re[b+j], im[b+j] = ur-tr, ui-ti
			}
		}
	}
}

// Forward writes the spectrum of x (n samples) into outRe, outIm (n/2+1 bins).
func (f *fft) Forward(x, outRe, outIm []float32) {
	m := f.m
	x = x[:f.n]
	outRe, outIm = outRe[:m+1], outIm[:m+1]
	for k := range m {
		f.re[k], f.im[k] = x[2*k], x[2*k+1]
	}
	f.transform(false)
	// X[k] = E[k] + W^k O[k] with E, O the spectra of the even and odd samples,
	// recovered from Z[k] and conj(Z[m-k]).
	outRe[0], outIm[0] = f.re[0]+f.im[0], 0
	outRe[m], outIm[m] = f.re[0]-f.im[0], 0
	for k := 1; k <= m/2; k++ {
		zr, zi := f.re[k], f.im[k]
		cr, ci := f.re[m-k], -f.im[m-k]
		er, ei := 0.5*(zr+cr), 0.5*(zi+ci)
		// O = (Z - conj(Z[m-k])) / (2i)
		or, oi := 0.5*(zi-ci), -0.5*(zr-cr)
		wr, wi := f.spRe[k], f.spIm[k]
		tr, ti := wr*or-wi*oi, wr*oi+wi*or
		outRe[k], outIm[k] = er+tr, ei+ti
		// X[m-k] = conj(E[k]) - conj(W^k O[k]) since W^(m-k) = -conj(W^k).
		outRe[m-k], outIm[m-k] = er-tr, -ei+ti
	}
}

// Inverse writes into x (n samples) the signal whose spectrum is inRe, inIm,
// scaled so that Inverse(Forward(x)) == x.
func (f *fft) Inverse(inRe, inIm, x []float32) {
	m := f.m
	inRe, inIm = inRe[:m+1], inIm[:m+1]
	x = x[:f.n]
	for k := 0; k <= m/2; k++ {
		ar, ai := inRe[k], inIm[k]
		br, bi := inRe[m-k], -inIm[m-k] // conj(X[m-k])
		er, ei := ar+br, ai+bi          // 2E[k]
		dr, di := ar-br, ai-bi          // 2W^k O[k]
		wr, wi := f.spRe[k], -f.spIm[k] // W^-k
		or, oi := wr*dr-wi*di, wr*di+wi*dr
		// Z[k] = E + iO
		f.re[k], f.im[k] = er-oi, ei+or
		if k != 0 && k != m-k {
			// Z[m-k] = conj(E[k]) + i conj(O[k])... from the mirrored bin.
			f.re[m-k], f.im[m-k] = er+oi, -ei+or
		}
	}
	f.transform(true)
	s := 1 / float32(f.n)
	for k := range m {
		x[2*k], x[2*k+1] = f.re[k]*s, f.im[k]*s
	}
}
