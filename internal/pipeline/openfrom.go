package pipeline

// OpenFrom makes the next opening of the gate send the audio from stream position
// pos (in samples at CaptureRate, as vad.Decision.Sample and CaptureConfig.OnFrame
// count) on, instead of the usual pre-roll: after a wake word, what follows the word,
// with everything said since, however long the engine took to open the gate. Audio
// older than the pre-roll holds (CaptureConfig.KeepMs) is gone. It may be called from
// any goroutine, and allocates nothing.
func (c *Capture) OpenFrom(pos uint64) { c.from.Store(pos) }

// opening is how many of the newest pre-roll samples a new opening sends: those
// asked for by OpenFrom when its position is still held, else the pre-roll, never
// what an earlier opening sent. Capture goroutine only.
func (c *Capture) opening() int {
	n := min(c.unsent, c.preSend)
	if from := c.from.Swap(0); from != 0 && from <= c.pos && c.pos-from <= uint64(c.pre.Len()) {
		n = min(c.unsent, int(c.pos-from))
	}
	return n
}
