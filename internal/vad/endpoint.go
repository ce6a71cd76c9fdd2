package vad

import "fmt"

// EndpointerConfig sets the turn-level timing, in milliseconds of audio.
type EndpointerConfig struct {
	// FrameMs is the duration of one VAD decision (10 for VAD.Process frames).
	FrameMs int
	// MinSpeechMs of speech, with at most one non-speech frame in a row inside it, starts a
	// turn. Shorter blips (a knock, a click) do not.
	MinSpeechMs int
	// GuardedMinSpeechMs replaces MinSpeechMs while the echo guard is on
	// (SetGuarded): a barge-in over the device's own voice. 0 means MinSpeechMs.
	GuardedMinSpeechMs int
	// SilenceMs of uninterrupted non-speech ends the turn.
	SilenceMs int
}

// EndpointEvent is what one frame decision changed at turn level.
type EndpointEvent int

const (
	// EndpointNone: nothing changed.
	EndpointNone EndpointEvent = iota
	// EndpointStart: speech has lasted MinSpeechMs; the turn's audio is the last
	// OnsetFrames frames.
	EndpointStart
	// EndpointEnd: non-speech has lasted SilenceMs; the turn is over.
	EndpointEnd
)

func (e EndpointEvent) String() string {
	switch e {
	case EndpointNone:
		return "none"
	case EndpointStart:
		return "start"
	case EndpointEnd:
		return "end"
	}
	return fmt.Sprintf("EndpointEvent(%d)", int(e))
}

// Endpointer turns frame decisions into turns: onset after MinSpeechMs of speech, end after
// SilenceMs of non-speech. Time is counted in frames, so it is as deterministic as its input.
// Not safe for concurrent use; Push allocates nothing.
type Endpointer struct {
	minSpeech, silence int // in frames
	minGuarded         int // minSpeech while guarded
	guarded            bool

	inTurn  bool
	run     int // speech frames in the candidate onset (or silence frames in a turn)
	gap     int // non-speech frames in a row inside the candidate onset
	span    int // frames since the candidate onset's first speech frame
	onset   int // frames from the turn's first speech frame through the Start frame
	elapsed int // frames since the turn started
}

// NewEndpointer checks c and returns an Endpointer outside any turn.
func NewEndpointer(c EndpointerConfig) (*Endpointer, error) {
	switch {
	case c.FrameMs <= 0:
		return nil, fmt.Errorf("pipeline: endpointer frame %d ms: must be positive", c.FrameMs)
	case c.MinSpeechMs < 0 || c.MinSpeechMs > 10000:
		return nil, fmt.Errorf("pipeline: endpointer min speech %d ms: want 0..10000", c.MinSpeechMs)
	case c.GuardedMinSpeechMs < 0 || c.GuardedMinSpeechMs > 10000:
		return nil, fmt.Errorf("pipeline: endpointer guarded min speech %d ms: want 0..10000", c.GuardedMinSpeechMs)
	case c.SilenceMs <= 0 || c.SilenceMs > 60000:
		return nil, fmt.Errorf("pipeline: endpointer silence %d ms: want 1..60000", c.SilenceMs)
	}
	ceil := func(ms int) int { return max((ms+c.FrameMs-1)/c.FrameMs, 1) }
	e := &Endpointer{minSpeech: ceil(c.MinSpeechMs), silence: ceil(c.SilenceMs)}
	e.minGuarded = e.minSpeech
	if c.GuardedMinSpeechMs > 0 {
		e.minGuarded = ceil(c.GuardedMinSpeechMs)
	}
	return e, nil
}

// SetGuarded says whether the echo guard is on for the next frame pushed:
// then an onset needs GuardedMinSpeechMs of speech. What the guard lets by of
// a reply's echo comes in runs of a few syllables; a user interrupting keeps
// talking.
func (e *Endpointer) SetGuarded(on bool) { e.guarded = on }

// Push takes the next frame decision and reports a turn start or end.
func (e *Endpointer) Push(speech bool) EndpointEvent {
	if e.inTurn {
		e.elapsed++
		if speech {
			e.run = 0
			return EndpointNone
		}
		e.run++
		if e.run >= e.silence {
			e.inTurn = false
			e.run, e.gap, e.span = 0, 0, 0
			return EndpointEnd
		}
		return EndpointNone
	}
	switch {
	case speech:
		e.run++
		e.span++
		e.gap = 0
	case e.run > 0:
		// One missed frame inside an onset is tolerated; two in a row restart it.
		e.gap++
		e.span++
		if e.gap > 1 {
			e.run, e.gap, e.span = 0, 0, 0
		}
	}
	need := e.minSpeech
	if e.guarded {
		need = e.minGuarded
	}
	if e.run >= need {
		e.inTurn = true
		e.onset = e.span
		e.elapsed = 0
		e.run, e.gap, e.span = 0, 0, 0
		return EndpointStart
	}
	return EndpointNone
}

// InTurn reports whether a turn is in progress.
func (e *Endpointer) InTurn() bool { return e.inTurn }

// OnsetFrames is, after EndpointStart, the number of frames from the turn's first speech
// frame through the one that started it: the audio the pre-roll must supply.
func (e *Endpointer) OnsetFrames() int { return e.onset }

// TurnFrames is how many frames have passed since the current turn's Start event.
func (e *Endpointer) TurnFrames() int { return e.elapsed }

// Reset leaves any turn without an event.
func (e *Endpointer) Reset() {
	*e = Endpointer{minSpeech: e.minSpeech, minGuarded: e.minGuarded, silence: e.silence}
}
