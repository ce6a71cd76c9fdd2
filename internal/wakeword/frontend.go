package wakeword

import (
	"math"
	"math/bits"
)

// Front-end parameters microWakeWord models are trained with (ESPHome's
// micro_wake_word preprocessor settings over TensorFlow Lite Micro's microfrontend).
const (
	SampleRate = 16000
	// StepSamples is one feature step: 10 ms.
	StepSamples = SampleRate / 100
	// WindowSamples is the analysis window: 30 ms.
	WindowSamples = 3 * StepSamples
	// Features is the number of filterbank channels per step.
	Features = 40

	fftSize      = 512
	spectrumSize = fftSize/2 + 1
	lowerBandHz  = 125.0
	upperBandHz  = 7500.0

	windowBits     = 12
	filterbankBits = 12

	noiseBits          = 14
	smoothingBits      = 10
	evenSmoothing      = 0.025
	oddSmoothing       = 0.06
	minSignalRemaining = 0.05

	pcanStrength   = 0.95
	pcanOffset     = 80.0
	pcanGainBits   = 21
	pcanSNRBits    = 12
	pcanOutputBits = 6
	pcanLUTBits    = 32

	logScaleShift = 6
	logScaleLog2  = 16
	logSegLog2    = 7
	logCoeff      = 45426
)

// correctionBits is the microfrontend's input correction: MostSignificantBit(fft size) - 1 -
// filterbank bits/2, where the most significant bit of 512 is bit 10.
const correctionBits = 10 - 1 - filterbankBits/2

// Frontend turns 16 kHz PCM into 40 log filterbank energies every 10 ms with the
// integer arithmetic of TensorFlow Lite Micro's microfrontend, so its output is the
// same, value for value. It allocates nothing after NewFrontend.
type Frontend struct {
	window [WindowSamples]int16 // coefficients
	input  [WindowSamples]int16
	used   int
	fft    fftState
	fin    [fftSize]int16
	fout   [spectrumSize]complex16
	energy [spectrumSize]int32
	work   [Features + 1]uint64
	sig    [Features]uint32

	chanStart   [Features + 1]int
	chanWidth   [Features + 1]int
	chanWeights [Features + 1][]int16
	chanUnw     [Features + 1][]int16

	estimate [Features]uint32
	even     uint32
	odd      uint32
	minSig   uint32

	gainLUT  [4*pcanLUTBits - 3]int16
	snrShift int
}

// NewFrontend builds the window, filterbank and gain tables.
func NewFrontend() *Frontend {
	f := &Frontend{}
	arg := float32(math.Pi) * 2 / float32(WindowSamples)
	for i := range f.window {
		// Each float32() rounds as C's float arithmetic does and keeps the compiler from
		// fusing a multiply and an add (Go may on arm64), so tables are the same on all targets.
		c := float32(math.Cos(float64(float32(arg * (float32(i) + 0.5)))))
		v := float32(0.5 - float32(0.5*c))
		f.window[i] = int16(math.Floor(float64(float32(float32(v*(1<<windowBits)) + 0.5))))
	}
	f.fft.init()
	f.initFilterbank()
	// The C code converts float products to integers, truncating.
	even, odd, minSig := float32(evenSmoothing), float32(oddSmoothing), float32(minSignalRemaining)
	f.even = uint32(even * (1 << noiseBits))
	f.odd = uint32(odd * (1 << noiseBits))
	f.minSig = uint32(minSig * (1 << noiseBits))
	f.initPCAN()
	return f
}

func freqToMel(freq float32) float32 {
	return float32(1127.0 * log1pf(float32(freq/700.0)))
}

func (f *Frontend) initFilterbank() {
	const n1 = Features + 1
	melLow := freqToMel(lowerBandHz)
	melHi := freqToMel(upperBandHz)
	spacing := float32(float32(melHi-melLow) / float32(Features+1))
	var center [n1]float32
	for i := range center {
		center[i] = float32(melLow + float32(spacing*float32(i+1)))
	}
	hzPerBin := float32(float32(0.5*SampleRate) / float32(spectrumSize-1))
	start := int(float32(1.5 + float32(lowerBandHz/hzPerBin)))
	for ch := range n1 {
		fi := start
		for freqToMel(float32(float32(fi)*hzPerBin)) <= center[ch] {
			fi++
		}
		f.chanStart[ch] = start
		f.chanWidth[ch] = fi - start
		denom := melLow
		if ch > 0 {
			denom = center[ch-1]
		}
		w := make([]int16, fi-start)
		u := make([]int16, fi-start)
		for j := range w {
			weight := float32(float32(center[ch]-freqToMel(float32(float32(start+j)*hzPerBin))) / float32(center[ch]-denom))
			w[j] = int16(math.Floor(float64(float32(float32(weight*(1<<filterbankBits)) + 0.5))))
			u[j] = int16(math.Floor(float64(float32(float32(float32(1-weight)*(1<<filterbankBits)) + 0.5))))
		}
		f.chanWeights[ch], f.chanUnw[ch] = w, u
		start = fi
	}
}

func pcanGain(inputBits int, x uint32) int16 {
	xf := float32(float32(x) / float32(uint32(1)<<inputBits))
	g := float32(float32(1<<pcanGainBits) * float32(math.Pow(float64(float32(xf+pcanOffset)), -float64(float32(pcanStrength)))))
	if g > 0x7fff {
		return 0x7fff
	}
	return int16(float32(g + 0.5))
}

func (f *Frontend) initPCAN() {
	f.snrShift = pcanGainBits - correctionBits - pcanSNRBits
	inputBits := smoothingBits - correctionBits
	f.gainLUT[0] = pcanGain(inputBits, 0)
	f.gainLUT[1] = pcanGain(inputBits, 1)
	for interval := 2; interval <= pcanLUTBits; interval++ {
		x0 := uint32(1) << (interval - 1)
		x1 := x0 + x0>>1
		x2 := 2 * x0
		if interval == pcanLUTBits {
			x2 = x0 + (x0 - 1)
		}
		y0 := pcanGain(inputBits, x0)
		y1 := pcanGain(inputBits, x1)
		y2 := pcanGain(inputBits, x2)
		d1 := int32(y1) - int32(y0)
		d2 := int32(y2) - int32(y0)
		a1 := 4*d1 - d2
		a2 := d2 - a1
		k := 4*interval - 6
		f.gainLUT[k] = y0
		f.gainLUT[k+1] = int16(a1)
		f.gainLUT[k+2] = int16(a2)
	}
}

// Reset returns the front end to its initial state (empty window, noise estimate zero).
func (f *Frontend) Reset() {
	f.input = [WindowSamples]int16{}
	f.used = 0
	f.estimate = [Features]uint32{}
}

// Step consumes one 10 ms step of samples (len(pcm) must be StepSamples) and, once the
// first 30 ms window is full, writes the 40 features and returns true.
func (f *Frontend) Step(pcm []int16, out *[Features]uint16) bool {
	n := copy(f.input[f.used:], pcm[:StepSamples])
	f.used += n
	if f.used < WindowSamples {
		return false
	}
	var maxAbs int16
	for i := range f.input {
		v := int16((int32(f.input[i]) * int32(f.window[i])) >> windowBits)
		f.fin[i] = v
		if v < 0 {
			v = -v
		}
		maxAbs = max(maxAbs, v)
	}
	copy(f.input[:], f.input[StepSamples:])
	f.used -= StepSamples

	shift := 15 - (32 - bits.LeadingZeros32(uint32(int32(maxAbs))))
	for i := range WindowSamples {
		f.fin[i] = int16(uint16(f.fin[i]) << shift)
	}
	clear(f.fin[WindowSamples:])
	f.fft.real(&f.fin, &f.fout)

	for i := f.chanStart[0]; i < f.chanStart[Features]+f.chanWidth[Features]; i++ {
		r, im := int32(f.fout[i].r), int32(f.fout[i].i)
		f.energy[i] = r*r + im*im
	}
	var wacc, uacc uint64
	for ch := range Features + 1 {
		s := f.chanStart[ch]
		for j, w := range f.chanWeights[ch] {
			m := uint64(f.energy[s+j]) // sign-extends, as C's (uint64_t) of an int32_t does
			wacc += uint64(int64(w)) * m
			uacc += uint64(int64(f.chanUnw[ch][j])) * m
		}
		f.work[ch] = wacc
		wacc, uacc = uacc, 0
	}
	for i := range Features {
		f.sig[i] = sqrt64(f.work[i+1]) >> shift
	}
	f.noiseReduce()
	f.pcan()
	for i := range Features {
		v := f.sig[i] << correctionBits
		if v > 1 {
			v = logScale(v)
		} else {
			v = 0
		}
		out[i] = uint16(min(v, 0xffff))
	}
	return true
}

func (f *Frontend) noiseReduce() {
	for i := range Features {
		sm := f.even
		if i&1 == 1 {
			sm = f.odd
		}
		one := uint32(1<<noiseBits) - sm
		up := f.sig[i] << smoothingBits
		est := uint32((uint64(up)*uint64(sm) + uint64(f.estimate[i])*uint64(one)) >> noiseBits)
		f.estimate[i] = est
		est = min(est, up)
		floor := uint32((uint64(f.sig[i]) * uint64(f.minSig)) >> noiseBits)
		sub := (up - est) >> smoothingBits
		f.sig[i] = max(sub, floor)
	}
}

func msb32(x uint32) int { return 32 - bits.LeadingZeros32(x) }

func (f *Frontend) wideDynamic(x uint32) int16 {
	if x <= 2 {
		return f.gainLUT[x]
	}
	interval := msb32(x)
	lut := f.gainLUT[4*interval-6:]
	var frac int16
	if interval < 11 {
		frac = int16((x << (11 - interval)) & 0x3ff)
	} else {
		frac = int16((x >> (interval - 11)) & 0x3ff)
	}
	r := (int32(lut[2]) * int32(frac)) >> 5
	r += int32(uint32(lut[1]) << 5)
	r *= int32(frac)
	r = (r + 1<<14) >> 15
	r += int32(lut[0])
	return int16(r)
}

func pcanShrink(x uint32) uint32 {
	if x < 2<<pcanSNRBits {
		return (x * x) >> (2 + 2*pcanSNRBits - pcanOutputBits)
	}
	return (x >> (pcanSNRBits - pcanOutputBits)) - 1<<pcanOutputBits
}

func (f *Frontend) pcan() {
	for i := range Features {
		gain := uint32(int32(f.wideDynamic(f.estimate[i]))) // int16 to uint32 sign-extends, as in C
		snr := uint32((uint64(f.sig[i]) * uint64(gain)) >> f.snrShift)
		f.sig[i] = pcanShrink(snr)
	}
}

// logLUT is the microfrontend's table of log2(1+x) corrections over 128 segments.
var logLUT = [...]uint16{
	0, 224, 442, 654, 861, 1063, 1259, 1450, 1636, 1817, 1992, 2163,
	2329, 2490, 2646, 2797, 2944, 3087, 3224, 3358, 3487, 3611, 3732, 3848,
	3960, 4068, 4172, 4272, 4368, 4460, 4549, 4633, 4714, 4791, 4864, 4934,
	5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444, 5477, 5507,
	5533, 5557, 5578, 5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633,
	5626, 5615, 5602, 5586, 5568, 5547, 5524, 5498, 5470, 5439, 5406, 5370,
	5332, 5291, 5249, 5203, 5156, 5106, 5054, 5000, 4944, 4885, 4825, 4762,
	4697, 4630, 4561, 4490, 4416, 4341, 4264, 4184, 4103, 4020, 3935, 3848,
	3759, 3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981, 2875, 2768, 2659,
	2549, 2437, 2323, 2207, 2090, 1971, 1851, 1729, 1605, 1480, 1353, 1224,
	1094, 963, 830, 695, 559, 421, 282, 142, 0, 0,
}

func logScale(x uint32) uint32 {
	integer := uint32(msb32(x) - 1)
	frac := int32(x - uint32(1)<<integer)
	if integer < logScaleLog2 {
		frac <<= logScaleLog2 - integer
	} else {
		frac >>= integer - logScaleLog2
	}
	base := uint32(frac) >> (logScaleLog2 - logSegLog2)
	const segUnit = (1 << logScaleLog2) >> logSegLog2
	c0 := int32(logLUT[base])
	c1 := int32(logLUT[base+1])
	rel := ((c1 - c0) * (frac - int32(segUnit*base))) >> logScaleLog2
	fraction := uint32(frac + c0 + rel)
	log2 := integer<<logScaleLog2 + fraction
	const round = (1 << logScaleLog2) / 2
	loge := uint32((uint64(logCoeff)*uint64(log2) + round) >> logScaleLog2)
	return ((loge << logScaleShift) + round) >> logScaleLog2
}

// Int8Feature maps a front-end value to the model's int8 input as ESPHome does:
// value*256/666 rounded, minus 128, clamped.
func Int8Feature(v uint16) int8 {
	q := (int32(v)*256+333)/666 - 128
	return int8(min(max(q, -128), 127))
}
