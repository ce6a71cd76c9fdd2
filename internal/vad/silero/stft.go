package silero

import "math"

// The model's STFT is a convolution with a 258x256 basis that is, to float32
// rounding, a periodic Hann window times the DFT's cosines and (negated)
// sines; internal/onnxconv checks that before it leaves the basis out. Its
// magnitudes are those of a windowed 256-point real FFT, done here as a
// 128-point complex FFT of the even and odd samples and a split: about 6 k
// floating-point operations a frame instead of the basis's 66 k
// multiply-adds.

const fftHalf = fftLen / 2 // 128-point complex FFT

var (
	hannWin          [fftLen]float32
	fftRev           [fftHalf]uint8
	twRe, twIm       [fftHalf / 2]float32 // e^(-2πi j/128)
	splitRe, splitIm [bins]float32        // e^(-2πi k/256)
)

func init() {
	for n := range hannWin {
		hannWin[n] = float32(0.5 - 0.5*math.Cos(2*math.Pi*float64(n)/fftLen))
	}
	for i := range fftRev {
		r := 0
		for b := 0; b < 7; b++ {
			r |= (i >> b & 1) << (6 - b)
		}
		fftRev[i] = uint8(r)
	}
	for j := range twRe {
		s, c := math.Sincos(-2 * math.Pi * float64(j) / fftHalf)
		twRe[j], twIm[j] = float32(c), float32(s)
	}
	for k := range splitRe {
		s, c := math.Sincos(-2 * math.Pi * float64(k) / fftLen)
		splitRe[k], splitIm[k] = float32(c), float32(s)
	}
}

// stftMag writes the 129 magnitudes of the Hann-windowed DFT of x[:256] to out.
// zr and zi are scratch.
func stftMag(out []float32, x []float32, zr, zi *[fftHalf]float32) {
	x = x[:fftLen]
	out = out[:bins]
	// Even samples are the real parts, odd the imaginary, in bit-reversed order.
	for m := range fftHalf {
		j := fftRev[m] & (fftHalf - 1)
		zr[j] = x[2*m] * hannWin[2*m]
		zi[j] = x[2*m+1] * hannWin[2*m+1]
	}
	// The first two stages have twiddles 1 and -i: no multiplications.
	for a := 0; a < fftHalf; a += 4 {
		r0, i0, r1, i1 := zr[a]+zr[a+1], zi[a]+zi[a+1], zr[a]-zr[a+1], zi[a]-zi[a+1]
		r2, i2, r3, i3 := zr[a+2]+zr[a+3], zi[a+2]+zi[a+3], zr[a+2]-zr[a+3], zi[a+2]-zi[a+3]
		zr[a], zi[a], zr[a+2], zi[a+2] = r0+r2, i0+i2, r0-r2, i0-i2
		// (r3 + i i3)·(-i) = i3 - i r3
		zr[a+1], zi[a+1], zr[a+3], zi[a+3] = r1+i3, i1-r3, r1-i3, i1+r3
	}
	for size := 8; size <= fftHalf; size <<= 1 {
		h, step := size>>1, fftHalf/size
		for j := range h {
			wr, wi := twRe[(j*step)&(fftHalf/2-1)], twIm[(j*step)&(fftHalf/2-1)]
			for a := j; a < fftHalf; a += size {
				a, b := a&(fftHalf-1), (a+h)&(fftHalf-1)
				tr := zr[b]*wr - zi[b]*wi
				ti := zr[b]*wi + zi[b]*wr
				zr[b], zi[b] = zr[a]-tr, zi[a]-ti
				zr[a], zi[a] = zr[a]+tr, zi[a]+ti
			}
		}
	}
	// Split: X[k] = E + e^(-2πik/256)·O, where E and O are the spectra of
	// the even and odd samples, from Z[k] and conj(Z[128-k]).
	for k := range bins {
		a, b := k&(fftHalf-1), (fftHalf-k)&(fftHalf-1)
		sr, si := splitRe[k], splitIm[k]
		er, ei := 0.5*(zr[a]+zr[b]), 0.5*(zi[a]-zi[b])
		or, oi := 0.5*(zi[a]+zi[b]), -0.5*(zr[a]-zr[b])
		re := er + sr*or - si*oi
		im := ei + sr*oi + si*or
		out[k] = float32(math.Sqrt(float64(re*re + im*im)))
	}
}
