package echoroom

import (
	"math"
	"math/bits"
)

// convBlock is the block of the partitioned convolution, in samples: one block of
// latency, which the room adds to its delay (its Latency).
const convBlock = 256

// conv is a uniformly partitioned overlap-save convolution: the impulse response
// is cut into blocks, each block's spectrum multiplies the spectrum of the input
// that many blocks ago, and one inverse transform per block gives the output.
// A direct-form loop over a 250 ms tail at 16 kHz costs a million products per
// 20 ms period, too much beside the daemon it serves on a small machine.
type conv struct {
	f    *fft
	hf   [][]complex128 // spectra of the response's blocks
	xf   [][]complex128 // spectra of the last len(hf) input windows, newest at head
	head int
	win  []float64 // the last two input blocks
	acc  []complex128
}

func newConv(h []float32) *conv {
	n := 2 * convBlock
	c := &conv{f: newFFT(n), win: make([]float64, n), acc: make([]complex128, n)}
	for lo := 0; lo < len(h); lo += convBlock {
		buf := make([]complex128, n)
		for i, v := range h[lo:min(lo+convBlock, len(h))] {
			buf[i] = complex(float64(v), 0)
		}
		c.f.transform(buf, false)
		c.hf = append(c.hf, buf)
		c.xf = append(c.xf, make([]complex128, n))
	}
	return c
}

// block convolves the next convBlock input samples into out (convBlock samples).
func (c *conv) block(in []float64, out []float64) {
	copy(c.win, c.win[convBlock:])
	copy(c.win[convBlock:], in)
	c.head = (c.head + len(c.xf) - 1) % len(c.xf)
	x := c.xf[c.head]
	for i, v := range c.win {
		x[i] = complex(v, 0)
	}
	c.f.transform(x, false)
	clear(c.acc)
	for p, hf := range c.hf {
		xp := c.xf[(c.head+p)%len(c.xf)]
		for k := range c.acc {
			c.acc[k] += xp[k] * hf[k]
		}
	}
	c.f.transform(c.acc, true)
	// Overlap-save: the first half wrapped around; the second half is the output.
	scale := 1 / float64(len(c.acc))
	for i := range out[:convBlock] {
		out[i] = real(c.acc[convBlock+i]) * scale
	}
}

// fft is an in-place radix-2 complex transform of one power-of-two size.
type fft struct {
	n   int
	tw  []complex128 // e^{-2πik/n}, k < n/2
	rev []int
}

func newFFT(n int) *fft {
	f := &fft{n: n, tw: make([]complex128, n/2), rev: make([]int, n)}
	for k := range f.tw {
		s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(n))
		f.tw[k] = complex(c, s)
	}
	shift := 64 - bits.TrailingZeros(uint(n))
	for i := range f.rev {
		f.rev[i] = int(bits.Reverse64(uint64(i)) >> shift)
	}
	return f
}

// transform computes the DFT of x in place, or the unscaled inverse.
func (f *fft) transform(x []complex128, inverse bool) {
	for i, j := range f.rev {
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= f.n; size <<= 1 {
		half, step := size/2, f.n/size
		for lo := 0; lo < f.n; lo += size {
			for k := range half {
				w := f.tw[k*step]
				if inverse {
					w = complex(real(w), -imag(w))
				}
				a, b := x[lo+k], x[lo+k+half]*w
				x[lo+k], x[lo+k+half] = a+b, a-b
			}
		}
	}
}
