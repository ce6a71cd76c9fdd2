package vad

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/voiced-project/voiced/internal/dsp"
)

// VADConfig configures a VAD. The zero value of every field but SampleRate means "default".
type Config struct {
	// SampleRate of the frames: 16000, 24000 or 48000 Hz.
	SampleRate int
	// Sensitivity 0 (fewest false wakes) .. 3 (catches the quietest speech); the daemon's
	// default is DefaultVADSensitivity. Each step moves the decision threshold by one unit of
	// log-odds.
	Sensitivity int
	// HangoverMs keeps the decision on this long after the last speech-like frame; 0 means
	// the default (DefaultVADHangoverMs), negative means none.
	HangoverMs int
	// EchoSensitivityDrop is how many sensitivity steps the echo guard removes on top of
	// measuring against the echo's level (0 means the default, 1). See SetEchoGuard.
	EchoSensitivityDrop int
}

// FrameMs is the length of the frame each decision is about.
const FrameMs = 10

// Decision is the voice detector's decision on one FrameMs frame, as the capture loop
// reports it.
type Decision struct {
	Speech  bool   // the frame holds speech
	Changed bool   // the decision differs from the previous frame's: an edge
	Sample  uint64 // stream position of the end of the frame, in samples at the capture rate
	// Guarded: the echo guard was on for the frame (the device speaking, or
	// just was); the endpointer then wants the longer onset of a barge-in.
	Guarded bool
}

const (
	// DefaultVADSensitivity is the sensitivity the daemon uses when none is configured.
	DefaultSensitivity = 1
	// DefaultVADHangoverMs is the frame-level hangover (the turn-level end of speech is the
	// Endpointer's business).
	DefaultHangoverMs = vadModelHangoverMs
	vadWindowMs       = 20 // analysis window: the current frame and the one before it
	vadBands          = 20
	vadMinSubFrames   = 25 // minimum statistics: sub-window of 250 ms ...
	vadMinSubWindows  = 6  // ... and the floor is the minimum over the last 1.5-1.75 s
	vadSNRMax         = 5  // band SNR clip, in units of 10 dB
	vadSNRMin         = -1
	vadPitchOverSub   = 4 // the minimum underestimates a bin's mean noise power several times
)

// vadBandEdges are the analysis bands in Hz, roughly mel spaced up to 7.7 kHz.
var vadBandEdges = [vadBands + 1]float64{100, 200, 300, 400, 510, 630, 770, 920, 1080, 1270,
	1480, 1720, 2000, 2320, 2700, 3150, 3700, 4400, 5300, 6400, 7700}

// Feature layout of the model input (see Features).
const (
	vfSNR      = 0              // band SNR of the frame, log10 units
	vfSNRFast  = vfSNR + 20     // smoothed over ~30 ms
	vfSNRSlow  = vfSNRFast + 20 // smoothed over ~100 ms
	vfFlat     = vfSNRSlow + 20 // flatness of the SNR spectrum 250-4000 Hz (log geometric / arithmetic mean)
	vfFlatS    = vfFlat + 1     // smoothed
	vfHarm     = vfFlatS + 1    // harmonicity: window-corrected normalised autocorrelation peak, 60-400 Hz
	vfHarmS    = vfHarm + 1     // smoothed
	vfMean     = vfHarmS + 1    // mean band SNR
	vfMeanLong = vfMean + 1     // mean band SNR smoothed over ~300 ms
	vfOnset    = vfMeanLong + 1 // mean band SNR minus its ~100 ms average
	vadNumFeat = vfOnset + 1    // 67
)

// VAD is a causal voice activity detector on 10 ms frames, with no lookahead: the decision
// returned for a frame uses that frame and earlier audio only.
//
// Each frame is analysed over the last 20 ms with a Hann window: log energies in 20 bands,
// each against a per-band noise floor tracked by minimum statistics (so the detector adapts
// to the noise without needing to know when speech is present), spectral flatness and the
// strength of a 60-400 Hz pitch. A small fixed neural network (weights fitted offline by
// internal/vad/vadfit on labeled recordings) turns these into a speech probability; a
// threshold with hysteresis and a short hangover give the decision.
//
// A VAD is not safe for concurrent use; Process allocates nothing.
type Detector struct {
	rate, hop, win int
	thrOn, thrOff  float64 // logit thresholds, normal
	echoOn, echoOf float64 // logit thresholds while the echo guard is on
	hangFrames     int
	echoGuard      bool        // in force for the frame being processed; the capture goroutine's
	guardWant      atomic.Bool // what SetEchoGuard asked for, from the engine's goroutine
	echoLive       bool        // the echo levels below have been seeded since the guard went on
	echoBand       [vadBands]float64
	echoBin        []float64
	refIn          atomic.Uint64 // NoteReference's mailbox: the largest mean square since the last frame, as float64 bits
	ref            refState

	fft      *dsp.FFT
	hist     []float64 // last win samples, scaled to ±1
	window   []float64 // Hann
	frame    []float32 // fft input (n, zero padded)
	specRe   []float32 // its spectrum, n/2+1 bins
	specIm   []float32
	power    []float64 // n/2+1
	acfFFT   *dsp.FFT  // n/acfDec points: the pitch band needs no more
	acf      []float32 // its input
	acfRe    []float32 // its output: the autocorrelation by decimated lag
	acfIm    []float32
	acfDec   int       // lag step of the decimated autocorrelation, in samples
	winACF   []float64 // window autocorrelation, normalised, by decimated lag
	bandLo   [vadBands]int
	bandHi   [vadBands]int
	flatLo   int
	flatHi   int
	binLo    int // bins with their own noise floor
	binHi    int
	harmLo   int // lowest/highest bins kept for the pitch autocorrelation
	harmHi   int
	lagLo    int
	lagHi    int
	powNorm  float64
	maxBin   int               // highest bin any feature reads
	binP     []float64         // recursively smoothed power per bin, for the pitch path's noise floor
	binMin   []float64         // its minimum in the current sub-window
	binSubs  []float64         // vadMinSubWindows sub-window minima per bin
	binRing  []float64         // minimum over binSubs, per bin
	smoothP  [vadBands]float64 // recursively smoothed band power
	curMin   [vadBands]float64 // minimum of log smoothed power in the current sub-window
	subMins  [vadMinSubWindows][vadBands]float64
	ringMin  [vadBands]float64 // minimum over subMins
	subCount int               // frames in the current sub-window
	subIdx   int
	nSubs    int // sub-windows filled so far
	feat     [vadNumFeat]float32
	hidden   [vadModelHidden]float32
	frames   int
	prob     float64
	speech   bool // thresholded decision, before hangover
	hang     int
	out      bool
}

var errVADRate = errors.New("pipeline: vad sample rate")

// NewVAD returns a detector for c.SampleRate.
func New(c Config) (*Detector, error) {
	switch c.SampleRate {
	case 16000, 24000, 48000:
	default:
		return nil, fmt.Errorf("%w %d not supported (want 16000, 24000 or 48000)", errVADRate, c.SampleRate)
	}
	if c.Sensitivity < 0 || c.Sensitivity > 3 {
		return nil, fmt.Errorf("pipeline: vad sensitivity %d out of range 0..3", c.Sensitivity)
	}
	if c.EchoSensitivityDrop < 0 || c.EchoSensitivityDrop > 6 {
		return nil, fmt.Errorf("pipeline: vad echo sensitivity drop %d out of range 0..6", c.EchoSensitivityDrop)
	}
	hangMs := c.HangoverMs
	switch {
	case hangMs == 0:
		hangMs = DefaultHangoverMs
	case hangMs < 0:
		hangMs = 0
	case hangMs > 2000:
		return nil, fmt.Errorf("pipeline: vad hangover %d ms too long (at most 2000)", hangMs)
	}
	drop := c.EchoSensitivityDrop
	if drop == 0 {
		drop = 1
	}
	v := &Detector{
		rate:       c.SampleRate,
		hop:        c.SampleRate * FrameMs / 1000,
		win:        c.SampleRate * vadWindowMs / 1000,
		hangFrames: (hangMs + FrameMs - 1) / FrameMs,
	}
	base := vadModelThreshold + float64(DefaultSensitivity-c.Sensitivity)
	v.thrOn, v.thrOff = base, base-vadModelHysteresis
	v.echoOn, v.echoOf = base+float64(drop), base+float64(drop)-vadModelHysteresis

	v.lagLo = c.SampleRate / 400
	v.lagHi = c.SampleRate / 60
	n := 1
	for n < v.win+v.lagHi {
		n <<= 1
	}
	var err error
	if v.fft, err = dsp.NewFFT(n); err != nil {
		return nil, err
	}
	v.hist = make([]float64, v.win)
	v.window = make([]float64, v.win)
	v.frame = make([]float32, n)
	v.specRe, v.specIm = make([]float32, n/2+1), make([]float32, n/2+1)
	v.power = make([]float64, n/2+1)
	v.binP = make([]float64, n/2+1)
	v.binMin = make([]float64, n/2+1)
	v.binSubs = make([]float64, vadMinSubWindows*(n/2+1))
	v.binRing = make([]float64, n/2+1)
	v.echoBin = make([]float64, n/2+1)
	var sumSq float64
	for i := range v.window {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(v.win))
		v.window[i] = w
		sumSq += w * w
	}
	// Band means of |X|^2/Σw² estimate the signal variance per bin whatever the rate, so
	// the features (all relative) mean the same at every rate.
	v.powNorm = 1 / sumSq
	binHz := float64(c.SampleRate) / float64(n)
	bin := func(hz float64) int { return int(math.Round(hz / binHz)) }
	for b := 0; b < vadBands; b++ {
		v.bandLo[b] = bin(vadBandEdges[b])
		v.bandHi[b] = max(bin(vadBandEdges[b+1]), v.bandLo[b]+1)
	}
	v.flatLo, v.flatHi = bin(250), bin(4000)
	v.harmLo, v.harmHi = bin(80), bin(3000)
	v.binLo, v.binHi = min(v.harmLo, v.flatLo), max(v.harmHi, v.flatHi)
	v.maxBin = min(max(v.binHi, v.bandHi[vadBands-1]), n/2)
	// The autocorrelation of a spectrum kept below 3 kHz is fully described at a lag step
	// of acfDec samples (6-8 kHz), which takes a transform acfDec times smaller.
	v.acfDec = 1
	for v.harmHi <= n/(4*v.acfDec) {
		v.acfDec *= 2
	}
	if v.acfFFT, err = dsp.NewFFT(n / v.acfDec); err != nil {
		return nil, err
	}
	v.acf = make([]float32, n/v.acfDec)
	v.acfRe, v.acfIm = make([]float32, n/v.acfDec/2+1), make([]float32, n/v.acfDec/2+1)
	v.winACF = make([]float64, v.lagHi/v.acfDec+2)
	for m := range v.winACF {
		var s float64
		for i := 0; i+m*v.acfDec < v.win; i++ {
			s += v.window[i] * v.window[i+m*v.acfDec]
		}
		v.winACF[m] = s / sumSq
	}
	v.initRef()
	v.Reset()
	return v, nil
}

// FrameSize is the number of samples Process takes: 10 ms.
func (v *Detector) FrameSize() int { return v.hop }

// SampleRate is the rate the VAD was made for.
func (v *Detector) SampleRate() int { return v.rate }

// SetEchoGuard tells the VAD that the device itself is speaking (the caller keeps it on for
// a tail after playback ends, for the room's reverberation). While it is on, every band is
// measured against the level of the echo as well as the noise, and the decision threshold
// is raised by EchoSensitivityDrop steps, so the device's own voice picked up by the
// microphone rarely counts as speech. Without echo cancellation the price is that a user
// speaking over the device is mostly not heard either, except where louder than the echo.
// With the level of what the device plays (NoteReference) the floor follows the echo that
// level predicts and never the user (see echoref.go); without it, a peak follower of the
// microphone stands in. It may be called from any goroutine; the change takes effect at the next frame.
func (v *Detector) SetEchoGuard(on bool) { v.guardWant.Store(on) }

// EchoGuarded reports whether the echo guard was on for the last frame
// processed. Call it from the goroutine that calls Process.
func (v *Detector) EchoGuarded() bool { return v.echoGuard }

// syncEchoGuard applies the last SetEchoGuard on the processing goroutine.
func (v *Detector) syncEchoGuard() {
	on := v.guardWant.Load()
	if on && !v.echoGuard {
		v.echoLive = false
	}
	v.echoGuard = on
}

// Reset forgets all audio: the noise floor, the smoothed features and the decision.
func (v *Detector) Reset() {
	clear(v.hist)
	for b := range v.smoothP {
		v.smoothP[b] = 0
		v.curMin[b] = math.Inf(1)
	}
	for i := range v.subMins {
		for b := range v.subMins[i] {
			v.subMins[i][b] = math.Inf(1)
		}
	}
	for b := range v.ringMin {
		v.ringMin[b] = math.Inf(1)
	}
	for k := range v.binRing {
		v.binRing[k] = math.Inf(1)
	}
	for k := range v.binMin {
		v.binMin[k] = math.Inf(1)
	}
	clear(v.binP)
	for k := range v.binSubs {
		v.binSubs[k] = math.Inf(1)
	}
	v.subCount, v.subIdx, v.nSubs = 0, 0, 0
	clear(v.feat[:])
	v.frames = 0
	v.prob = 0
	v.speech, v.out = false, false
	v.hang = 0
	v.ref.reset()
}

// Probability is the model's speech probability for the last frame (before threshold and
// hangover).
func (v *Detector) Probability() float64 { return v.prob }

// Features returns the model input computed for the last frame, in a buffer owned by the
// VAD and overwritten by the next Process. It exists for fitting the model offline and for
// diagnostics.
func (v *Detector) Features() []float32 { return v.feat[:] }

// Process analyses one frame of FrameSize samples and reports whether speech is present,
// hangover included. It panics if the frame has the wrong length (a programming error).
func (v *Detector) Process(frame []int16) bool {
	if len(frame) != v.hop {
		panic(fmt.Sprintf("pipeline: VAD.Process got %d samples, want %d", len(frame), v.hop))
	}
	v.syncEchoGuard()
	if !v.analyse(frame) {
		return false
	}
	z := vadModelForward(&v.feat, &v.hidden)
	v.prob = 1 / (1 + math.Exp(-z))
	on, off := v.thrOn, v.thrOff
	if v.echoGuard && !v.ref.seen {
		// Measured against the echo the reference predicts, the frame needs no
		// higher threshold: that is for the microphone-only follower.
		on, off = v.echoOn, v.echoOf
	}
	if v.speech {
		v.speech = z >= off
	} else {
		v.speech = z >= on
	}
	switch {
	case v.speech:
		v.hang = v.hangFrames
		v.out = true
	case v.hang > 0:
		v.hang--
		v.out = true
	default:
		v.out = false
	}
	return v.out
}

// analyse computes the features of the frame into v.feat. It reports false while the
// analysis window is still filling: a half-empty window would start the noise floor low.
func (v *Detector) analyse(frame []int16) bool {
	copy(v.hist, v.hist[v.hop:])
	tail := v.hist[v.win-v.hop:]
	tail = tail[:len(frame)]
	for i, s := range frame {
		tail[i] = float64(s) * (1.0 / 32768)
	}
	// Slices of equal length let the loops go without bounds checks.
	win, frm := v.window[:len(v.hist)], v.frame[:len(v.hist)]
	for i, x := range v.hist {
		frm[i] = float32(x * win[i])
	}
	// v.frame beyond win stays zero: nothing else writes there. The transform is in
	// float32, whose rounding (some 1e-7 of the frame's largest bin) stays under the
	// power floor below for any frame within 0 dBFS.
	v.fft.Forward(v.frame, v.specRe, v.specIm)
	pw := v.power[:v.maxBin+1]
	re, im := v.specRe[:len(pw)], v.specIm[:len(pw)]
	for k := range pw {
		r, i := float64(re[k]), float64(im[k])
		pw[k] = (r*r + i*i) * v.powNorm
	}
	const floor = 1e-11 // about -110 dBFS per bin: keeps logs finite on digital silence
	v.refFrame()

	v.frames++
	if v.frames < vadWindowMs/FrameMs {
		return false
	}
	first := v.frames == vadWindowMs/FrameMs
	// Sub-band energies and their noise floors.
	var meanSNR float64
	for b := 0; b < vadBands; b++ {
		var s float64
		for k := v.bandLo[b]; k < v.bandHi[b]; k++ {
			s += v.power[k]
		}
		p := s/float64(v.bandHi[b]-v.bandLo[b]) + floor
		if first {
			v.smoothP[b] = p
		} else {
			v.smoothP[b] = 0.7*v.smoothP[b] + 0.3*p
		}
		ls := math.Log10(v.smoothP[b])
		if ls < v.curMin[b] {
			v.curMin[b] = ls
		}
		noise := min(v.curMin[b], v.ringMin[b])
		switch {
		case v.echoGuard && v.ref.seen:
			noise = v.refFloor(b, noise, ls)
		case v.echoGuard:
			noise = v.echoFloor(&v.echoBand[b], noise, ls)
		}
		snr := math.Log10(p) - noise
		snr = max(vadSNRMin, min(vadSNRMax, snr))
		meanSNR += snr
		v.setSmoothed(vfSNR+b, snr, first)
	}
	// Per-bin floors from 80 Hz to 4 kHz. Against them, stationary coloured noise looks flat
	// and stationary tones (mains hum and its harmonics, fans) are subtracted before the
	// pitch search instead of being read as voicing.
	nbin := len(v.binP)
	var sumLog, sum, noiseSum float64
	prod := 1.0 // products of up to 8 SNRs: one logarithm per 8 bins
	pw = v.power[v.binLo:v.binHi]
	bp, bm, br := v.binP[v.binLo:v.binHi][:len(pw)], v.binMin[v.binLo:v.binHi][:len(pw)], v.binRing[v.binLo:v.binHi][:len(pw)]
	for i := range pw {
		k := v.binLo + i
		p := pw[i] + floor
		if first {
			bp[i] = p
		} else {
			bp[i] = 0.7*bp[i] + 0.3*p
		}
		bm[i] = min(bm[i], bp[i])
		noise := min(bm[i], br[i])
		switch {
		case v.echoGuard && v.ref.seen:
			noise = v.refFloorLin(k, noise)
		case v.echoGuard:
			noise = v.echoFloorLin(&v.echoBin[k], noise, bp[i])
		}
		if k >= v.harmLo && k < v.harmHi {
			v.acf[k] = float32(max(p-vadPitchOverSub*noise, 0))
			noiseSum += vadPitchOverSub * noise
		}
		if k >= v.flatLo && k < v.flatHi {
			q := p / noise
			prod *= q
			if (k-v.flatLo)&7 == 7 {
				sumLog += math.Log(prod)
				prod = 1
			}
			sum += q
		}
	}
	sumLog += math.Log(prod)
	if v.echoGuard {
		v.echoLive = true
		if v.ref.seen {
			v.refLearn()
		}
	}
	// Flatness of the a-posteriori SNR spectrum over 250 Hz-4 kHz.
	nb := float64(v.flatHi - v.flatLo)
	flat := sumLog/nb - math.Log(sum/nb)
	v.subCount++
	if v.subCount == vadMinSubFrames {
		// Rotate the sub-window minima and keep their overall minimum up to date, so that
		// a frame compares with one value per bin instead of one per sub-window.
		copy(v.binSubs[v.subIdx*nbin:(v.subIdx+1)*nbin], v.binMin)
		v.subMins[v.subIdx] = v.curMin
		v.subIdx = (v.subIdx + 1) % vadMinSubWindows
		v.nSubs = min(v.nSubs+1, vadMinSubWindows)
		for k := v.binLo; k < v.binHi; k++ {
			m := math.Inf(1)
			for i := 0; i < v.nSubs; i++ {
				m = min(m, v.binSubs[i*nbin+k])
			}
			v.binRing[k] = m
			v.binMin[k] = math.Inf(1)
		}
		for b := range v.curMin {
			m := math.Inf(1)
			for i := 0; i < v.nSubs; i++ {
				m = min(m, v.subMins[i][b])
			}
			v.ringMin[b] = m
			v.curMin[b] = math.Inf(1)
		}
		v.subCount = 0
	}
	meanSNR /= vadBands

	// Pitch strength: the autocorrelation is the inverse transform of the band-limited,
	// noise-subtracted power spectrum. The main transform's size leaves room for the longest
	// lag without wrap-around; this one samples that autocorrelation every acfDec lags.
	na := len(v.acf)
	clear(v.acf[:v.harmLo])
	clear(v.acf[v.harmHi : na-v.harmHi+1])
	for k := v.harmLo; k < v.harmHi; k++ {
		v.acf[na-k] = v.acf[k]
	}
	v.acfFFT.Forward(v.acf, v.acfRe, v.acfIm) // real and even in: the cosine sums are the autocorrelation
	harm := 0.0
	// Normalising by the energy before subtraction makes this periodicity times the share
	// of the energy above the noise. The window's own autocorrelation is divided out, but
	// not where it is small, which would only amplify noise. A parabola through the best
	// lag and its neighbours recovers a peak that falls between the sampled lags.
	if r0 := float64(v.acfRe[0]) + 2*noiseSum; r0 > 0 {
		r := v.acfRe
		best, bm := math.Inf(-1), 0
		for m := (v.lagLo + v.acfDec - 1) / v.acfDec; m <= v.lagHi/v.acfDec; m++ {
			if h := float64(r[m]) / max(v.winACF[m], 0.5); h > best {
				best, bm = h, m
			}
		}
		y0, ym, yp := float64(r[bm]), float64(r[bm-1]), float64(r[bm+1])
		peak := y0
		if d := ym - 2*y0 + yp; d < 0 {
			off := 0.5 * (ym - yp) / d
			peak = y0 - 0.25*(ym-yp)*off
		}
		harm = max(peak/(r0*max(v.winACF[bm], 0.5)), 0)
	}

	fe := &v.feat
	a := func(i int, x float64, alpha float32) {
		if first {
			fe[i] = float32(x)
		} else {
			fe[i] = vadFlush(alpha*fe[i] + (1-alpha)*float32(x))
		}
	}
	fe[vfFlat] = float32(flat)
	a(vfFlatS, flat, 0.6)
	fe[vfHarm] = float32(harm)
	a(vfHarmS, harm, 0.6)
	fe[vfMean] = float32(meanSNR)
	a(vfMeanLong, meanSNR, 0.97)
	var slowMean float32
	for b := 0; b < vadBands; b++ {
		slowMean += fe[vfSNRSlow+b]
	}
	fe[vfOnset] = float32(meanSNR) - slowMean/vadBands
	return true
}

// While the echo guard is on, the floor a band or bin is measured against is raised to the
// level of the device's own voice: a peak follower that rises quickly and falls slowly, so
// it holds across the echo's syllables, seeded vadEchoSeed above the noise when the guard
// goes on (the echo is assumed loud until it has been heard). A user speaking over the
// echo still shows where the echo is weak, outside the loudspeaker's band for one. The
// level is used before it is updated with the frame being judged.
const (
	vadEchoSeed = 1.5  // log10 units above the noise floor
	vadEchoRise = 0.5  // share of the gap closed per frame when louder
	vadEchoFall = 0.02 // log10 units per frame (0.2 dB, 20 dB/s)
)

// setSmoothed stores a band SNR and updates its two smoothed copies.
func (v *Detector) setSmoothed(i int, x float64, first bool) {
	fe := &v.feat
	xf := float32(x)
	fe[i] = xf
	if first {
		fe[i+vfSNRFast-vfSNR] = xf
		fe[i+vfSNRSlow-vfSNR] = xf
		return
	}
	fe[i+vfSNRFast-vfSNR] = vadFlush(0.6*fe[i+vfSNRFast-vfSNR] + 0.4*xf)
	fe[i+vfSNRSlow-vfSNR] = vadFlush(0.9*fe[i+vfSNRSlow-vfSNR] + 0.1*xf)
}

// vadFlush returns 0 for a smoothed feature too small to matter. On digital silence (a
// muted microphone, a file microphone past its end) the SNRs are 0 and their smoothed
// copies decay towards it for ever, into subnormal floats: each operation on one costs
// tens of normal ones on x86 and traps to the kernel's VFP support code on ARMv6, which
// made a frame of silence three times a frame of speech. Next to weights and biases of
// order 1, 1e-20 changes no decision.
func vadFlush(x float32) float32 {
	if x > -1e-20 && x < 1e-20 {
		return 0
	}
	return x
}
