package aec

import "math"

// Clock drift between the playback and capture cards makes the echo slide
// through the filter: at 100 ppm by 1.6 samples a second at 16 kHz, which an
// adaptive filter can follow at low frequencies but not at 3 kHz, where such a
// slide turns a converged filter's phase around in a few seconds. So the drift is
// measured and undone: every half second the foreground filter's impulse response
// is inspected for its main peak (to a fraction of a sample), a least-squares line
// through 16 such positions (8 s) gives how fast the echo slides, and the
// reference is then read at a rate corrected by that much, through a polyphase
// windowed-sinc interpolator. The correction is integrated (each fit measures only
// what is left), so it converges on the drift and follows slow changes.

const (
	driftTaps    = 16  // interpolator length
	driftPhases  = 64  // interpolator phases per sample
	driftPoints  = 8   // peak positions per fit
	driftEvery   = 0.5 // seconds between peak measurements
	driftMaxPPM  = 300 // correction limit
	driftMinERLE = 3   // dB: a filter that cancels less does not show a reliable peak
)

type driftComp struct {
	table    []float32 // driftPhases+1 phases × driftTaps
	rate     float64   // reference samples per microphone sample, minus 1
	phase    float64   // accumulated offset in samples (fractional read position)
	pts      [driftPoints][2]float64
	npts     int
	fits     int
	outliers int
	every    int       // blocks between measurements
	ir       []float32 // impulse response scratch
	raw      []float32 // ring read scratch
}

func newDriftComp(rate, block, parts int) *driftComp {
	d := &driftComp{table: make([]float32, (driftPhases+1)*driftTaps),
		every: max(1, int(driftEvery*float64(rate))/block),
		ir:    make([]float32, parts*block), raw: make([]float32, block+driftTaps+1)}
	for p := range driftPhases + 1 {
		frac := float64(p) / driftPhases
		var sum float64
		for k := range driftTaps {
			u := float64(k-driftTaps/2+1) - frac
			v := sincf(u*0.92) * 0.92 * (0.5 + 0.5*math.Cos(math.Pi*u/(driftTaps/2)))
			d.table[p*driftTaps+k] = float32(v)
			sum += v
		}
		for k := range driftTaps { // unity gain at DC
			d.table[p*driftTaps+k] /= float32(sum)
		}
	}
	return d
}

func sincf(t float64) float64 {
	if t == 0 {
		return 1
	}
	return math.Sin(math.Pi*t) / (math.Pi * t)
}

// read fills dst with the reference at positions from + i·(1+rate) + phase,
// interpolated, and advances the phase by len(dst)·rate.
func (d *driftComp) read(g *refRing, dst []float32, from int64) {
	if d.rate == 0 && d.phase == 0 {
		g.read(dst, from)
		return
	}
	base := math.Floor(d.phase)
	start := from + int64(base) - driftTaps/2 + 1
	span := len(dst) + driftTaps + 1
	raw := d.raw[:span]
	g.read(raw, start)
	frac := d.phase - base
	for i := range dst {
		t := frac + float64(i)*d.rate + float64(i)
		k := int(math.Floor(t))
		f := t - float64(k)
		p := int(f*driftPhases + 0.5)
		c := d.table[p*driftTaps : (p+1)*driftTaps]
		x := raw[k : k+driftTaps]
		var s float32
		for j, v := range c {
			s += v * x[j]
		}
		dst[i] = s
	}
	d.phase += float64(len(dst)) * d.rate
}

// peak returns the main peak's position (in taps, fractional) of the impulse
// response h, and its share of the response's energy.
func peak(h []float32) (float64, float64) {
	best, bi := float32(0), 0
	var total float64
	for i, v := range h {
		total += float64(v * v)
		if v*v > best {
			best, bi = v*v, i
		}
	}
	if bi == 0 || bi == len(h)-1 || total == 0 {
		return float64(bi), 0
	}
	// Parabola through the magnitudes around the maximum.
	a, b, c := math.Abs(float64(h[bi-1])), math.Abs(float64(h[bi])), math.Abs(float64(h[bi+1]))
	den := a - 2*b + c
	off := 0.0
	if den != 0 {
		off = 0.5 * (a - c) / den
	}
	return float64(bi) + off, float64(best) / total
}

// observe adds a peak position at block time t (in samples); it reports whether
// the correction changed.
func (d *driftComp) observe(t, pos float64) bool {
	// The peak may move by what the largest drift allows since the last point (it
	// moves in steps as the filter catches up) plus the measurement's jitter.
	if d.npts > 0 && math.Abs(pos-d.pts[d.npts-1][1]) > 3+2*driftMaxPPM*1e-6*(t-d.pts[d.npts-1][0]) {
		// A peak that jumps is noise (a pause, double talk) or, when it keeps
		// jumping, another path or a realignment: skip it, then start over.
		d.outliers++
		if d.outliers < 3 {
			return false
		}
		d.npts = 0
	}
	d.outliers = 0
	d.pts[d.npts] = [2]float64{t, pos}
	d.npts++
	if d.npts < driftPoints {
		return false
	}
	var st, sp, stt, stp float64
	for _, q := range d.pts {
		st += q[0]
		sp += q[1]
		stt += q[0] * q[0]
		stp += q[0] * q[1]
	}
	n := float64(driftPoints)
	den := n*stt - st*st
	d.npts = 0
	if den == 0 {
		return false
	}
	slope := (n*stp - st*sp) / den // taps per sample: the echo slides later when positive
	// A later echo means the capture clock is slow: read the reference slower.
	// The first fit takes the drift whole; later ones, which measure what is left,
	// are halved so the fits' own noise averages out.
	gain := 0.5
	if d.fits == 0 {
		gain = 1
	}
	d.fits++
	d.rate = math.Max(-driftMaxPPM*1e-6, math.Min(driftMaxPPM*1e-6, d.rate-gain*slope))
	return true
}

// reset forgets the fit (after a realignment); the correction stays.
func (d *driftComp) reset() { d.npts, d.outliers = 0, 0 }
