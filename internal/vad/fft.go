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
		for j := range st.w {
			st.w[j] = make([]float64, 2*l)
			for k := 0; k < l; k++ {
				a := -2 * math.Pi * float64((j+1)*k) / float64(4*l)
				st.w[j][2*k], st.w[j][2*k+1] = math.Cos(a), math.Sin(a)
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

// vadFFTStage is one radix-4 stage combining four transforms of size l: w[j] holds the
// twiddles e^{-2πi(j+1)k/4l} as (cos, sin) pairs for k < l.
type vadFFTStage struct {
	l int
	w [3][]float64
}

// transform computes the DFT of the n real values x into outRe/outIm, bins 0..bins (at most
// n/2); the bins above are left stale, which saves work when only the low ones are used.
func (f *vadFFT) transform(x []float64, bins int) {
	m := f.n / 2
	re, im := f.re, f.im
	for i := 0; i < m; i++ {
		j := f.rev[i]
		re[j] = x[2*i]
		im[j] = x[2*i+1]
	}
	// Iterative decimation in time. Bit reversal leaves the four quarter-size transforms of
	// a radix-4 block at offsets 0, l, 2l, 3l holding the inputs 4n, 4n+2, 4n+1, 4n+3.
	if f.halfLb%2 == 1 {
		for k := 0; k < m; k += 2 {
			re[k], re[k+1] = re[k]+re[k+1], re[k]-re[k+1]
			im[k], im[k+1] = im[k]+im[k+1], im[k]-im[k+1]
		}
	}
	for si := range f.stages {
		st := &f.stages[si]
		l := st.l
		w1, w2, w3 := st.w[0][:2*l], st.w[1][:2*l], st.w[2][:2*l]
		for start := 0; start < m; start += 4 * l {
			ar, ai := re[start:start+l], im[start:start+l]
			br, bi := re[start+l:start+2*l], im[start+l:start+2*l]
			cr, ci := re[start+2*l:start+3*l], im[start+2*l:start+3*l]
			dr, di := re[start+3*l:start+4*l], im[start+3*l:start+4*l]
			for k := 0; k < l; k++ {
				c1, s1 := w1[2*k], w1[2*k+1]
				c2, s2 := w2[2*k], w2[2*k+1]
				c3, s3 := w3[2*k], w3[2*k+1]
				t0r, t0i := ar[k], ai[k]
				t1r, t1i := cr[k]*c1-ci[k]*s1, cr[k]*s1+ci[k]*c1
				t2r, t2i := br[k]*c2-bi[k]*s2, br[k]*s2+bi[k]*c2
				t3r, t3i := dr[k]*c3-di[k]*s3, dr[k]*s3+di[k]*c3
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
	f.outRe[0] = re[0] + im[0]
	f.outIm[0] = 0
	f.outRe[m] = re[0] - im[0]
	f.outIm[m] = 0
	for k := 1; k <= bins && k < m; k++ {
		ar, ai := re[k], im[k]
		br, bi := re[m-k], -im[m-k]
		er, ei := (ar+br)*0.5, (ai+bi)*0.5
		or, oi := (ar-br)*0.5, (ai-bi)*0.5
		// -i * (or + i oi) = oi - i or
		dr, di := oi, -or
		c, s := f.postC[k], f.postS[k]
		f.outRe[k] = er + dr*c - di*s
		f.outIm[k] = ei + dr*s + di*c
	}
}
