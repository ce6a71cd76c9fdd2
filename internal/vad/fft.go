package vad

import (
	"fmt"
	"math"
	"math/bits"
)

// vadFFT is a real-input FFT of a fixed power-of-two size n, computed through a complex FFT
// of size n/2. Everything is preallocated so that a transform allocates nothing.
type vadFFT struct {
	n      int
	re, im []float64     // n/2 complex work values
	stages []vadFFTStage // radix-4 stages of the half-size complex FFT
	postC  []float64     // twiddles e^{-2πik/n} of the real-to-complex split, k < n/2
	postS  []float64
	rev    []int32 // bit reversal permutation of n/2
	outRe  []float64
	outIm  []float64 // n/2+1 output bins
	halfLb int
}

func newVADFFT(n int) (*vadFFT, error) {
	if n < 4 || n&(n-1) != 0 {
		return nil, fmt.Errorf("vad fft size %d: not a power of two >= 4", n)
	}
	m := n / 2
	f := &vadFFT{
		n:      n,
		re:     make([]float64, m),
		im:     make([]float64, m),
		postC:  make([]float64, m),
		postS:  make([]float64, m),
		rev:    make([]int32, m),
		outRe:  make([]float64, m+1),
		outIm:  make([]float64, m+1),
		halfLb: bits.TrailingZeros(uint(m)),
	}
	l := 1
	if f.halfLb%2 == 1 {
		l = 2 // one radix-2 stage first
	}
	for ; 4*l <= m; l *= 4 {
		st := vadFFTStage{l: l}
		for j := range st.c {
			st.c[j], st.s[j] = make([]float64, l), make([]float64, l)
			for k := 0; k < l; k++ {
				a := -2 * math.Pi * float64((j+1)*k) / float64(4*l)
				st.c[j][k], st.s[j][k] = math.Cos(a), math.Sin(a)
			}
		}
		f.stages = append(f.stages, st)
	}
	for k := range f.postC {
		a := -2 * math.Pi * float64(k) / float64(n)
		f.postC[k], f.postS[k] = math.Cos(a), math.Sin(a)
	}
	for i := range f.rev {
		f.rev[i] = int32(bits.Reverse(uint(i)) >> (bits.UintSize - f.halfLb))
	}
	return f, nil
}

// vadFFTStage is one radix-4 stage combining four transforms of size l: c[j] and s[j]
// hold the twiddles e^{-2πi(j+1)k/4l} as cos and sin for k < l.
type vadFFTStage struct {
	l    int
	c, s [3][]float64
}

// transform computes the DFT of the n real values x into outRe/outIm, bins 0..bins (at most
// n/2); the bins above are left stale, which saves work when only the low ones are used.
// When live is at most n/2, the caller promises that x[live:] are zeros, which saves the
// first stage's work.
//
// Every shortcut here leaves each output the same number, to the bit, as the plain
// transform: a butterfly with a zero input or a twiddle of 1 only skips products and
// sums whose result is exactly one of its operands (a zero's sign may differ, which
// nothing downstream can see: the callers square the outputs or add them to others).
func (f *vadFFT) transform(x []float64, bins, live int) {
	m := f.n / 2
	re, im := f.re[:m], f.im[:m]
	rev := f.rev[:m]
	x = x[:2*m]
	// Iterative decimation in time. Bit reversal leaves the four quarter-size transforms of
	// a radix-4 block at offsets 0, l, 2l, 3l holding the inputs 4n, 4n+2, 4n+1, 4n+3.
	switch {
	case f.halfLb%2 == 1 && live <= m:
		// The radix-2 stage pairs input i (at an even place) with input i+m/2, which is
		// zero: both outputs are input i.
		for i := 0; i < m/2; i++ {
			j := uint(rev[i]) &^ 1
			if j+1 >= uint(m) {
				break // cannot happen: keeps the indexing below free of bounds checks
			}
			xr, xi := x[2*i], x[2*i+1]
			re[j], re[j+1] = xr, xr
			im[j], im[j+1] = xi, xi
		}
	case f.halfLb%2 == 1:
		for i := range rev {
			j := rev[i]
			re[j] = x[2*i]
			im[j] = x[2*i+1]
		}
		for k := 0; k+1 < m; k += 2 {
			re[k], re[k+1] = re[k]+re[k+1], re[k]-re[k+1]
			im[k], im[k+1] = im[k]+im[k+1], im[k]-im[k+1]
		}
	default:
		for i := range rev {
			j := rev[i]
			re[j] = x[2*i]
			im[j] = x[2*i+1]
		}
	}
	for si := range f.stages {
		st := &f.stages[si]
		l := st.l
		c1, s1 := st.c[0][:l], st.s[0][:l]
		c2, s2 := st.c[1][:l], st.s[1][:l]
		c3, s3 := st.c[2][:l], st.s[2][:l]
		for start := 0; start+4*l <= m; start += 4 * l {
			ar, ai := re[start:start+l], im[start:start+l]
			br, bi := re[start+l:start+2*l], im[start+l:start+2*l]
			cr, ci := re[start+2*l:start+3*l], im[start+2*l:start+3*l]
			dr, di := re[start+3*l:start+4*l], im[start+3*l:start+4*l]
			// k = 0: every twiddle is 1.
			{
				t0r, t0i := ar[0], ai[0]
				t1r, t1i := cr[0], ci[0]
				t2r, t2i := br[0], bi[0]
				t3r, t3i := dr[0], di[0]
				s02r, s02i := t0r+t2r, t0i+t2i
				d02r, d02i := t0r-t2r, t0i-t2i
				s13r, s13i := t1r+t3r, t1i+t3i
				d13r, d13i := t1r-t3r, t1i-t3i
				ar[0], ai[0] = s02r+s13r, s02i+s13i
				cr[0], ci[0] = s02r-s13r, s02i-s13i
				br[0], bi[0] = d02r+d13i, d02i-d13r
				dr[0], di[0] = d02r-d13i, d02i+d13r
			}
			for k := 1; k < l; k++ {
				t0r, t0i := ar[k], ai[k]
				t1r, t1i := cr[k]*c1[k]-ci[k]*s1[k], cr[k]*s1[k]+ci[k]*c1[k]
				t2r, t2i := br[k]*c2[k]-bi[k]*s2[k], br[k]*s2[k]+bi[k]*c2[k]
				t3r, t3i := dr[k]*c3[k]-di[k]*s3[k], dr[k]*s3[k]+di[k]*c3[k]
				s02r, s02i := t0r+t2r, t0i+t2i
				d02r, d02i := t0r-t2r, t0i-t2i
				s13r, s13i := t1r+t3r, t1i+t3i
				d13r, d13i := t1r-t3r, t1i-t3i
				ar[k], ai[k] = s02r+s13r, s02i+s13i
				cr[k], ci[k] = s02r-s13r, s02i-s13i
				br[k], bi[k] = d02r+d13i, d02i-d13r // t0 - i t1 - t2 + i t3
				dr[k], di[k] = d02r-d13i, d02i+d13r // t0 + i t1 - t2 - i t3
			}
		}
	}
	// Split the half-size spectrum Z of z[n] = x[2n] + i x[2n+1] into the real spectrum X:
	// X[k] = (Z[k] + conj Z[m-k])/2 - i e^{-2πik/n} (Z[k] - conj Z[m-k])/2.
	outRe, outIm := f.outRe[:m+1], f.outIm[:m+1]
	outRe[0] = re[0] + im[0]
	outIm[0] = 0
	outRe[m] = re[0] - im[0]
	outIm[m] = 0
	postC, postS := f.postC[:m], f.postS[:m]
	for k := 1; k <= bins && k < m; k++ {
		ar, ai := re[k], im[k]
		br, bi := re[m-k], -im[m-k]
		er, ei := (ar+br)*0.5, (ai+bi)*0.5
		or, oi := (ar-br)*0.5, (ai-bi)*0.5
		// -i * (or + i oi) = oi - i or
		dr, di := oi, -or
		c, s := postC[k], postS[k]
		outRe[k] = er + dr*c - di*s
		outIm[k] = ei + dr*s + di*c
	}
}
