package pipeline

import (
	"fmt"
	"math"
	"math/bits"
)

// vadFFT is a real-input FFT of a fixed power-of-two size n, computed through a complex FFT
// of size n/2. Everything is preallocated so that a transform allocates nothing.
type vadFFT struct {
	n      int
	re, im []float64 // n/2 complex work values
	cosT   []float64 // twiddles of the half-size complex FFT, stage after stage from size 8:
	sinT   []float64 // each stage's half-size run is contiguous
	postC  []float64 // twiddles e^{-2πik/n} of the real-to-complex split, k < n/2
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
		cosT:   make([]float64, 0, m),
		sinT:   make([]float64, 0, m),
		postC:  make([]float64, m),
		postS:  make([]float64, m),
		rev:    make([]int32, m),
		outRe:  make([]float64, m+1),
		outIm:  make([]float64, m+1),
		halfLb: bits.TrailingZeros(uint(m)),
	}
	for size := 8; size <= m; size <<= 1 {
		for k := 0; k < size/2; k++ {
			a := -2 * math.Pi * float64(k) / float64(size)
			f.cosT = append(f.cosT, math.Cos(a))
			f.sinT = append(f.sinT, math.Sin(a))
		}
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

// transform computes the DFT of the n real values x into outRe/outIm (bins 0..n/2).
func (f *vadFFT) transform(x []float64) {
	m := f.n / 2
	re, im := f.re, f.im
	for i := 0; i < m; i++ {
		j := f.rev[i]
		re[j] = x[2*i]
		im[j] = x[2*i+1]
	}
	// Iterative decimation in time: the first two radix-2 stages together as one radix-4
	// stage without multiplications, then radix-2 stages with contiguous twiddles.
	if m >= 4 {
		for k := 0; k < m; k += 4 {
			ar, ai := re[k]+re[k+1], im[k]+im[k+1]
			br, bi := re[k]-re[k+1], im[k]-im[k+1]
			cr, ci := re[k+2]+re[k+3], im[k+2]+im[k+3]
			dr, di := re[k+2]-re[k+3], im[k+2]-im[k+3]
			// d times -i: (di, -dr)
			re[k], im[k] = ar+cr, ai+ci
			re[k+2], im[k+2] = ar-cr, ai-ci
			re[k+1], im[k+1] = br+di, bi-dr
			re[k+3], im[k+3] = br-di, bi+dr
		}
	} else if m == 2 {
		re[0], re[1] = re[0]+re[1], re[0]-re[1]
		im[0], im[1] = im[0]+im[1], im[0]-im[1]
	}
	tw := 0
	for size := 8; size <= m; size <<= 1 {
		half := size >> 1
		cs, sn := f.cosT[tw:tw+half], f.sinT[tw:tw+half]
		tw += half
		for start := 0; start < m; start += size {
			lr, li := re[start+half:start+size], im[start+half:start+size]
			ur, ui := re[start:start+half], im[start:start+half]
			for t := range cs {
				c, s := cs[t], sn[t]
				xr := lr[t]*c - li[t]*s
				xi := lr[t]*s + li[t]*c
				lr[t], li[t] = ur[t]-xr, ui[t]-xi
				ur[t] += xr
				ui[t] += xi
			}
		}
	}
	// Split the half-size spectrum Z of z[n] = x[2n] + i x[2n+1] into the real spectrum X:
	// X[k] = (Z[k] + conj Z[m-k])/2 - i e^{-2πik/n} (Z[k] - conj Z[m-k])/2.
	f.outRe[0] = re[0] + im[0]
	f.outIm[0] = 0
	f.outRe[m] = re[0] - im[0]
	f.outIm[m] = 0
	for k := 1; k < m; k++ {
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
