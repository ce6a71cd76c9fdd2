package aec

import "math"

// adapt updates the background filter from its error, with the step of each bin
// set from the residual echo to error ratio.
func (a *Canceller) adapt(see, syy float64) {
	n, bins := a.n, a.bins
	clear(a.tbuf[:n])
	copy(a.tbuf[n:], a.eb)
	a.fft.Forward(a.tbuf, a.gRe, a.gIm)
	copy(a.tbuf[n:], a.yb)
	a.fft.Forward(a.tbuf, a.sRe, a.sIm)
	var pxMean float32
	for k := range bins {
		a.pe[k] = a.gRe[k]*a.gRe[k] + a.gIm[k]*a.gIm[k]
		a.py[k] = a.sRe[k]*a.sRe[k] + a.sIm[k]*a.sIm[k]
		pxMean += a.px[k]
	}
	pxMean /= float32(bins)
	// Average the leakage faster when the echo estimate dominates the error.
	beta := betaMax
	if see > 0 {
		beta = min(betaMax, betaMax*syy/see)
	}
	a.bgLeak.update(a.pe, a.py, max(beta, 1e-4))
	a.farBlocks++
	if !a.adapted && a.farBlocks > max(4*a.parts, 100) {
		a.adapted = true
	}
	eta := a.bgLeak.eta
	// Bins the reference leaves empty (a reply band-limited to 4 kHz) must not get
	// huge steps: regularise with a share of the mean power and a -80 dBFS floor.
	reg := 0.05*pxMean + 1e-8*float32(a.m*a.parts)
	muG := float32(min(muMax, float64(eta)*syy/(see+1e-12)))
	for k := range bins {
		mu := float32(muInit)
		if a.adapted {
			mu = muG
		}
		g := mu / (a.px[k] + reg)
		a.gRe[k] *= g
		a.gIm[k] *= g
	}
	for k := range a.parts {
		xi := ((a.head + k) % a.parts) * bins
		wi := k * bins
		cmacConj(a.wbRe[wi:wi+bins], a.wbIm[wi:wi+bins], a.gRe, a.gIm, a.xRe[xi:xi+bins], a.xIm[xi:xi+bins])
	}
	// Keep one partition a linear (not circular) filter per block, in turn.
	// Keep the partitions linear (not circular) filters: constraining every
	// partition every block costs two FFTs each, so constrainPerBlock of them are
	// constrained in turn (the alternating MDF); the others carry a small circular
	// error in between.
	for range min(constrainPerBlock, a.parts) {
		c := a.constrainNext * bins
		a.constrainNext = (a.constrainNext + 1) % a.parts
		a.fft.Inverse(a.wbRe[c:c+bins], a.wbIm[c:c+bins], a.tbuf)
		clear(a.tbuf[n:])
		a.fft.Forward(a.tbuf, a.wbRe[c:c+bins], a.wbIm[c:c+bins])
	}
}

// suppress applies the residual echo suppressor to the foreground's output: a
// spectral gain from the estimated residual echo, overlap-added with a
// square-root Hann window.
func (a *Canceller) suppress(out []float32, see, syy float64) {
	n, m, bins := a.n, a.m, a.bins
	for i := range n {
		a.tbuf[i] = a.ePrev[i] * a.win[i]
		a.tbuf[n+i] = a.ef[i] * a.win[n+i]
	}
	a.fft.Forward(a.tbuf, a.gRe, a.gIm)
	copy(a.yPrev, a.yf)
	copy(a.ePrev, a.ef)
	for k := range bins {
		a.pe[k] = a.gRe[k]*a.gRe[k] + a.gIm[k]*a.gIm[k]
	}
	beta := betaMax
	if see > 0 {
		beta = min(betaMax, betaMax*syy/see)
	}
	if syy > farFloor*float64(n) {
		a.resLeak.update(a.pe, a.pyf, max(beta, 1e-4))
	}
	// Until the filter has converged the leakage estimator, which follows
	// how the error's power varies with the echo's, reads low: the error is
	// then mostly echo. What is measured on far-only blocks keeps it honest
	// (only then: afterwards a user's voice would push it up).
	eta := a.resLeak.eta
	if !a.adapted {
		eta = max(eta, a.linLeak())
	}
	floor := float32(math.Pow(10, a.cfg.SuppressFloorDB/20))
	var echo, resid float32
	for k := range bins {
		r := max(eta*a.pyf[k], reverbDecay*a.resR[k])
		a.resR[k] = r
		g := float32(1)
		if a.pe[k] > 0 {
			g = max(floor, 1-overSub*r/a.pe[k])
		}
		// Fall fast, rise over a few blocks: less musical noise.
		if g > a.gain[k] {
			g = a.gain[k] + 0.5*(g-a.gain[k])
		}
		a.gain[k] = g
		a.gRe[k] *= g
		a.gIm[k] *= g
		echo += a.pyf[k]
		resid += g * g * r
	}
	// Parseval over the two-block circular spectrum: mean square per sample.
	scale := 2 / float64(m) / float64(m)
	a.echo += float64(echo) * scale * float64(n)
	if !a.adapted {
		// Until the filter has adapted nothing says how much of the echo it
		// takes out: as far as a detector is told, all of it may be left.
		resid = echo
	}
	a.residual += float64(resid) * scale * float64(n)
	a.fft.Inverse(a.gRe, a.gIm, a.tbuf)
	for i := range n {
		out[i] = a.ola[i] + a.tbuf[i]*a.win[i]
		a.ola[i] = a.tbuf[n+i] * a.win[n+i]
	}
}

// bypass outputs d unchanged, through the suppressor's windows so that leaving
// and entering the bypass joins without a click.
func (a *Canceller) bypass(d, out []float32) {
	n := a.n
	copy(a.ef, d)
	clear(a.yf)
	if a.cfg.NoSuppress {
		copy(out, d)
	} else {
		// What the overlap-add gives at unit gain: the previous block, whole.
		for i := range n {
			out[i] = a.ola[i] + a.ePrev[i]*a.win[i]*a.win[i]
			a.ola[i] = d[i] * a.win[n+i] * a.win[n+i]
		}
		copy(a.ePrev, d)
		clear(a.yPrev)
		for k := range a.gain {
			a.gain[k] = 1
			a.resR[k] *= reverbDecay
		}
	}
	a.stats.DoubleTalk = false
}

// realign moves the filter to a new reference delay (in blocks), shifting its
// partitions so what it learnt of the room stays in place, and rebuilds the
// reference history at the new delay from the ring.
func (a *Canceller) realign(dref int, p int64) {
	shift := dref - a.dref
	if shift == 0 {
		return
	}
	a.dref = dref
	bins, n := a.bins, a.n
	for _, w := range [][]float32{a.wbRe, a.wbIm, a.wfRe, a.wfIm} {
		// Partition k at the new delay is partition k+shift at the old.
		if shift > 0 {
			copy(w, w[min(len(w), shift*bins):])
			clear(w[max(0, len(w)-shift*bins):])
		} else {
			s := min(len(w), -shift*bins)
			copy(w[s:], w[:len(w)-s])
			clear(w[:s])
		}
	}
	for j := range a.parts {
		start := p - int64((j+1)*n) - int64(dref*n)
		a.ring.read(a.tbuf, start-int64(n))
		e := ((a.head + j) % a.parts) * bins
		a.fft.Forward(a.tbuf, a.xRe[e:e+bins], a.xIm[e:e+bins])
	}
	clear(a.px)
	for e := range a.xPow {
		a.xPow[e] = a.xRe[e]*a.xRe[e] + a.xIm[e]*a.xIm[e]
		a.px[e%bins] += a.xPow[e]
	}
	a.ring.read(a.xPrev, p-int64(n)-int64(dref*n))
}

// linLeak is the measured share of the foreground's echo estimate left in its
// error on far-only blocks (1 before any was seen).
func (a *Canceller) linLeak() float32 {
	if a.lkY <= 0 {
		return 1
	}
	return float32(min(1, a.lkE/a.lkY))
}
