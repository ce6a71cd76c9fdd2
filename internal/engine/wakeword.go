package engine

// WakeWord is a wake word the capture loop heard.
type WakeWord struct {
	Word  string  // the model's name, e.g. okay_nabu
	Score float64 // the detector's score, 0..1
}

// HandleWakeWord reports a wake word. It never blocks and does not allocate (it is
// called from the capture loop); if the engine is far behind, the word is dropped and
// counted in Status.DroppedInputs.
func (e *Engine) HandleWakeWord(w WakeWord) {
	select {
	case e.in <- input{kind: inWakeWord, wake: w}:
	default:
		e.droppedInputs.Add(1)
	}
}

// voiceWakes reports whether speech alone starts a turn (mode continuous or both,
// unless only the wake word may).
func (e *Engine) voiceWakes() bool { return e.cfg.Mode != ModePushToTalk && !e.cfg.WakeWordOnly }

// onWakeWord opens a turn that the VAD ends, as start_listening does, with the earcon,
// in every mode; while the device replies it stops the reply first, as the button
// does. Paused or already listening, the word is only reported; muted, not even that.
func (e *Engine) onWakeWord(w WakeWord) {
	if e.muted {
		return // nothing is heard: not even reported
	}
	e.publish(Event{Kind: EventWakeWord, Word: w.Word, Score: w.Score})
	if e.paused {
		e.log.Info("wake word ignored while paused", "word", w.Word)
		return
	}
	if reason := e.cannotListen(); reason != "" {
		e.earcon(CueError)
		e.log.Info("wake word ignored", "word", w.Word, "reason", reason)
		return
	}
	if e.state == StateListening || e.pending.by != 0 {
		return
	}
	why := "wake word " + w.Word
	if !e.state.live() {
		e.wakeDial(trigWord, false, why)
		return
	}
	if e.state == StateSpeaking || e.state == StateProcessing {
		e.interruptReply()
		why += " (reply interrupted)"
	}
	e.startListening(trigWord, why)
}
