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
		j := fftRev[m]
		zr[j] = x[2*m] * hannWin[2*m]
		zi[j] = x[2*m+1] * hannWin[2*m+1]
	}
	for size := 2; size <= fftHalf; size <<= 1 {
		h, step := size/2, fftHalf/size
		for start := 0; start < fftHalf; start += size {
			for j := range h {
				wr, wi := twRe[j*step], twIm[j*step]
				a, b := start+j, start+j+h
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
		er, ei := 0.5*(zr[a]+zr[b]), 0.5*(zi[a]-zi[b])
		or, oi := 0.5*(zi[a]+zi[b]), -0.5*(zr[a]-zr[b])
		re := er + splitRe[k]*or - splitIm[k]*oi
		im := ei + splitRe[k]*oi + splitIm[k]*or
		out[k] = float32(math.Sqrt(float64(re*re + im*im)))
	}
}
