package silero

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

const (
	// SampleRate is the only rate the model takes, in Hz.
	SampleRate = 16000
	// StepSamples is the number of new samples per Process call (32 ms).
	StepSamples = 512
	// ContextSamples of the previous step are prepended to each step.
	ContextSamples = 64
)

// Shapes of the network.
const (
	window  = ContextSamples + StepSamples // 576 samples the model sees
	padded  = window + ContextSamples      // 640 after reflection padding
	fftLen  = 256                          // STFT window
	hop     = 128                          // STFT hop
	frames  = (padded-fftLen)/hop + 1      // 4 STFT frames a step
	bins    = fftLen/2 + 1                 // 129 magnitudes a frame
	hidden  = 128                          // LSTM units
	gates   = 4 * hidden                   // i, f, g, o (PyTorch order)
	enc0Out = 128
	enc1Out = 64
	enc2Out = 64
	enc3Out = 128
)

//go:embed weights.bin
var weightsBlob []byte

// Detector is one stream's Silero VAD: its input context and LSTM state. The
// zero value is not usable; call New.
type Detector struct {
	m *model

	x    [padded]float32 // context, new samples, reflection
	h, c [hidden]float32 // LSTM state

	// Activations, time-major with a zero position either side (the
	// convolutions' padding) and slack after, so a row's padded tail reads
	// finite values that meet zero weights.
	mag [(frames+2)*bins + 16]float32
	e1  [(frames + 2) * enc0Out]float32
	e2  [(2 + 2) * enc1Out]float32
	e3  [enc2Out]float32
	xh  [enc3Out + hidden]float32 // LSTM input and hidden state, one row
	st  stft
	g   [gates]float32
}

// New returns a detector with its state reset. The weights are decoded on the
// first call and shared by every detector.
func New() *Detector {
	return &Detector{m: loadModel(), st: newSTFT()}
}

// Reset forgets the context and the LSTM state, as at the start of a stream.
func (d *Detector) Reset() {
	clear(d.x[:])
	clear(d.h[:])
	clear(d.c[:])
}

// ProcessInt16 is Process for signed 16-bit samples (scaled by 1/32768).
func (d *Detector) ProcessInt16(step *[StepSamples]int16) float32 {
	in := d.x[ContextSamples:window]
	for i, v := range step {
		in[i] = float32(v) * (1.0 / 32768)
	}
	return d.run()
}

// Process takes the next 512 samples of the stream, scaled to ±1, and returns
// the probability that the step holds speech.
func (d *Detector) Process(step *[StepSamples]float32) float32 {
	copy(d.x[ContextSamples:window], step[:])
	return d.run()
}

// run evaluates the network on d.x[ContextSamples:window] as the new samples,
// then keeps their last 64 as the next context.
func (d *Detector) run() float32 {
	m := d.m
	x := &d.x
	// Reflect without repeating the edge: x[576+k] = x[574-k].
	for k := range ContextSamples {
		x[window+k] = x[window-2-k]
	}

	// STFT magnitude, time-major: frame f at mag[(f+1)*bins:].
	for f := range frames {
		d.st.mag(d.mag[(f+1)*bins:], x[f*hop:])
	}

	// Encoder: width-3 convolutions over the time-major activations, each
	// output position one matrix-vector product over three input positions.
	for j := range frames {
		out := d.e1[(j+1)*enc0Out : (j+2)*enc0Out]
		matvec(out, m.enc0, m.enc0b, d.mag[j*bins:], m.enc0n)
		relu(out)
	}
	for j := range 2 {
		out := d.e2[(j+1)*enc1Out : (j+2)*enc1Out]
		matvec(out, m.enc1, m.enc1b, d.e1[2*j*enc0Out:], 3*enc0Out)
		relu(out)
	}
	matvec(d.e3[:], m.enc2, m.enc2b, d.e2[:], 3*enc1Out)
	relu(d.e3[:])
	// The last layer sees one position between two zeros: only its centre tap counts.
	matvec(d.xh[:enc3Out], m.enc3, m.enc3b, d.e3[:], enc2Out)
	relu(d.xh[:enc3Out])

	// LSTM cell: gates = [W_ih W_hh]·[x h] + b_ih + b_hh.
	copy(d.xh[enc3Out:], d.h[:])
	matvec(d.g[:], m.lstm, m.lstmb, d.xh[:], enc3Out+hidden)
	for k := range hidden {
		i := sigmoid(d.g[k])
		f := sigmoid(d.g[hidden+k])
		g := tanh(d.g[2*hidden+k])
		o := sigmoid(d.g[3*hidden+k])
		c := f*d.c[k] + i*g
		d.c[k] = c
		d.h[k] = o * tanh(c)
	}

	// Decoder: ReLU, 1x1 convolution, sigmoid.
	var s float32
	for k, v := range d.h {
		s += max(v, 0) * m.dec[k]
	}
	p := sigmoid(s + m.decb)

	copy(x[:ContextSamples], x[window-ContextSamples:window])
	return p
}

func relu(v []float32) {
	for i, x := range v {
		v[i] = max(x, 0)
	}
}

func sigmoid(x float32) float32 { return float32(1 / (1 + exp(-float64(x)))) }

func tanh(x float32) float32 {
	// 1 - 2/(e^2x + 1): one exp; what cancels near 0 is float64 bits that a
	// float32 result does not need.
	return float32(1 - 2/(exp(2*float64(x))+1))
}

// exp is e^x for the gates' float32 results: math.Exp handles every float64
// (subnormals, overflow) and costs four times as much on ARMv6. Clamped to
// ±80, where the sigmoid and tanh are saturated in float32 anyway; relative
// error under 1e-9 (a degree-8 series on |r| <= ln2/2), far below float32's
// 6e-8.
func exp(x float64) float64 {
	x = max(-80, min(80, x))
	// Round to nearest by truncating a positive value: int32, because a
	// conversion to int64 is a runtime call on 32-bit arm.
	ki := int32(x*math.Log2E+0.5+128) - 128
	k := float64(ki)
	// r = x - k·ln2 in two parts, so that r keeps its low bits.
	r := x - k*6.93147180369123816490e-01 - k*1.90821492927058770002e-10
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320))))))))
	return p * math.Float64frombits(uint64(uint32(ki+1023))<<52)
}

// matvec sets out[r] = bias[r] + w[r]·x for each row r of w, whose rows are
// n values padded to a multiple of 16 (rowLen); len(out) is a multiple of 4.
// x must hold rowLen(n) values.
func matvec(out []float32, w []float32, bias []float32, x []float32, n int) {
	l := rowLen(n)
	x = x[:l]
	w = w[:len(out)*l]
	var s [4]float32
	for r := 0; r+4 <= len(out); r += 4 {
		dot4(&w[r*l], l, &x[0], l, &s)
		o := out[r : r+4]
		for k := range o {
			o[k] = s[k]
			if bias != nil {
				o[k] += bias[r+k]
			}
		}
	}
}

// rowLen is n rounded up to a multiple of 16, the kernels' unit.
func rowLen(n int) int { return (n + 15) &^ 15 }

// model holds the weights, rearranged into padded rows.
type model struct {
	enc0, enc1, enc2, enc3     []float32
	enc0b, enc1b, enc2b, enc3b []float32
	enc0n                      int // enc0's row: 3 taps of 129 channels
	lstm, lstmb                []float32
	dec                        []float32
	decb                       float32
}

var loadModel = sync.OnceValue(func() *model {
	m, err := decode(weightsBlob)
	if err != nil {
		panic(err) // the embedded blob is pinned by a test
	}
	return m
})

// decode rearranges the blob (see internal/onnxconv's layout) into rows.
func decode(b []byte) (*model, error) {
	const want = 128*129*3 + 128 + 64*128*3 + 64 + 64*64*3 + 64 + 128*64*3 + 128 + 2*512*128 + 2*512 + 128 + 1
	if len(b) != 4*want {
		return nil, fmt.Errorf("silero: weights are %d bytes, want %d", len(b), 4*want)
	}
	next := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		b = b[4*n:]
		return v
	}
	m := &model{enc0n: 3 * bins}
	// conv reorders a [out][in][3] kernel into rows of [tap][in], taps first..last.
	conv := func(out, in, first, last int) []float32 {
		w := next(out * in * 3)
		l := rowLen((last - first + 1) * in)
		rows := make([]float32, out*l)
		for o := range out {
			for t := first; t <= last; t++ {
				for i := range in {
					rows[o*l+(t-first)*in+i] = w[(o*in+i)*3+t]
				}
			}
		}
		return rows
	}
	m.enc0, m.enc0b = conv(enc0Out, bins, 0, 2), next(enc0Out)
	m.enc1, m.enc1b = conv(enc1Out, enc0Out, 0, 2), next(enc1Out)
	m.enc2, m.enc2b = conv(enc2Out, enc1Out, 0, 2), next(enc2Out)
	m.enc3, m.enc3b = conv(enc3Out, enc2Out, 1, 1), next(enc3Out)
	wih, whh := next(gates*enc3Out), next(gates*hidden)
	bih, bhh := next(gates), next(gates)
	m.lstm = make([]float32, gates*(enc3Out+hidden))
	m.lstmb = make([]float32, gates)
	for r := range gates {
		copy(m.lstm[r*(enc3Out+hidden):], wih[r*enc3Out:(r+1)*enc3Out])
		copy(m.lstm[r*(enc3Out+hidden)+enc3Out:], whh[r*hidden:(r+1)*hidden])
		m.lstmb[r] = bih[r] + bhh[r]
	}
	m.dec = next(hidden)
	m.decb = next(1)[0]
	return m, nil
}
