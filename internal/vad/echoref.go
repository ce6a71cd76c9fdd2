package vad

import "math"

// The echo guard's floor from the far-end reference. Without it the floor is a
// peak follower of the microphone, which cannot tell the device's voice from a
// user speaking over it and so rises with the user within a few frames. With
// the level of what the device plays (NoteReference), the echo's level in each
// band is the reference's level plus a coupling learnt per band (speaker, room
// and microphone gain): the floor follows what is played, and a user louder
// than the echo stays above it.
//
// The coupling is learnt only while the far end is active, and only from frames
// consistent with echo: not from a frame the detector called speech (unless that
// has lasted refStuckFrames, which a user interrupting does not), nor from one
// whose bands stand on average more than refGate above their estimate (double
// talk). Then each band's coupling steps up a little when the band is above it
// and down a little less when below, settling on an upper quantile of the echo's
// level. The first refLearnFrames far-active frames learn freely and fast,
// because until the echo has been heard the estimate means nothing.
const (
	refActive      = -6.0 // log10 mean square above which the far end is active (-60 dBFS)
	refHoldFrames  = 30   // the reference's peak is held this long (its echo arrives later)
	refFall        = 0.02 // then falls this much per frame (log10: 20 dB/s), like the room's tail
	refGate        = 0.3  // mean log10 excess over the estimate beyond which a frame is double talk
	refRise        = 0.3  // share of the gap closed per frame while learning freely
	refUp          = 0.01 // log10 steps of the quantile tracker afterwards
	refDown        = 0.003
	refLearnFrames = 100
	refStuckFrames = 300
	refSilent      = -12.0
	// refMargin is how far under the learnt estimate the floor sits: the estimate
	// is an upper quantile of the echo against a held peak of the reference, so
	// it overshoots the echo's troughs; 6 dB under it the synthetic room of
	// echoref_test.go flags no echo-only frame and hears 0.85 of a user 9 dB over it.
	refMargin = 0.6
	// refResidualMargin is how far under a canceller's residual estimate
	// (NoteResidual) the floor sits: its estimate leans high, the suppressor
	// having taken its share out already.
	refResidualMargin = 0.3
)

// NoteReference reports the mean square (full scale 1) of audio the device has
// just handed to its speaker. The playback loop calls it once per period; any
// goroutine may, and it never blocks or allocates. Frames processed after it
// measure the echo guard's floor against that level (see SetEchoGuard).
func (v *Detector) NoteReference(meanSquare float64) {
	if !(meanSquare > 0) {
		return
	}
	for {
		old := v.refIn.Load()
		if meanSquare <= math.Float64frombits(old) || v.refIn.CompareAndSwap(old, math.Float64bits(meanSquare)) {
			return
		}
	}
}

// NoteResidual reports the echo canceller's estimate of the echo left in the
// frame about to be processed, as a mean square (full scale 1). It is the echo
// guard's only input when the frames come from a canceller: once it has been
// called the guard no longer expects NoteReference. The floor then follows the
// residual, which needs no hold (it is measured in the frame itself, not ahead
// of it), and Neural judges such frames by the network alone, at raised
// thresholds (see NeuralEchoOn). Call it from the goroutine that calls Process,
// before Process; it never allocates.
func (v *Detector) NoteResidual(meanSquare float64) {
	v.ref.cancelled = true
	v.ref.residual = max(meanSquare, 0)
	if meanSquare > 0 {
		v.NoteReference(meanSquare)
	}
}

// refState is the capture goroutine's view of the reference.
type refState struct {
	seen bool // a reference level has been noted: the floor follows it
	// cancelled: the level is a canceller's residual (NoteResidual), aligned
	// with the frame, so the peak is not held; residual is the last one noted.
	cancelled bool
	residual  float64
	peak      float64 // held peak of the reference level, log10 mean square
	hold      int
	active    bool              // the far end is active in this frame
	learned   int               // far-active frames learnt from
	learn     bool              // this frame may teach the coupling
	flagged   int               // far-active frames in a row the detector called speech
	gap       [vadBands]float64 // band level over the reference peak this frame
	couple    [vadBands]float64
	est       [vadBands]float64 // echo level per band this frame, log10
	estLin    [vadBands]float64
	binBand   []uint8 // the band each pitch-path bin takes its estimate from
}

func (r *refState) reset() {
	r.peak, r.hold, r.learned, r.active = refSilent, 0, 0, false
	clear(r.couple[:])
}

// refFrame takes the reference noted since the last frame into the held peak.
func (v *Detector) refFrame() {
	r := &v.ref
	x := math.Float64frombits(v.refIn.Swap(0))
	if x > 0 {
		r.seen = true
		if l := math.Log10(x); l >= r.peak {
			r.peak, r.hold = l, refHoldFrames
		}
	}
	if r.cancelled {
		r.peak, r.hold = refSilent, 0
		if x > 0 {
			r.peak = max(math.Log10(x), refSilent)
		}
	} else if r.hold > 0 {
		r.hold--
	} else {
		r.peak = max(r.peak-refFall, refSilent)
	}
	r.active = r.peak > refActive
	if r.active && v.out {
		r.flagged++
	} else {
		r.flagged = 0
	}
	r.learn = r.active && (r.learned < refLearnFrames || !v.out || r.flagged > refStuckFrames)
}

// refFloor is the echo floor of band b from the reference, given the band's
// smoothed level ls (log10).
func (v *Detector) refFloor(b int, noise, ls float64) float64 {
	r := &v.ref
	r.gap[b] = ls - r.peak
	e := r.couple[b] + r.peak
	if r.cancelled {
		// The canceller's residual, a mean square, taken as spread evenly: it
		// is measured in this very frame and needs no coupling learnt.
		r.est[b] = max(noise, r.peak-refResidualMargin)
		r.estLin[b] = math.Pow(10, r.est[b])
		return r.est[b]
	}
	if r.learned == 0 && r.active {
		e = ls // nothing learnt yet: the echo is assumed to be all there is
	}
	r.est[b] = max(noise, e-refMargin)
	r.estLin[b] = math.Pow(10, r.est[b])
	return r.est[b]
}

// refLearn updates the couplings from the frame's bands, if it is consistent
// with echo.
func (v *Detector) refLearn() {
	r := &v.ref
	if !r.learn || r.cancelled {
		return
	}
	if r.learned < refLearnFrames {
		for b, g := range r.gap {
			c := &r.couple[b]
			switch {
			case r.learned == 0:
				*c = g
			case g > *c:
				*c += refRise * (g - *c)
			default:
				*c -= min(refDown, *c-g)
			}
		}
		r.learned++
		return
	}
	var excess float64
	for b, g := range r.gap {
		excess += g - r.couple[b]
	}
	if excess/vadBands > refGate {
		return
	}
	for b, g := range r.gap {
		if g > r.couple[b] {
			r.couple[b] += refUp
		} else {
			r.couple[b] -= refDown
		}
	}
}

// refFloorLin is the echo floor of a pitch-path bin: its band's estimate.
func (v *Detector) refFloorLin(k int, noise float64) float64 {
	return max(noise, v.ref.estLin[v.ref.binBand[k]])
}

// initRef maps the pitch path's bins to bands.
func (v *Detector) initRef() {
	v.ref.binBand = make([]uint8, len(v.binP))
	for k := range v.ref.binBand {
		b := 0
		for b < vadBands-1 && k >= v.bandHi[b] {
			b++
		}
		v.ref.binBand[k] = uint8(b)
	}
	v.ref.reset()
}

func (v *Detector) echoFloor(e *float64, noise, level float64) float64 {
	if !v.echoLive {
		*e = noise + vadEchoSeed
	}
	floor := max(noise, *e)
	if level > *e {
		*e += vadEchoRise * (level - *e)
	} else {
		*e = max(*e-vadEchoFall, noise)
	}
	return floor
}

// echoFloorLin is echoFloor on linear powers.
func (v *Detector) echoFloorLin(e *float64, noise, level float64) float64 {
	if !v.echoLive {
		*e = noise * math.Pow(10, vadEchoSeed)
	}
	floor := max(noise, *e)
	if level > *e {
		*e += vadEchoRise * (level - *e)
	} else {
		*e = max(*e*vadEchoFallLin, noise) // never below the noise: no denormals in long replies
	}
	return floor
}

var vadEchoFallLin = math.Pow(10, -vadEchoFall)
