package aec

import (
	"math"
	"sync/atomic"
	"time"
)

// refRing carries the reference from the playback goroutine (the only writer) to
// the capture goroutine (the only reader) without a lock. Samples are indexed by
// position on the capture stream's timeline: the reader publishes the position of
// the block it is about to cancel, and the writer places what it plays at or after
// it. A writer that fell behind (the device played silence between replies) jumps
// forward and the skipped span reads as silence; one that knows how much audio the
// device still holds before its samples (ALSA's delay) places them that far ahead.
type refRing struct {
	buf  []float32 // power-of-two length
	mask int64
	keep int64 // how far behind the read position the reader may still look

	w       atomic.Int64         // next position to write; slots below it are valid
	r       atomic.Int64         // reader's position; the writer never writes below it
	now     atomic.Int64         // capture samples the reader has been handed so far
	origin  atomic.Uint64        // float64 bits: now minus since() in samples, when now was set; 0 before
	since   func() time.Duration // monotonic time since the ring was made
	perNs   float64              // samples per nanosecond
	dropped atomic.Uint64        // samples not written because the reader stalled
	loud    atomic.Int64         // position after the last sample written that was not zero

	// Writer only: the mean of (write position - where the device's delay
	// says its samples play) while playing continuously, and whether it is known.
	slack     float64
	slackSeen bool
}

func newRefRing(capacity, keep, rate int) *refRing {
	n := 1
	for n < capacity {
		n <<= 1
	}
	base := time.Now()
	g := &refRing{buf: make([]float32, n), mask: int64(n - 1), keep: int64(keep),
		since: func() time.Duration { return time.Since(base) }, perNs: float64(rate) / 1e9}
	g.loud.Store(math.MinInt64 / 2) // nothing ever played
	return g
}

// jumpTolerance is how far (in samples) the writer's position may trail where the
// device's reported delay says its samples will play before it re-anchors.
const jumpTolerance = 480

// write appends p. queued is the number of samples the device holds before p (its
// delay), or negative when unknown.
func (g *refRing) write(p []float32, queued int) {
	w := g.w.Load()
	r := g.r.Load()
	target := r
	if queued >= 0 {
		// The capture position to anchor to is where the capture side has
		// taken samples up to, not its block (that moves by up to a block with
		// how frames fall on blocks), carried on by the time since it took
		// them (or it would move by up to a frame with when this is called).
		// Either would move the echo path the canceller has learnt.
		now := g.now.Load()
		anchor := g.nowAt(now) + int64(queued)
		switch {
		case w < now && g.slackSeen:
			// The reader passed the writer: nothing was written for a while
			// (a device that plays silence by itself when it runs dry). Place
			// the audio where the device's delay says, offset as the audio
			// before it was: the echo path the canceller learnt stays where
			// it was, instead of moving by up to jumpTolerance.
			target = anchor + int64(math.Round(g.slack))
		case anchor > w+jumpTolerance:
			target = anchor
			g.slackSeen = false
		default:
			// Continuous playing: the writer's offset from where the delay
			// says its samples play, averaged over the capture loop's jitter.
			d := float64(w - anchor)
			if !g.slackSeen {
				g.slack, g.slackSeen = d, true
			}
			g.slack += (d - g.slack) / 64
		}
	}
	// A jump never reaches slots the reader may still look at.
	target = min(target, r-g.keep+int64(len(g.buf))-int64(len(p)))
	if w < target {
		// The span [w, target) was silence on the speaker.
		n := min(target-w, int64(len(g.buf)))
		for i := target - n; i < target; i++ {
			g.buf[i&g.mask] = 0
		}
		w = target
	}
	// Never overwrite what the reader may still look at.
	free := r - g.keep + int64(len(g.buf)) - w
	if free < int64(len(p)) {
		if free < 0 {
			free = 0
		}
		g.dropped.Add(uint64(int64(len(p)) - free))
		p = p[:free]
	}
	last := -1
	for i, v := range p {
		g.buf[(w+int64(i))&g.mask] = v
		if v != 0 {
			last = i
		}
	}
	if last >= 0 {
		g.loud.Store(w + int64(last) + 1)
	}
	g.w.Store(w + int64(len(p)))
}

// read fills dst with the samples at positions [from, from+len(dst)); positions not
// written (yet, or any more) read as zero. Reader only.
func (g *refRing) read(dst []float32, from int64) {
	w := g.w.Load()
	lo := w - int64(len(g.buf))
	for i := range dst {
		p := from + int64(i)
		if p >= w || p < lo || p < 0 {
			dst[i] = 0
			continue
		}
		dst[i] = g.buf[p&g.mask]
	}
}

// took publishes how many capture samples the reader has been handed. Reader only.
func (g *refRing) took(pos int64) {
	g.origin.Store(math.Float64bits(float64(pos) - float64(g.since())*g.perNs))
	g.now.Store(pos)
}

// nowAt is the capture position now, from the last one published (now) and the
// time since: at least now, and at most a second past it.
func (g *refRing) nowAt(now int64) int64 {
	ob := g.origin.Load()
	if ob == 0 {
		return now // the capture side has not started
	}
	o := math.Float64frombits(ob)
	est := int64(math.Round(o + float64(g.since())*g.perNs))
	return max(now, min(est, now+int64(g.perNs*1e9)))
}

// advance publishes the reader's position. Reader only.
func (g *refRing) advance(pos int64) { g.r.Store(pos) }
