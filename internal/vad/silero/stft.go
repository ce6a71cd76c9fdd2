package silero

import (
	"math"

	"github.com/voiced-project/voiced/internal/dsp"
)

// The model's STFT is a convolution with a 258x256 basis that is, to float32
// rounding, a periodic Hann window times the DFT's cosines and (negated)
// sines; internal/onnxconv checks that before it leaves the basis out. Its
// magnitudes are those of a windowed 256-point real FFT (dsp.FFT): about 6 k
// floating-point operations a frame instead of the basis's 66 k
// multiply-adds.

var hannWin [fftLen]float32

func init() {
	for n := range hannWin {
		hannWin[n] = float32(0.5 - 0.5*math.Cos(2*math.Pi*float64(n)/fftLen))
	}
}

// stft holds the FFT and its buffers, one per detector.
type stft struct {
	fft    *dsp.FFT
	buf    [fftLen]float32
	re, im [bins]float32
}

func newSTFT() stft {
	f, err := dsp.NewFFT(fftLen)
	if err != nil {
		panic(err) // fftLen is a power of two
	}
	return stft{fft: f}
}

// mag writes the 129 magnitudes of the Hann-windowed DFT of x[:256] to out.
func (s *stft) mag(out []float32, x []float32) {
	x = x[:fftLen]
	out = out[:bins]
	for n, v := range x {
		s.buf[n] = v * hannWin[n]
	}
	s.fft.Forward(s.buf[:], s.re[:], s.im[:])
	for k, re := range s.re {
		im := s.im[k]
		out[k] = float32(math.Sqrt(float64(re*re + im*im)))
	}
}
