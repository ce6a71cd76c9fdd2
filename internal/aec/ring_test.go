package aec

import (
	"testing"
	"time"
)

func TestRing(t *testing.T) {
	seq := func(from, n int) []float32 {
		p := make([]float32, n)
		for i := range p {
			p[i] = float32(from + i + 1)
		}
		return p
	}
	t.Run("in order", func(t *testing.T) {
		g := newTestRing(64, 8)
		g.write(seq(0, 10), -1)
		dst := make([]float32, 12)
		g.read(dst, 0)
		for i := range 10 {
			if dst[i] != float32(i+1) {
				t.Fatalf("read[%d] = %v, want %v", i, dst[i], i+1)
			}
		}
		if dst[10] != 0 || dst[11] != 0 {
			t.Errorf("read past the writer = %v, want zeros", dst[10:])
		}
	})
	t.Run("writer behind jumps to the reader", func(t *testing.T) {
		g := newTestRing(64, 8)
		g.write(seq(0, 4), -1)
		g.advance(20) // the reader went on through silence
		g.write(seq(100, 4), -1)
		dst := make([]float32, 8)
		g.read(dst, 16)
		want := []float32{0, 0, 0, 0, 101, 102, 103, 104}
		for i := range want {
			if dst[i] != want[i] {
				t.Fatalf("read(16)[%d] = %v, want %v (all %v)", i, dst[i], want[i], dst)
			}
		}
	})
	t.Run("queued places ahead", func(t *testing.T) {
		g := newTestRing(4096, 8)
		g.advance(100)
		g.took(100)
		g.write(seq(0, 4), 1000)
		dst := make([]float32, 2)
		g.read(dst, 1099)
		if dst[0] != 0 || dst[1] != 1 {
			t.Errorf("read(1099) = %v, want [0 1]", dst)
		}
	})
	t.Run("after an idle gap the offset of the audio before holds", func(t *testing.T) {
		// While playing, the writer trails where the device's delay puts its
		// samples by 300 (under jumpTolerance: left as it is). After a gap the
		// reader has passed it; the next audio goes 300 behind where the delay
		// says too, so the echo path the canceller learnt does not move.
		g := newTestRing(1<<14, 8)
		for k := range 50 {
			g.advance(int64(k * 10))
			g.took(int64(k * 10))
			g.write(seq(k*10, 10), 300)
		}
		g.advance(2000)
		g.took(2000)
		g.write(seq(5000, 4), 1000)
		dst := make([]float32, 2)
		g.read(dst, 2000+1000-300-1)
		if dst[0] != 0 || dst[1] != 5001 {
			t.Errorf("read(%d) = %v, want [0 5001]", 2000+1000-300-1, dst)
		}
	})
	t.Run("the anchor moves on with the time since the reader took", func(t *testing.T) {
		g := newRefRing(1<<14, 8, 16000)
		var clock time.Duration
		g.since = func() time.Duration { return clock }
		if got := g.nowAt(0); got != 0 {
			t.Errorf("before the reader took anything: nowAt = %d, want 0", got)
		}
		clock = time.Second
		g.took(1000)
		clock += 10 * time.Millisecond
		if got := g.nowAt(1000); got != 1160 {
			t.Errorf("10 ms after taking 1000: nowAt = %d, want 1160", got)
		}
		clock += time.Hour
		if got := g.nowAt(1000); got != 17000 {
			t.Errorf("an hour later: nowAt = %d, want 17000 (a second at most)", got)
		}
	})
	t.Run("stalled reader drops", func(t *testing.T) {
		g := newTestRing(16, 4)
		g.advance(4)
		g.write(seq(0, 40), -1)
		if got := g.dropped.Load(); got != 24 {
			t.Errorf("dropped = %d, want 24", got)
		}
	})
}

// newTestRing is a ring at 16 kHz whose clock stands still: where it places
// samples does not depend on how fast the test runs.
func newTestRing(capacity, keep int) *refRing {
	g := newRefRing(capacity, keep, 16000)
	g.since = func() time.Duration { return time.Second }
	return g
}
