package realtime

import (
	"sync"
	"time"
)

// turnHold keeps the audio of the user turn under way until the server has
// begun its answer, so that a session rollover in the middle of a turn (a
// hard deadline comes whatever the user is doing) loses none of it: the new
// session gets the turn's audio again, and its commit if one was sent, before
// anything newer. Audio appended while the new session is being dialled is
// kept too. The buffer is allocated once; AppendAudio copies into it without
// allocating.
type turnHold struct {
	mu        sync.Mutex
	buf       []int16  // a ring holding the newest len(buf) samples
	n         int      // samples held, at most len(buf)
	end       int      // where the next sample goes
	committed bool     // a commit was sent for the held audio
	items     []string // user items the server made of it
	rolling   bool     // a rollover is under way: keep what comes
	rate      int      // samples per second
}

func newTurnHold(d time.Duration, rate int) *turnHold {
	return &turnHold{buf: make([]int16, max(0, int(d.Seconds()*float64(rate)))), rate: rate}
}

// add keeps pcm; after a commit, new audio is a new turn.
func (h *turnHold) add(pcm []int16) {
	if len(h.buf) == 0 {
		return
	}
	if h.committed {
		h.resetLocked()
	}
	if len(pcm) > len(h.buf) {
		pcm = pcm[len(pcm)-len(h.buf):]
	}
	for len(pcm) > 0 {
		k := copy(h.buf[h.end:], pcm)
		pcm = pcm[k:]
		h.end = (h.end + k) % len(h.buf)
		h.n = min(h.n+k, len(h.buf))
	}
}

func (h *turnHold) resetLocked() {
	h.n, h.end, h.committed = 0, 0, false
	h.items = h.items[:0]
}

// reset forgets the turn: it was cleared, or the server answers it.
func (h *turnHold) reset() {
	h.mu.Lock()
	h.resetLocked()
	h.mu.Unlock()
}

// setRolling says whether the connection being dialled replaces a session
// that rolled over; any other new connection starts with nothing held.
func (h *turnHold) setRolling(on bool) {
	h.mu.Lock()
	h.rolling = on
	if !on {
		h.resetLocked()
	}
	h.mu.Unlock()
}

func (h *turnHold) commit() {
	h.mu.Lock()
	if h.n > 0 {
		h.committed = true
	}
	h.mu.Unlock()
}

// item notes the user item a commit made.
func (h *turnHold) item(id string) {
	h.mu.Lock()
	if h.n > 0 && id != "" {
		h.items = append(h.items, id)
	}
	h.mu.Unlock()
}

// chunks calls f with the held audio, oldest first, in pieces of at most
// max samples.
func (h *turnHold) chunks(max int, f func([]int16)) {
	start := (h.end - h.n + len(h.buf)) % len(h.buf)
	for left := h.n; left > 0; {
		k := min(left, max, len(h.buf)-start)
		f(h.buf[start : start+k])
		start = (start + k) % len(h.buf)
		left -= k
	}
}
