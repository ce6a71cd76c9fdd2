package aec

import (
	"math"
	"sync/atomic"
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

	w       atomic.Int64  // next position to write; slots below it are valid
	r       atomic.Int64  // reader's position; the writer never writes below it
	dropped atomic.Uint64 // samples not written because the reader stalled
	loud    atomic.Int64  // position after the last sample written that was not zero
}

func newRefRing(capacity int, keep int) *refRing {
	n := 1
	for n < capacity {
		n <<= 1
	}
	g := &refRing{buf: make([]float32, n), mask: int64(n - 1), keep: int64(keep)}
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
	if queued >= 0 && r+int64(queued) > w+jumpTolerance {
		target = r + int64(queued)
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

// advance publishes the reader's position. Reader only.
func (g *refRing) advance(pos int64) { g.r.Store(pos) }
