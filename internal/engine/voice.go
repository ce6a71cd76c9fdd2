package engine

import (
	"time"

	"github.com/voiced-project/voiced/internal/vad"
)

// VoiceEdges returns a callback for CaptureConfig.OnVoice: it runs each frame decision
// through ep, the turn-level endpointer, and posts the turn's start and end to the
// engine. frame is the duration of one decision (10 ms for VAD frames). The callback
// runs on the capture goroutine: it never blocks and does not allocate.
func (e *Engine) VoiceEdges(ep *vad.Endpointer, frame time.Duration) func(vad.Decision) {
	return func(v vad.Decision) {
		ep.SetGuarded(v.Guarded)
		switch ep.Push(v.Speech) {
		case vad.EndpointStart:
			e.HandleSpeech(SpeechEdge{Start: true, At: e.clock.Now(), Length: time.Duration(ep.OnsetFrames()) * frame})
		case vad.EndpointEnd:
			e.HandleSpeech(SpeechEdge{At: e.clock.Now(), Length: time.Duration(ep.OnsetFrames()+ep.TurnFrames()) * frame})
		}
	}
}
