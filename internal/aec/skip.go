package aec

// Skip moves the capture side past n microphone samples that were not
// processed (a capture loop that slept between push-to-talk turns): the
// reference is read at the right position again from the next Process, and what
// the filter learnt of the room stays. The partial block held is dropped and its
// place in the output filled with silence, so the output keeps its Latency.
// Capture side only; it does not allocate.
func (a *Canceller) Skip(n int) {
	if n <= 0 {
		return
	}
	for i := range a.inLen {
		a.out[(a.outHead+a.outLen+i)&(len(a.out)-1)] = 0
	}
	a.outLen += a.inLen
	a.pos += int64(a.inLen + n)
	a.inLen = 0
	a.ring.advance(a.pos)
	// The reference history belongs to the old position: let the bypass's count
	// start over so the filter does not subtract an echo of stale reference.
	clear(a.xRe)
	clear(a.xIm)
	clear(a.xPow)
	clear(a.px)
	a.xPrevSilent = true
}

// Residual is Stats().Residual: the mean square of the echo estimated to be left
// in the last frame's output. Capture side only.
func (a *Canceller) Residual() float32 { return a.stats.Residual }
