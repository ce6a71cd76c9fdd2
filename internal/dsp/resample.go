package dsp

import (
	"fmt"
	"math"
	"slices"
)

// resampleRates are the rates the resampler converts between.
var resampleRates = []int{8000, 16000, 22050, 24000, 32000, 44100, 48000}

func resampleRateSupported(rate int) bool { return slices.Contains(resampleRates, rate) }

// Filter design targets. The transition band runs from 0.9 to 1.0 of the
// lower Nyquist frequency, so nothing above the lower Nyquist aliases into
// the output and the band up to 0.9 of it stays flat; the Kaiser window is
// sized for resampleAttenDB, which leaves margin over the 90 dB promised;
// every dB more costs about 1 % more taps, the bulk of the audio path's CPU.
const (
	resamplePassFrac = 0.9  // passband edge, fraction of the lower Nyquist
	resampleAttenDB  = 94.0 // stopband attenuation the window is designed for (94.2 dB measured)
	resampleChunk    = 512  // input samples taken into the history per step
)

// Resampler converts a mono int16 stream from one rate to another with a
// band-limited windowed-sinc (Kaiser) filter in polyphase form. It keeps
// state between calls, so a stream can be fed in blocks of any size; it
// does not allocate after NewResampler. A Resampler belongs to one
// goroutine.
type Resampler struct {
	inRate, outRate int
	up, down        int // output/input ratio in lowest terms
	step, stepFrac  int // down / up and down % up
	taps            int // filter taps per phase
	coef            []float32
	hist            []float32 // input history, newest at hist[n-1]
	n               int       // valid samples in hist
	idx             int       // hist index of the newest input the next output needs
	phase           int       // polyphase branch of the next output
}

// NewResampler returns a resampler from inRate to outRate, both among
// 8000, 16000, 22050, 24000, 32000, 44100 and 48000 Hz. Equal rates give a
// plain copy.
func NewResampler(inRate, outRate int) (*Resampler, error) {
	if !resampleRateSupported(inRate) {
		return nil, fmt.Errorf("new resampler: input rate %d Hz not one of %v", inRate, resampleRates)
	}
	if !resampleRateSupported(outRate) {
		return nil, fmt.Errorf("new resampler: output rate %d Hz not one of %v", outRate, resampleRates)
	}
	g := resampleGCD(inRate, outRate)
	r := &Resampler{inRate: inRate, outRate: outRate, up: outRate / g, down: inRate / g}
	r.step, r.stepFrac = r.down/r.up, r.down%r.up
	if inRate == outRate {
		return r, nil
	}
	r.design()
	r.hist = make([]float32, r.taps-1+resampleChunk)
	r.Reset()
	return r, nil
}

// design builds the polyphase filter bank.
func (r *Resampler) design() {
	low := float64(min(r.inRate, r.outRate))
	protoRate := float64(r.up) * float64(r.inRate)
	cutoff := (1 + resamplePassFrac) / 2 * low / 2 / protoRate // cycles per prototype sample
	width := (1 - resamplePassFrac) * low / 2 / protoRate
	// Kaiser's estimates for the window shape and length.
	beta := 0.1102 * (resampleAttenDB - 8.7)
	length := (resampleAttenDB-7.95)/(2.285*2*math.Pi*width) + 1
	r.taps = int(math.Ceil(length / float64(r.up)))
	n := r.taps * r.up
	center := float64(n-1) / 2
	i0beta := resampleBesselI0(beta)
	proto := make([]float64, n)
	for j := range proto {
		x := float64(j) - center
		s := 2 * cutoff
		if x != 0 {
			s = math.Sin(2*math.Pi*cutoff*x) / (math.Pi * x)
		}
		t := x / center
		proto[j] = s * resampleBesselI0(beta*math.Sqrt(max(0, 1-t*t))) / i0beta
	}
	// Branch p holds h[p + up*k] for k = taps-1 .. 0, so that a forward
	// dot product with the history window lines up. Each branch is scaled
	// to unity gain at DC, which also supplies the interpolation gain.
	r.coef = make([]float32, n)
	for p := range r.up {
		c := r.coef[p*r.taps : (p+1)*r.taps]
		var sum float64
		for k := range r.taps {
			sum += proto[p+r.up*k]
		}
		for k := range r.taps {
			c[r.taps-1-k] = float32(proto[p+r.up*k] / sum)
		}
	}
}

// InRate is the input rate given to NewResampler.
func (r *Resampler) InRate() int { return r.inRate }

// OutRate is the output rate given to NewResampler.
func (r *Resampler) OutRate() int { return r.outRate }

// Ratio is the output/input rate ratio in lowest terms: output j needs input j*down/up.
func (r *Resampler) Ratio() (up, down int) { return r.up, r.down }

// Taps is the filter length per output sample (0 for a plain copy), the
// main cost of the conversion.
func (r *Resampler) Taps() int { return r.taps }

// Reset forgets the stream history, as at the start of a new stream.
func (r *Resampler) Reset() {
	if r.hist == nil {
		return
	}
	clear(r.hist)
	r.n = r.taps - 1 // the window starts on zeros
	r.idx = r.taps - 1
	r.phase = 0
}

// MaxOutput is the most output samples that in input samples can yield,
// for sizing buffers.
func (r *Resampler) MaxOutput(in int) int {
	return (in*r.up+r.down-1)/r.down + 1
}

// InputFor is how many more input samples the resampler needs before it
// can produce out more output samples.
func (r *Resampler) InputFor(out int) int {
	if out <= 0 {
		return 0
	}
	if r.inRate == r.outRate {
		return out
	}
	k := out - 1
	last := r.idx + k*r.step + (r.phase+k*r.stepFrac)/r.up
	return max(0, last+1-r.n)
}

// Process takes input samples from in and writes output samples to out
// until out is full or in is used up. It returns how many samples of in it
// took (they are kept internally until they are no longer needed) and how
// many it wrote to out.
func (r *Resampler) Process(in, out []int16) (consumed, produced int) {
	if r.inRate == r.outRate {
		n := copy(out, in)
		return n, n
	}
	for {
		produced += r.produce(out[produced:])
		if produced == len(out) || consumed == len(in) {
			return consumed, produced
		}
		r.compact()
		k := min(len(r.hist)-r.n, len(in)-consumed)
		dst := r.hist[r.n : r.n+k]
		for i, s := range in[consumed : consumed+k] {
			dst[i] = float32(s)
		}
		r.n += k
		consumed += k
	}
}

// produce writes outputs while the history holds the input they need.
func (r *Resampler) produce(out []int16) int {
	taps := r.taps
	blocks := taps &^ 15 // the taps resampleDot16 takes; see resampleDot
	produced := 0
	for produced < len(out) && r.idx < r.n {
		w := r.hist[r.idx+1-taps : r.idx+1]
		c := r.coef[r.phase*taps : (r.phase+1)*taps]
		// resampleDot, with its split worked out once per call.
		var s float32
		if blocks > 0 {
			s = resampleDot16(&c[0], &w[0], blocks)
		}
		for i := blocks; i < len(c) && i < len(w); i++ {
			s += c[i] * w[i]
		}
		out[produced] = resampleRound(s)
		produced++
		r.idx += r.step
		r.phase += r.stepFrac
		if r.phase >= r.up {
			r.phase -= r.up
			r.idx++
		}
	}
	return produced
}

// compact moves the part of the history still needed to the front.
func (r *Resampler) compact() {
	drop := min(r.idx+1-r.taps, r.n)
	if drop <= 0 {
		return
	}
	copy(r.hist, r.hist[drop:r.n])
	r.n -= drop
	r.idx -= drop
}

// resampleDot is the filter inner loop: the vector kernel (resampleDot16, in
// assembly on amd64 and arm64) takes whole blocks of 16 taps, the rest is summed here.
func resampleDot(c, w []float32) float32 {
	n := min(len(c), len(w))
	m := n &^ 15
	var s float32
	if m > 0 {
		s = resampleDot16(&c[0], &w[0], m)
	}
	for i := m; i < n; i++ {
		s += c[i] * w[i]
	}
	return s
}

// resampleDotGo is the portable kernel, unrolled with four accumulators; reslicing
// instead of indexing lets the compiler drop the bounds checks.
func resampleDotGo(c, w []float32) float32 {
	var s0, s1, s2, s3 float32
	for len(c) >= 4 && len(w) >= 4 {
		s0 += c[0] * w[0]
		s1 += c[1] * w[1]
		s2 += c[2] * w[2]
		s3 += c[3] * w[3]
		c, w = c[4:], w[4:]
	}
	for i := 0; i < len(c) && i < len(w); i++ {
		s0 += c[i] * w[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func resampleRound(v float32) int16 {
	if v >= 0 {
		if v >= math.MaxInt16 {
			return math.MaxInt16
		}
		return int16(v + 0.5)
	}
	if v <= math.MinInt16 {
		return math.MinInt16
	}
	return int16(v - 0.5)
}

func resampleGCD(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// resampleBesselI0 is the modified Bessel function of the first kind,
// order zero, by its power series.
func resampleBesselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 500; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}
