package dsp

import "fmt"

// DefaultPreRollMs is how much audio before the gate opens is sent along,
// so that the first syllable, which triggered the wake, is not lost.
const DefaultPreRollMs = 300

// PreRoll always holds the newest samples written to it, up to its size.
// It belongs to one goroutine (the capture loop) and is not safe for
// concurrent use; it never allocates after NewPreRoll.
type PreRoll struct {
	buf  []int16
	head int // index of the next write
	n    int // valid samples, at most len(buf)
}

// NewPreRoll returns a pre-roll buffer holding ms milliseconds at rate Hz.
func NewPreRoll(ms, rate int) (*PreRoll, error) {
	if ms < 0 || ms > 10000 {
		return nil, fmt.Errorf("new pre-roll: %d ms out of range [0, 10000]", ms)
	}
	if rate <= 0 {
		return nil, fmt.Errorf("new pre-roll: rate %d Hz", rate)
	}
	return NewPreRollSamples(ms * rate / 1000), nil
}

// NewPreRollSamples returns a pre-roll buffer holding n samples, at any rate.
func NewPreRollSamples(n int) *PreRoll { return &PreRoll{buf: make([]int16, max(n, 0))} }

// Cap is the number of samples held when full.
func (p *PreRoll) Cap() int { return len(p.buf) }

// Len is the number of samples held.
func (p *PreRoll) Len() int { return p.n }

// Reset forgets everything held.
func (p *PreRoll) Reset() { p.head, p.n = 0, 0 }

// Write appends s, forgetting the oldest samples beyond the capacity.
func (p *PreRoll) Write(s []int16) {
	size := len(p.buf)
	if size == 0 {
		return
	}
	if len(s) >= size {
		copy(p.buf, s[len(s)-size:])
		p.head, p.n = 0, size
		return
	}
	k := copy(p.buf[p.head:], s)
	copy(p.buf, s[k:])
	p.head = (p.head + len(s)) % size
	p.n = min(size, p.n+len(s))
}

// WriteTo writes the newest n held samples (all if n exceeds Len),
// oldest first, to q and returns how many q accepted. The pre-roll keeps
// its contents.
func (p *PreRoll) WriteTo(q *Ring, n int) int {
	n = min(n, p.n)
	if n <= 0 {
		return 0
	}
	start := (p.head - n + len(p.buf)) % len(p.buf)
	if start+n <= len(p.buf) {
		return q.Write(p.buf[start : start+n])
	}
	k := q.Write(p.buf[start:])
	return k + q.Write(p.buf[:n-(len(p.buf)-start)])
}

// Read copies the held samples, oldest first, into dst and returns the
// count (at most len(dst), the oldest ones first).
func (p *PreRoll) Read(dst []int16) int {
	start := (p.head - p.n + len(p.buf)) % max(len(p.buf), 1)
	n := min(len(dst), p.n)
	k := copy(dst[:n], p.buf[start:min(start+n, len(p.buf))])
	copy(dst[k:n], p.buf)
	return n
}
