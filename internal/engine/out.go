package engine

// startEchoTail keeps the echo guard up for EchoGuard after the reply stopped.
func (e *Engine) startEchoTail() {
	if e.cfg.EchoGuard <= 0 {
		e.setGuard(false)
		return
	}
	e.arm(tEchoTail, e.cfg.EchoGuard)
}

func (e *Engine) setGuard(on bool) {
	if e.guardOn == on {
		return
	}
	e.guardOn = on
	if e.cfg.VAD != nil {
		e.cfg.VAD.SetEchoGuard(on)
	}
}

func (e *Engine) setMuted(on bool, reason string) {
	if e.muted == on {
		return
	}
	if on && e.state == StateListening {
		e.abortTurn("muted", noCue)
	}
	if on && e.pending.by != 0 {
		e.cancelPending("muted", noCue)
	}
	e.muted = on
	if on {
		e.earcon(CueMuted)
	}
	e.publish(Event{Kind: EventFlags, Reason: reason})
	e.updateLED()
}

func (e *Engine) setPaused(on bool, reason string) {
	if e.paused == on {
		return
	}
	if on && e.state == StateListening {
		e.abortTurn("paused", noCue)
	}
	if on && e.pending.by != 0 {
		e.cancelPending("paused", noCue)
	}
	e.paused = on
	e.publish(Event{Kind: EventFlags, Reason: reason})
}

func (e *Engine) setState(s State, reason string) {
	if s == e.state {
		return
	}
	prev := e.state
	e.state = s
	e.stateSince = e.clock.Now()
	if s != StateConnected {
		// The window and a pending continuation belong to CONNECTED after a reply.
		e.followUp = false
		e.disarm(tFollowUp)
		e.disarm(tContinue)
	}
	if s != StateProcessing && s != StateSpeaking {
		e.announcing, e.announceSend = "", nil // the announcement is over
	}
	if e.cfg.Connector != nil {
		if s == StateConnected {
			e.arm(tHangup, e.cfg.IdleHangup)
		} else {
			e.disarm(tHangup)
		}
	}
	e.log.Info("state", "state", s.String(), "prev", prev.String(), "reason", reason)
	e.publish(Event{Kind: EventState, Prev: prev, Reason: reason})
	e.updateLED()
}

// publish stores the status snapshot, then tells the subscribers: whoever
// reads Status on an event sees the state and the counters the event reports
// (the daemon's --turns count, /v1/status and /v1/events agree at every moment).
func (e *Engine) publish(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.clock.Now()
	}
	ev.State, ev.Muted, ev.Paused, ev.FollowUp = e.state, e.muted, e.paused, e.followUp
	e.updateStatus()
	e.bus.publish(ev)
}

// publishSpeech reports a local VAD edge at the time it was decided.
func (e *Engine) publishSpeech(k EventKind, s SpeechEdge) {
	e.publish(Event{Kind: k, Source: "local", Time: s.At, Length: s.Length})
}

// noteError records an error for Status and tells the subscribers.
func (e *Engine) noteError(code, msg string) {
	e.counts.Errors++
	e.lastErr, e.lastErrAt = code+": "+msg, e.clock.Now()
	e.log.Warn("error", "code", code, "message", msg, "state", e.state.String())
	e.publish(Event{Kind: EventError, Code: code, Message: msg})
}

func (e *Engine) earcon(c Cue) {
	if e.cfg.Earcons != nil {
		e.cfg.Earcons.PlayEarcon(c)
	}
}

func (e *Engine) updateLED() {
	if e.cfg.LED == nil {
		return
	}
	p := ledFor(e.state, e.muted, e.fatal != "" || e.fault != "")
	if p == LEDConnected && e.followUp {
		p = LEDListening // the microphone is open for a follow-up
	}
	if e.ledSet && p == e.led {
		return
	}
	e.led, e.ledSet = p, true
	e.cfg.LED.SetPattern(p)
}

// ledFor is the LED pattern for a state and its flags.
func ledFor(s State, muted, fatal bool) LEDPattern {
	if fatal {
		return LEDError
	}
	switch s {
	case StateConnecting:
		return LEDConnecting
	case StateConnected:
		if muted {
			return LEDMuted
		}
		return LEDConnected
	case StateListening:
		return LEDListening
	case StateProcessing:
		return LEDProcessing
	case StateSpeaking:
		return LEDSpeaking
	case StateDisconnected:
		return LEDDisconnected
	}
	return LEDOff
}
