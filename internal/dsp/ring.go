package dsp

import (
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
)

// RingPolicy says what a full Ring does with new samples.
type RingPolicy int

const (
	// RingOverwrite drops the oldest queued samples to make room, so the
	// ring always holds the newest audio (capture, uplink).
	RingOverwrite RingPolicy = iota
	// RingReject keeps the queued samples and drops the new ones that do
	// not fit (playback: a reply is played in order or not at all).
	RingReject
)

// ringBusy marks the read index while the consumer copies samples out, so
// the producer never overwrites slots that are being read.
const ringBusy = uint64(1) << 63

// Ring is a preallocated single-producer single-consumer queue of int16
// samples. One goroutine may call Write, one other goroutine may call Read
// and Discard; Len, Cap and Dropped may be called from anywhere. Neither
// side ever blocks or allocates.
//
// Indices are free-running 64-bit counters (atomic.Uint64, safe on 32-bit
// ARM) that are reduced modulo the power-of-two capacity. The consumer
// marks the read index busy while it copies; a producer that would have to
// overwrite busy slots drops its new samples instead, so a torn read is
// impossible and the race detector sees a proper happens-before edge.
type Ring struct {
	buf    []int16
	mask   uint64
	policy RingPolicy
	ready  chan struct{} // coalesced "samples were written"

	readEnd uint64 // consumer only: position after the last Read

	_       [64]byte // keep the indices on separate cache lines
	w       atomic.Uint64
	_       [56]byte
	r       atomic.Uint64 // read index, ringBusy bit set during a read
	_       [56]byte
	dropped atomic.Uint64
}

// NewRing returns a ring holding at least capacity samples (rounded up to
// a power of two).
func NewRing(capacity int, policy RingPolicy) (*Ring, error) {
	if capacity < 1 || capacity > 1<<30 {
		return nil, fmt.Errorf("new ring: capacity %d out of range [1, %d]", capacity, 1<<30)
	}
	if policy != RingOverwrite && policy != RingReject {
		return nil, fmt.Errorf("new ring: unknown policy %d", policy)
	}
	n := 1
	for n < capacity {
		n <<= 1
	}
	return &Ring{buf: make([]int16, n), mask: uint64(n - 1), policy: policy, ready: make(chan struct{}, 1)}, nil
}

// Cap is the number of samples the ring holds when full.
func (q *Ring) Cap() int { return len(q.buf) }

// Len is the number of samples queued. Seen from a third goroutine it is
// a snapshot that may already be stale.
func (q *Ring) Len() int {
	w := q.w.Load()
	r := q.r.Load() &^ ringBusy
	if w < r { // read moved past a stale w: empty
		return 0
	}
	return int(min(w-r, uint64(len(q.buf))))
}

// Dropped counts the samples lost so far: overwritten (RingOverwrite) or
// refused (RingReject, or RingOverwrite while the consumer was reading the
// oldest samples).
func (q *Ring) Dropped() uint64 { return q.dropped.Load() }

// Write queues p and returns how many samples were queued; the rest were
// dropped and counted. Only the producer goroutine may call Write.
func (q *Ring) Write(p []int16) int {
	size := uint64(len(q.buf))
	if q.policy == RingOverwrite && uint64(len(p)) > size {
		// More than fits at all: only the newest samples can survive.
		drop := uint64(len(p)) - size
		q.dropped.Add(drop)
		p = p[drop:]
	}
	w := q.w.Load()
	n := uint64(len(p))
	for {
		r := q.r.Load()
		free := size - (w - (r &^ ringBusy))
		if n <= free {
			break
		}
		if q.policy == RingReject || r&ringBusy != 0 {
			// Refuse what does not fit; with RingOverwrite this only
			// happens while the consumer is copying the oldest samples.
			q.dropped.Add(n - free)
			n = free
			break
		}
		need := n - free
		if q.r.CompareAndSwap(r, r+need) {
			q.dropped.Add(need)
			break
		}
		// The consumer moved the read index meanwhile; look again.
	}
	start := w & q.mask
	first := min(n, size-start)
	copy(q.buf[start:start+first], p[:first])
	copy(q.buf[:n-first], p[first:n])
	q.w.Store(w + n)
	if n > 0 {
		select {
		case q.ready <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
	return int(n)
}

// Ready delivers a value after Write has queued samples, so that the
// consumer can sleep while the ring is empty. Several writes may share one
// value; check Len after waking.
func (q *Ring) Ready() <-chan struct{} { return q.ready }

// Read moves up to len(p) of the oldest samples into p and returns the
// count. Only the consumer goroutine may call Read.
func (q *Ring) Read(p []int16) int {
	r := q.lockRead()
	w := q.w.Load()
	n := min(uint64(len(p)), w-r)
	size := uint64(len(q.buf))
	start := r & q.mask
	first := min(n, size-start)
	copy(p[:first], q.buf[start:start+first])
	copy(p[first:n], q.buf[:n-first])
	q.r.Store(r + n)
	q.readEnd = r + n
	return int(n)
}

// ReadEnd is the stream position (see Written) just past the samples the last Read
// returned. Only the consumer goroutine may call it.
func (q *Ring) ReadEnd() uint64 { return q.readEnd }

// Discard drops everything queued and returns how many samples that was.
// Dropping on purpose is not counted in Dropped. Only the consumer
// goroutine may call Discard.
func (q *Ring) Discard() int { return q.DiscardTo(math.MaxUint64) }

// DiscardTo drops the queued samples that were written before write
// position pos (see Written), keeping any written after it, and returns
// how many it dropped. Only the consumer goroutine may call DiscardTo.
func (q *Ring) DiscardTo(pos uint64) int {
	r := q.lockRead()
	target := min(pos, q.w.Load())
	if target < r {
		target = r
	}
	q.r.Store(target)
	return int(target - r)
}

// Written is the write position: the number of samples queued since the
// ring was made.
func (q *Ring) Written() uint64 { return q.w.Load() }

// lockRead sets the busy bit on the read index and returns the index. The
// producer only moves the read index with a compare-and-swap while the bit
// is clear, so the loop ends as soon as the producer is between writes; it
// cannot spin for long because the producer never waits.
func (q *Ring) lockRead() uint64 {
	for i := 0; ; i++ {
		r := q.r.Load()
		if q.r.CompareAndSwap(r, r|ringBusy) {
			return r
		}
		if i > 16 {
			runtime.Gosched()
		}
	}
}
