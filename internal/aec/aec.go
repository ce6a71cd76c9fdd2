package aec

import (
	"errors"
	"fmt"
	"math"
)

// Config sets up a Canceller. Zero fields take the default noted.
type Config struct {
	SampleRate int // Hz, 8000 to 48000; required
	FrameSize  int // samples per Process call; required (e.g. 10 or 20 ms)
	TailMs     int // echo tail the filter covers after the direct path; default 128
	MaxDelayMs int // longest reference-to-microphone delay searched; default 400
	// DelayMs, when positive, fixes the delay instead of estimating it.
	DelayMs int
	// BlockSize is the filter's block in samples, a power of two; default about 8 ms
	// (128 at 16 and 24 kHz, 256 at 48 kHz). Smaller blocks cut latency and cost more.
	BlockSize int
	// SuppressFloorDB is the lowest gain of the residual echo suppressor, in dB
	// (negative); default -30. NoSuppress turns the suppressor off.
	SuppressFloorDB float64
	NoSuppress      bool
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("aec: config")

// Defaults of Config.
const (
	DefaultTailMs          = 128
	DefaultMaxDelayMs      = 400
	DefaultSuppressFloorDB = -30
)

// Filter constants.
const (
	constrainPerBlock = 1
	preBlocks         = 3    // partitions kept before the estimated delay
	muInit            = 0.8  // step before the leakage estimate is trusted
	muMax             = 0.5  // ceiling of the per-bin step
	betaMax           = 0.05 // fastest leakage averaging
	leakMin           = 0.1
	overSub           = 2.0  // residual suppressor over-subtraction
	reverbDecay       = 0.5  // per-block decay of the residual estimate's memory
	farFloor          = 1e-7 // mean square under which the reference is silence (-70 dBFS)
)

func (c *Config) fill() error {
	if c.SampleRate < 8000 || c.SampleRate > 48000 {
		return fmt.Errorf("%w: sample rate %d out of range [8000, 48000]", ErrConfig, c.SampleRate)
	}
	if c.FrameSize < 1 || c.FrameSize > c.SampleRate {
		return fmt.Errorf("%w: frame size %d out of range [1, %d]", ErrConfig, c.FrameSize, c.SampleRate)
	}
	if c.TailMs == 0 {
		c.TailMs = DefaultTailMs
	}
	if c.TailMs < 8 || c.TailMs > 1000 {
		return fmt.Errorf("%w: tail %d ms out of range [8, 1000]", ErrConfig, c.TailMs)
	}
	if c.MaxDelayMs == 0 {
		c.MaxDelayMs = DefaultMaxDelayMs
	}
	if c.MaxDelayMs < 0 || c.MaxDelayMs > 1000 || c.DelayMs < 0 || c.DelayMs > 1000 {
		return fmt.Errorf("%w: delay %d ms / max delay %d ms out of range [0, 1000]", ErrConfig, c.DelayMs, c.MaxDelayMs)
	}
	if c.BlockSize == 0 {
		c.BlockSize = 64
		for c.BlockSize*2 <= c.SampleRate*8/1000 {
			c.BlockSize *= 2
		}
	}
	if c.BlockSize < 16 || c.BlockSize > 4096 || c.BlockSize&(c.BlockSize-1) != 0 {
		return fmt.Errorf("%w: block size %d is not a power of two in [16, 4096]", ErrConfig, c.BlockSize)
	}
	if c.SuppressFloorDB == 0 {
		c.SuppressFloorDB = DefaultSuppressFloorDB
	}
	if c.SuppressFloorDB > 0 || c.SuppressFloorDB < -80 {
		return fmt.Errorf("%w: suppressor floor %g dB out of range [-80, 0]", ErrConfig, c.SuppressFloorDB)
	}
	return nil
}

// Stats describe the canceller's recent state, for logs and for a detector that
// needs to know how much echo is left.
type Stats struct {
	// ERLE is the echo return loss enhancement in dB (microphone power over output
	// power) averaged over recent blocks where only the far end spoke.
	ERLE float32
	// Echo and Residual are the mean-square levels (full scale 1) of the echo
	// estimated in the last frame's microphone signal and of what is estimated to be
	// left of it in the output. A detector can require speech to exceed Residual.
	Echo, Residual float32
	// DoubleTalk is whether the last block held more than the residual echo.
	DoubleTalk bool
	// Delay is the reference-to-microphone delay in samples the filter is aligned to
	// (block resolution), and DelayFound whether it came from an estimate yet.
	Delay      int
	DelayFound bool
	// DriftPPM is the clock drift being corrected, in parts per million.
	DriftPPM float32
	// Resets counts the adapting filter's falls back to the last good weights;
	// Dropped counts reference samples lost because Process had stalled.
	Resets, Dropped uint64
}

// leak estimates the leakage: the share of the error power that follows the echo
// estimate's power. Per bin it tracks the deviations of both powers from their
// recent means; the ratio of their cross-correlation to the echo deviation's
// power, summed over bins, is the leakage.
type leak struct {
	mE, mY   []float32
	rey, ryy float64
	eta      float32
}

func newLeak(bins int) *leak {
	return &leak{mE: make([]float32, bins), mY: make([]float32, bins), eta: 0.25}
}

func (l *leak) reset() {
	clear(l.mE)
	clear(l.mY)
	l.rey, l.ryy, l.eta = 0, 0, 0.25
}

func (l *leak) update(pe, py []float32, beta float64) {
	var ey, yy float64
	mE, mY := l.mE[:len(pe)], l.mY[:len(pe)]
	py = py[:len(pe)]
	for k, e := range pe {
		de, dy := e-mE[k], py[k]-mY[k]
		mE[k] += 0.1 * de
		mY[k] += 0.1 * dy
		ey += float64(de * dy)
		yy += float64(dy * dy)
	}
	l.rey = (1-beta)*l.rey + beta*ey
	l.ryy = (1-beta)*l.ryy + beta*yy
	if l.ryy > 0 {
		l.eta = float32(min(1, max(leakMin, l.rey/l.ryy)))
	}
}

// Canceller removes the echo of the reference from the microphone. Playback is
// called by the playback goroutine, everything else by the capture goroutine.
type Canceller struct {
	cfg          Config
	n, m, bins   int // block, FFT length, bins
	parts        int // partitions
	lags         int // delay estimator lags (blocks)
	ring         *refRing
	fft          *fft
	delay        *delayEst
	drift        *driftComp
	fixedDelay   bool
	dref         int // filter's reference delay in blocks (>= 1)
	pos          int64
	blocks       uint64
	farBlocks    int
	farQuiet     int
	xPrevSilent  bool
	adapted      bool
	frameSamples int

	// FIFOs: in holds a partial block; out is a ring of processed samples.
	in                []float32
	inLen             int
	out               []float32
	outHead, outLen   int
	prime             int
	micPrev, refGuard []float32
	refGuardPrev      []float32

	// Filter state. Spectra are flat [partition*bins+bin].
	xPrev, x, tbuf    []float32
	xRe, xIm          []float32
	head              int
	constrainNext     int
	wbRe, wbIm        []float32
	wfRe, wfIm        []float32
	yRe, yIm          []float32
	sRe, sIm          []float32
	px, xPow          []float32
	pe, py, pyf       []float32
	gRe, gIm          []float32
	yb, eb, yf, ef    []float32
	bgLeak, resLeak   *leak
	sBg, sFg          float64
	bgWorse, bgBetter int

	// Residual echo suppressor.
	win          []float32
	ePrev, yPrev []float32
	resR, gain   []float32
	ola          []float32
	blockOut     []float32

	// Statistics.
	sD, sE         float64
	lkY, lkE       float64 // smoothed foreground echo estimate and error powers, far-only blocks
	echo, residual float64 // sums over the current frame
	stats          Stats
	resets         uint64
	i16in, i16out  []float32
	i16ref         []float32 // playback side only
}

// New returns a Canceller for c.
func New(c Config) (*Canceller, error) {
	if err := c.fill(); err != nil {
		return nil, err
	}
	n := c.BlockSize
	m := 2 * n
	f, err := newFFT(m)
	if err != nil {
		return nil, err
	}
	bins := n + 1
	tail := (c.TailMs*c.SampleRate/1000 + n - 1) / n
	parts := tail + preBlocks
	lags := (c.MaxDelayMs*c.SampleRate/1000+n-1)/n + 1
	maxDref := max(lags, (c.DelayMs*c.SampleRate/1000)/n+1)
	keep := (maxDref + parts + 4) * n
	a := &Canceller{cfg: c, n: n, m: m, bins: bins, parts: parts, lags: lags, fft: f,
		ring:         newRefRing(keep+c.SampleRate+4*c.FrameSize, keep, c.SampleRate),
		delay:        newDelayEst(f, c.SampleRate, n, lags),
		drift:        newDriftComp(c.SampleRate, n, parts),
		dref:         1,
		frameSamples: c.FrameSize,
		in:           make([]float32, n),
		micPrev:      make([]float32, n), refGuard: make([]float32, n), refGuardPrev: make([]float32, n),
		xPrev: make([]float32, n), x: make([]float32, n), tbuf: make([]float32, m),
		xRe: make([]float32, parts*bins), xIm: make([]float32, parts*bins),
		wbRe: make([]float32, parts*bins), wbIm: make([]float32, parts*bins),
		wfRe: make([]float32, parts*bins), wfIm: make([]float32, parts*bins),
		yRe: make([]float32, bins), yIm: make([]float32, bins),
		sRe: make([]float32, bins), sIm: make([]float32, bins),
		px: make([]float32, bins), xPow: make([]float32, parts*bins), pe: make([]float32, bins), py: make([]float32, bins), pyf: make([]float32, bins),
		gRe: make([]float32, bins), gIm: make([]float32, bins),
		yb: make([]float32, n), eb: make([]float32, n), yf: make([]float32, n), ef: make([]float32, n),
		bgLeak: newLeak(bins), resLeak: newLeak(bins),
		win: make([]float32, m), ePrev: make([]float32, n), yPrev: make([]float32, n),
		resR: make([]float32, bins), gain: make([]float32, bins), ola: make([]float32, n),
		blockOut: make([]float32, n),
		i16in:    make([]float32, c.FrameSize), i16out: make([]float32, c.FrameSize),
		i16ref: make([]float32, 256),
	}
	if c.DelayMs > 0 {
		a.fixedDelay = true
		a.dref = max(1, (c.DelayMs*c.SampleRate/1000)/n-preBlocks+1)
	}
	if c.FrameSize%n != 0 {
		a.prime = n
	}
	size := 1
	for size < c.FrameSize+2*n+a.prime {
		size <<= 1
	}
	a.out = make([]float32, size)
	a.outLen = a.prime
	for i := range a.win {
		// sqrt of a periodic Hann: analysis and synthesis windows overlap-add to one.
		a.win[i] = float32(math.Sqrt(0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(m))))
	}
	for i := range a.gain {
		a.gain[i] = 1
	}
	a.stats.Delay = a.dref * n
	return a, nil
}

// Latency is how many samples the output lags the microphone input.
func (a *Canceller) Latency() int {
	if a.cfg.NoSuppress {
		return a.prime
	}
	return a.prime + a.n
}

// Config returns the configuration in force, defaults filled in.
func (a *Canceller) Config() Config { return a.cfg }

// Playback hands over samples as they are written to the speaker. queued is how
// many samples the device still holds ahead of them (ALSA's delay), or -1 when
// unknown. It is called from one goroutine (the playback loop), never blocks and
// never allocates.
func (a *Canceller) Playback(ref []float32, queued int) {
	a.ring.write(ref, queued)
}

// PlaybackInt16 is Playback for 16-bit samples.
func (a *Canceller) PlaybackInt16(ref []int16, queued int) {
	for len(ref) > 0 {
		k := min(len(ref), len(a.i16ref))
		for i, v := range ref[:k] {
			a.i16ref[i] = float32(v) * (1.0 / 32768)
		}
		a.ring.write(a.i16ref[:k], queued)
		if queued >= 0 {
			queued += k
		}
		ref = ref[k:]
	}
}

// ErrFrame is returned by Process for a frame of the wrong length.
var ErrFrame = errors.New("aec: frame length")

// Process cancels the echo in one frame of microphone samples (full scale 1) and
// writes the result, Latency samples late, into out. mic and out hold FrameSize
// samples and may be the same slice.
func (a *Canceller) Process(mic, out []float32) error {
	if len(mic) != a.frameSamples || len(out) != a.frameSamples {
		return fmt.Errorf("%w: %d in, %d out; want %d", ErrFrame, len(mic), len(out), a.frameSamples)
	}
	a.echo, a.residual = 0, 0
	for len(mic) > 0 {
		k := min(len(mic), a.n-a.inLen)
		copy(a.in[a.inLen:], mic[:k])
		a.inLen += k
		mic = mic[k:]
		if a.inLen == a.n {
			a.processBlock(a.in, a.blockOut)
			a.inLen = 0
			for i, v := range a.blockOut {
				a.out[(a.outHead+a.outLen+i)&(len(a.out)-1)] = v
			}
			a.outLen += a.n
		}
	}
	a.ring.took(a.pos + int64(a.inLen))
	for i := range out {
		out[i] = a.out[a.outHead]
		a.outHead = (a.outHead + 1) & (len(a.out) - 1)
	}
	a.outLen -= len(out)
	fs := float32(len(out))
	a.stats.Echo, a.stats.Residual = float32(a.echo)/fs, float32(a.residual)/fs
	return nil
}

// ProcessInt16 is Process for 16-bit samples.
func (a *Canceller) ProcessInt16(mic, out []int16) error {
	if len(mic) != a.frameSamples || len(out) != a.frameSamples {
		return fmt.Errorf("%w: %d in, %d out; want %d", ErrFrame, len(mic), len(out), a.frameSamples)
	}
	for i, v := range mic {
		a.i16in[i] = float32(v) * (1.0 / 32768)
	}
	_ = a.Process(a.i16in, a.i16out)
	for i, v := range a.i16out {
		out[i] = int16(max(-32768, min(32767, math.Round(float64(v)*32768))))
	}
	return nil
}

// Stats returns the canceller's state after the last Process. Capture side only.
func (a *Canceller) Stats() Stats {
	s := a.stats
	s.Resets = a.resets
	s.Dropped = a.ring.dropped.Load()
	return s
}

func energy(x []float32) float64 {
	var s float32
	for _, v := range x {
		s += v * v
	}
	return float64(s)
}

// processBlock cancels one block d into out.
func (a *Canceller) processBlock(d, out []float32) {
	n, bins := a.n, a.bins
	p := a.pos
	a.ring.advance(p)
	a.pos += int64(n)
	a.blocks++

	// Delay: the reference one block back (the newest surely written) against the mic.
	copy(a.refGuardPrev, a.refGuard)
	a.ring.read(a.refGuard, p-int64(n))
	far := energy(a.refGuard)/float64(n) > farFloor
	if !a.fixedDelay && a.delay.update(a.micPrev, d, a.refGuardPrev, a.refGuard, far) {
		// The filter spans preBlocks before the estimate: a move of one block (the
		// estimate's own jitter, or drift) stays inside it and is left to the filter.
		want := max(1, 1+a.delay.cur-preBlocks)
		if !a.stats.DelayFound || want > a.dref+1 || want < a.dref-1 {
			a.realign(want, p)
			// What the filter learnt at a delay far off is noise: start the
			// fixed-step phase again.
			a.adapted, a.farBlocks = false, 0
			a.bgLeak.reset()
			a.drift.reset()
		}
		a.stats.DelayFound = true
	}
	copy(a.micPrev, d)

	// The reference block for the filter and its spectrum, newest partition first.
	// Drift correction moves the read position by fractions of a sample; whole
	// blocks of it go into the delay, which leaves the read position unchanged.
	if a.drift.phase >= float64(n) && a.dref > 1 {
		a.dref--
		a.drift.phase -= float64(n)
	} else if a.drift.phase <= -float64(n) {
		a.dref++
		a.drift.phase += float64(n)
	}
	a.drift.read(a.ring, a.x, p-int64(a.dref*n))
	copy(a.tbuf, a.xPrev)
	copy(a.tbuf[n:], a.x)
	copy(a.xPrev, a.x)
	a.head--
	if a.head < 0 {
		a.head = a.parts - 1
	}
	x0 := a.head * bins
	sxx := energy(a.x)
	farActive := sxx/float64(n) > farFloor
	if sxx == 0 && a.xPrevSilent {
		// Digital silence (between replies): its spectrum is nil.
		clear(a.xRe[x0 : x0+bins])
		clear(a.xIm[x0 : x0+bins])
	} else {
		a.fft.Forward(a.tbuf, a.xRe[x0:x0+bins], a.xIm[x0:x0+bins])
	}
	a.xPrevSilent = sxx == 0
	// px is the power of each bin summed over the partitions: the squared norm of
	// the regression vector the update is normalised by.
	for k := range bins {
		r, i := a.xRe[x0+k], a.xIm[x0+k]
		p := r*r + i*i
		a.px[k] = max(0, a.px[k]+p-a.xPow[x0+k])
		a.xPow[x0+k] = p
	}
	if a.blocks%256 == 0 {
		// Re-sum now and then so rounding cannot accumulate.
		clear(a.px)
		for j := range a.parts {
			for k, p := range a.xPow[j*bins : (j+1)*bins] {
				a.px[k] += p
			}
		}
	}

	// With no reference anywhere in the filter's span there is no echo to
	// estimate: pass the microphone through (a quiet room costs little).
	if farActive {
		a.farQuiet = 0
	} else {
		a.farQuiet++
	}
	if a.farQuiet > a.parts+preBlocks {
		a.bypass(d, out)
		return
	}

	// Both filters' echo estimates and errors.
	clear(a.yRe)
	clear(a.yIm)
	clear(a.sRe)
	clear(a.sIm)
	for k := range a.parts {
		x := ((a.head + k) % a.parts) * bins
		w := k * bins
		cmac2(a.yRe, a.yIm, a.sRe, a.sIm, a.wbRe[w:w+bins], a.wbIm[w:w+bins], a.wfRe[w:w+bins], a.wfIm[w:w+bins], a.xRe[x:x+bins], a.xIm[x:x+bins])
	}
	a.fft.Inverse(a.yRe, a.yIm, a.tbuf)
	copy(a.yb, a.tbuf[n:])
	// The foreground's echo spectrum stands in for the echo's power per bin in
	// the suppressor: its leakage estimate scales whatever proxy it is given.
	for k := range bins {
		a.pyf[k] = a.sRe[k]*a.sRe[k] + a.sIm[k]*a.sIm[k]
	}
	a.fft.Inverse(a.sRe, a.sIm, a.tbuf)
	copy(a.yf, a.tbuf[n:])
	for i := range n {
		a.eb[i] = d[i] - a.yb[i]
		a.ef[i] = d[i] - a.yf[i]
	}
	sdd, seb, sef := energy(d), energy(a.eb), energy(a.ef)
	syb, syf := energy(a.yb), energy(a.yf)

	// Foreground/background: keep the better weights in the foreground, and pull a
	// background that has gone astray (double talk it took for echo) back to them.
	if math.IsNaN(seb) || math.IsInf(seb, 0) {
		// Cannot happen with the regularised step; if it does, start over from the
		// foreground rather than stay broken.
		copy(a.wbRe, a.wfRe)
		copy(a.wbIm, a.wfIm)
		seb = sef
		a.resets++
		a.bgLeak.reset()
	}
	a.sBg = 0.6*a.sBg + 0.4*seb
	a.sFg = 0.6*a.sFg + 0.4*sef
	floor := 1e-6 * float64(n)
	switch {
	case a.sBg < 0.8*a.sFg && a.sFg > floor:
		a.bgBetter++
		if a.bgBetter >= 2 {
			copy(a.wfRe, a.wbRe)
			copy(a.wfIm, a.wbIm)
			a.sFg = a.sBg
			a.bgBetter = 0
		}
	case a.sBg > 4*a.sFg && a.sBg > floor && a.adapted:
		a.bgWorse++
		a.bgBetter = 0
		if a.bgWorse >= 3 {
			copy(a.wbRe, a.wfRe)
			copy(a.wbIm, a.wfIm)
			a.sBg = a.sFg
			a.bgWorse = 0
			a.resets++
		}
	default:
		a.bgBetter, a.bgWorse = 0, 0
	}

	if farActive {
		a.adapt(seb, syb)
	}

	if a.blocks%uint64(a.drift.every) == 0 {
		if a.adapted && a.stats.ERLE > driftMinERLE {
			for k := range a.parts {
				w := k * bins
				a.fft.Inverse(a.wbRe[w:w+bins], a.wbIm[w:w+bins], a.tbuf)
				copy(a.drift.ir[k*n:], a.tbuf[:n])
			}
			if pos, share := peak(a.drift.ir); share > 0.05 {
				a.drift.observe(float64(p), pos)
			}
		}
	}

	dt := sef > 4*float64(a.bgLeak.eta)*syf+floor
	if farActive && !dt {
		a.lkY = 0.9*a.lkY + 0.1*syf
		a.lkE = 0.9*a.lkE + 0.1*sef
	}

	// Output, through the suppressor or straight from the foreground.
	if a.cfg.NoSuppress {
		copy(out, a.ef)
		a.echo += syf
		a.residual += float64(a.bgLeak.eta) * syf
	} else {
		a.suppress(out, sef, syf)
	}
	sout := energy(out)

	a.stats.DoubleTalk = dt && farActive
	if farActive && !dt && a.adapted {
		a.sD = 0.95*a.sD + 0.05*sdd
		a.sE = 0.95*a.sE + 0.05*sout
		if a.sE > 0 {
			a.stats.ERLE = float32(10 * math.Log10(a.sD/a.sE+1e-12))
		}
	}
	a.stats.Delay = a.dref * n
	a.stats.DriftPPM = float32(a.drift.rate * 1e6)
}
