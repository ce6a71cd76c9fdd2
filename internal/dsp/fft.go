package dsp

import (
	"fmt"
	"math"
)

// FFT is a real FFT of a fixed power-of-two length n, built once and reused: the
// n real samples are packed as n/2 complex ones, transformed by an iterative
// radix-2 complex FFT, and split into the n/2+1 bins of the real spectrum. All
// buffers are preallocated, so Forward and Inverse never allocate. An FFT holds
// work buffers: one goroutine at a time.
//
// Spectra are held as separate real and imaginary slices of n/2+1 values (bin 0
// to Nyquist): multiply-accumulate loops over them then run over plain float32
// slices.
type FFT struct {
	n, m int     // real length, complex length n/2
	rev  []int32 // bit reversal of m
	// Twiddles per stage, stage after stage: for the stage of size s, the s/2
	// values exp(∓2πij/s); forward (-) and inverse (+) apart so the butterflies
	// read them in order.
	fwRe, fwIm []float32
	ivRe, ivIm []float32
	spRe       []float32 // exp(-2πik/n), k <= m/2: the split between packed and real spectra
	spIm       []float32
	re, im     []float32 // work, m values
}

// NewFFT returns an FFT of n real samples; n is a power of two, at least 4.
func NewFFT(n int) (*FFT, error) {
	if n < 4 || n&(n-1) != 0 {
		return nil, fmt.Errorf("dsp: fft length %d is not a power of two >= 4", n)
	}
	m := n / 2
	f := &FFT{n: n, m: m,
		rev:  make([]int32, m),
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
	for size := 8; size <= m; size <<= 1 {
		for j := range size / 2 {
			a := -2 * math.Pi * float64(j) / float64(size)
			c, sn := float32(math.Cos(a)), float32(math.Sin(a))
			f.fwRe, f.fwIm = append(f.fwRe, c), append(f.fwIm, sn)
			f.ivRe, f.ivIm = append(f.ivRe, c), append(f.ivIm, -sn)
		}
	}
	for k := range m/2 + 1 {
		a := -2 * math.Pi * float64(k) / float64(n)
		f.spRe[k], f.spIm[k] = float32(math.Cos(a)), float32(math.Sin(a))
	}
	return f, nil
}

// Len is the number of real samples the FFT transforms.
func (f *FFT) Len() int { return f.n }

// transform runs the complex FFT of length m in place on f.re, f.im, whose
// values the caller has stored in bit-reversed order; inverse conjugates the
// twiddles (no scaling). The first two stages run together as radix-4
// butterflies, whose twiddles are 1 and ∓i; the others go to fftStage.
func (f *FFT) transform(inverse bool) {
	re, im, m := f.re[:f.m], f.im[:f.m], f.m
	if m < 4 {
		for i := 0; i+1 < m; i += 2 {
			ar, ai, br, bi := re[i], im[i], re[i+1], im[i+1]
			re[i], im[i], re[i+1], im[i+1] = ar+br, ai+bi, ar-br, ai-bi
		}
		return
	}
	fftRadix4Go(re, im, inverse, fftRadix4(re, im, inverse))
	twRe, twIm := f.fwRe, f.fwIm
	if inverse {
		twRe, twIm = f.ivRe, f.ivIm
	}
	off := 0
	for half := 4; half < m; half <<= 1 {
		fftStage(re, im, twRe[off:off+half:off+half], twIm[off:off+half:off+half])
		off += half
	}
}

// fftRadix4Go runs the first two stages on re, im from index from on (a
// multiple of 4): the portable loop, and the reference for fftRadix4.
func fftRadix4Go(re, im []float32, inverse bool, from int) {
	im = im[:len(re)]
	// In bit-reversed order, a, b, c, d = x[i..i+3] combine as (a±b) then with (c±d)
	// times 1 and ∓i.
	for i := from; i+3 < len(re); i += 4 {
		r, q := re[i:i+4:i+4], im[i:i+4:i+4]
		s0r, s0i := r[0]+r[1], q[0]+q[1]
		d0r, d0i := r[0]-r[1], q[0]-q[1]
		s1r, s1i := r[2]+r[3], q[2]+q[3]
		d1r, d1i := r[2]-r[3], q[2]-q[3]
		// (∓i)·d1: forward -i(x+iy) = y - ix; inverse +i(x+iy) = -y + ix.
		tr, ti := d1i, -d1r
		if inverse {
			tr, ti = -d1i, d1r
		}
		r[0], q[0] = s0r+s1r, s0i+s1i
		r[2], q[2] = s0r-s1r, s0i-s1i
		r[1], q[1] = d0r+tr, d0i+ti
		r[3], q[3] = d0r-tr, d0i-ti
	}
}

// fftStageGo is the portable radix-2 stage, and the reference the kernels are
// tested against: butterflies of size 2*len(wRe) over re, im, with twiddles
// wRe, wIm. len(wRe) is a multiple of 4 and 2*len(wRe) divides len(re).
func fftStageGo(re, im, wRe, wIm []float32) {
	half := len(wRe)
	size := 2 * half
	m := len(re)
	im = im[:m]
	wIm = wIm[:half]
	for start := 0; start+size <= m; start += size {
		ar, ai := re[start:start+half:start+half], im[start:start+half:start+half]
		br, bi := re[start+half:start+size:start+size], im[start+half:start+size:start+size]
		for j := range wRe {
			wr, wi := wRe[j], wIm[j]
			xr, xi := br[j], bi[j]
			tr := wr*xr - wi*xi
			ti := wr*xi + wi*xr
			ur, ui := ar[j], ai[j]
			ar[j], ai[j] = ur+tr, ui+ti
			br[j], bi[j] = ur-tr, ui-ti
		}
	}
}

// Forward writes the spectrum of x (n samples) into outRe, outIm (n/2+1 bins).
func (f *FFT) Forward(x, outRe, outIm []float32) {
	m := f.m
	x = x[:f.n]
	outRe, outIm = outRe[:m+1], outIm[:m+1]
	re, im, rev := f.re[:m], f.im[:m], f.rev[:m]
	// Even samples are the real parts, odd the imaginary, in bit-reversed order.
	for k, j := range rev {
		re[j], im[j] = x[2*k], x[2*k+1]
	}
	f.transform(false)
	// X[k] = E[k] + W^k O[k] with E, O the spectra of the even and odd samples,
	// recovered from Z[k] and conj(Z[m-k]).
	outRe[0], outIm[0] = re[0]+im[0], 0
	outRe[m], outIm[m] = re[0]-im[0], 0
	fftSplitGo(re, im, f.spRe, f.spIm, outRe, outIm, 1+fftSplit(re, im, f.spRe, f.spIm, outRe, outIm))
}

// fftSplitGo writes bins k and m-k of the real spectrum for k from from to
// m/2 (m = len(re)), from the packed transform re, im: the portable loop, and
// the reference for fftSplit.
func fftSplitGo(re, im, spRe, spIm, outRe, outIm []float32, from int) {
	m := len(re)
	im, outRe, outIm = im[:m], outRe[:m+1], outIm[:m+1]
	spRe, spIm = spRe[:m/2+1], spIm[:m/2+1]
	for k := from; k <= m/2; k++ {
		zr, zi := re[k], im[k]
		cr, ci := re[m-k], -im[m-k]
		er, ei := 0.5*(zr+cr), 0.5*(zi+ci)
		// O = (Z - conj(Z[m-k])) / (2i)
		or, oi := 0.5*(zi-ci), -0.5*(zr-cr)
		wr, wi := spRe[k], spIm[k]
		tr, ti := wr*or-wi*oi, wr*oi+wi*or
		outRe[k], outIm[k] = er+tr, ei+ti
		// X[m-k] = conj(E[k]) - conj(W^k O[k]) since W^(m-k) = -conj(W^k).
		outRe[m-k], outIm[m-k] = er-tr, -ei+ti
	}
}

// Inverse writes into x (n samples) the signal whose spectrum is inRe, inIm,
// scaled so that Inverse(Forward(x)) == x.
func (f *FFT) Inverse(inRe, inIm, x []float32) {
	m := f.m
	inRe, inIm = inRe[:m+1], inIm[:m+1]
	x = x[:f.n]
	re, im, rev := f.re[:m], f.im[:m], f.rev[:m]
	spRe, spIm := f.spRe[:m/2+1], f.spIm[:m/2+1]
	// The packed spectrum goes straight into bit-reversed order.
	for k := 0; k <= m/2; k++ {
		ar, ai := inRe[k], inIm[k]
		br, bi := inRe[m-k], -inIm[m-k] // conj(X[m-k])
		er, ei := ar+br, ai+bi          // 2E[k]
		dr, di := ar-br, ai-bi          // 2W^k O[k]
		wr, wi := spRe[k], -spIm[k]     // W^-k
		or, oi := wr*dr-wi*di, wr*di+wi*dr
		// Z[k] = E + iO
		j := rev[k]
		re[j], im[j] = er-oi, ei+or
		if k != 0 && k != m-k {
			// Z[m-k] = conj(E[k]) + i conj(O[k])... from the mirrored bin.
			j = rev[m-k]
			re[j], im[j] = er+oi, -ei+or
		}
	}
	f.transform(true)
	s := 1 / float32(f.n)
	for k := fftInterleave(re, im, x, s); k < m; k++ {
		x[2*k], x[2*k+1] = re[k]*s, im[k]*s
	}
}
