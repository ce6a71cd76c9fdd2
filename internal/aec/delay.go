package aec

import "math"

// delayBands is the number of bands whose log energies are correlated.
const delayBands = 12

// delayEst finds how many blocks after the reference its echo reaches the
// microphone. Per block it takes the log energy of the reference and of the
// microphone in a dozen bands (300 Hz to 3.8 kHz), removes each band's slow
// mean, and keeps for every candidate lag a leaky cross-correlation of the two
// feature vectors, normalised to a correlation coefficient. Only blocks where the
// reference carries sound count. The lag with the highest coefficient becomes the
// estimate once it has led for a while by a margin; this hysteresis keeps the
// filter from being shifted back and forth by double talk.
type delayEst struct {
	fft    *fft
	win    []float32 // Hann, 2 blocks
	buf    []float32
	re, im []float32
	edges  [delayBands + 1]int

	meanRef, meanMic [delayBands]float32
	hist             [][delayBands]float32 // reference features, newest at head
	head             int
	acc, rr          []float64 // per lag
	mm               float64
	primed           int // blocks seen, for the slow means

	cand, stable int
	cur          int     // lag in blocks, -1 before the first estimate
	conf         float32 // correlation coefficient at cur
}

// Estimate switching: a candidate must lead for delayHold active blocks by
// delaySwitch over the current lag, with at least delayMinCorr.
const (
	delayLeak    = 0.99
	delayHold    = 40
	delaySwitch  = 0.02
	delayMinCorr = 0.25
)

func newDelayEst(f *fft, rate, block, lags int) *delayEst {
	m := 2 * block
	d := &delayEst{fft: f, win: make([]float32, m), buf: make([]float32, m),
		re: make([]float32, block+1), im: make([]float32, block+1),
		hist: make([][delayBands]float32, lags), acc: make([]float64, lags), rr: make([]float64, lags),
		cand: -1, cur: -1}
	for i := range d.win {
		d.win[i] = float32(0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(m)))
	}
	lo, hi := 300.0, min(3800.0, 0.45*float64(rate))
	for b := range delayBands + 1 {
		hz := lo * math.Pow(hi/lo, float64(b)/delayBands)
		d.edges[b] = max(1, min(block, int(hz*float64(m)/float64(rate)+0.5)))
	}
	return d
}

// features writes the mean-removed log band energies of the window prev+cur.
func (d *delayEst) features(prev, cur []float32, mean *[delayBands]float32, out *[delayBands]float32, adapt float32) {
	n := len(cur)
	for i := range n {
		d.buf[i] = prev[i] * d.win[i]
		d.buf[n+i] = cur[i] * d.win[n+i]
	}
	d.fft.Forward(d.buf, d.re, d.im)
	for b := range delayBands {
		var e float32
		for k := d.edges[b]; k < max(d.edges[b]+1, d.edges[b+1]); k++ {
			e += d.re[k]*d.re[k] + d.im[k]*d.im[k]
		}
		l := float32(math.Log(float64(e) + 1e-9))
		mean[b] += adapt * (l - mean[b])
		out[b] = l - mean[b]
	}
}

// update takes one block of microphone and reference (each with the block before
// it) and reports whether the estimate changed.
func (d *delayEst) update(micPrev, mic, refPrev, ref []float32, active bool) bool {
	adapt := float32(0.02)
	if d.primed < 50 {
		d.primed++
		adapt = 1 / float32(d.primed)
	}
	var mf [delayBands]float32
	d.features(micPrev, mic, &d.meanMic, &mf, adapt)
	d.head--
	if d.head < 0 {
		d.head = len(d.hist) - 1
	}
	d.features(refPrev, ref, &d.meanRef, &d.hist[d.head], adapt)
	if !active {
		return false
	}
	var m2 float32
	for _, v := range mf {
		m2 += v * v
	}
	d.mm = delayLeak*d.mm + (1-delayLeak)*float64(m2)
	lags := len(d.hist)
	best, bestC := -1, 0.0
	for j := range lags {
		h := &d.hist[(d.head+j)%lags]
		var dot, r2 float32
		for b := range delayBands {
			dot += mf[b] * h[b]
			r2 += h[b] * h[b]
		}
		d.acc[j] = delayLeak*d.acc[j] + (1-delayLeak)*float64(dot)
		d.rr[j] = delayLeak*d.rr[j] + (1-delayLeak)*float64(r2)
		if c := d.corr(j); c > bestC {
			best, bestC = j, c
		}
	}
	if best < 0 || bestC < delayMinCorr {
		d.stable = 0
		return false
	}
	if d.cand >= 0 && best >= d.cand-1 && best <= d.cand+1 {
		d.stable++
	} else {
		d.stable = 0
	}
	d.cand = best
	if best == d.cur {
		d.conf = float32(bestC)
		return false
	}
	if d.stable < delayHold || (d.cur >= 0 && bestC < d.corr(d.cur)+delaySwitch) {
		if d.cur >= 0 {
			d.conf = float32(d.corr(d.cur))
		}
		return false
	}
	d.cur, d.conf = best, float32(bestC)
	return true
}

func (d *delayEst) corr(j int) float64 {
	den := d.mm * d.rr[j]
	if den <= 0 {
		return 0
	}
	return d.acc[j] / math.Sqrt(den)
}
