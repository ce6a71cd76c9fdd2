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
	// What was processed and not yet output is dropped too: after a gap it
	// would be out of place.
	for i := range a.outLen + a.inLen {
		a.out[(a.outHead+i)&(len(a.out)-1)] = 0
	}
	a.outLen += a.inLen
	a.pos += int64(a.inLen + n)
	a.inLen = 0
	a.ring.advance(a.pos)
	a.ring.took(a.pos)
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

// Idle reports that nothing but silence has been handed to Playback that the
// filter could still be reading or will read: Process would pass the
// microphone through. A capture loop can then leave its frames as they are and
// call Skip instead, which costs nothing (and takes the Latency out while idle).
// Capture side only.
func (a *Canceller) Idle() bool {
	reach := int64(a.dref+a.parts+preBlocks+1) * int64(a.n)
	return a.ring.loud.Load()+reach < a.pos
}
