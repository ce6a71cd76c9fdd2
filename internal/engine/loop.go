package engine

import (
	"fmt"
	"time"
)

// handle dispatches one input on the engine goroutine.
func (e *Engine) handle(in input) {
	switch in.kind {
	case inButton:
		e.onButton(in.button)
	case inSpeech:
		e.onSpeech(in.speech)
	case inRealtime:
		e.onRealtime(in.rt)
	case inControl:
		in.ctl.reply <- e.control(in.ctl.action)
	case inOptions:
		e.cfg.Options = *in.opts
		e.log.Info("options changed", "mode", e.cfg.Mode.String(), "turn_end", e.cfg.TurnEnd.String())
		in.ctl.reply <- nil
	case inTimer:
		if s := &e.timers[in.timer]; s.gen == in.gen {
			s.spent = true
			e.onTimer(in.timer)
		}
	case inSync:
		close(in.sync)
	case inExpectAnswer:
		e.expectAns = true
	case inAlarm:
		if in.fault != "" {
			e.startAlarm(in.fault)
		} else {
			e.stopAlarm("stopped")
		}
	case inWakeWord:
		e.onWakeWord(in.wake)
	case inAnnounce:
		in.ann.reply <- e.announce(in.ann.a)
	case inFault:
		if in.fault != e.fault {
			if in.fault != "" {
				e.log.Warn("fault", "problem", in.fault)
			} else {
				e.log.Info("fault cleared", "was", e.fault)
			}
			e.fault = in.fault
			e.updateLED()
			e.publish(Event{Kind: EventFault, Message: in.fault})
		}
	}
}

func (e *Engine) onButton(b ButtonEvent) {
	e.log.Debug("button", "event", b.String(), "state", e.state.String())
	switch b {
	case ButtonPress:
		e.pressAt = e.clock.Now()
		e.skipRel = false
		if e.alarm != "" {
			// The press is for the alarm, not a turn.
			e.skipRel = true
			e.stopAlarm("stopped by the button")
			return
		}
		if reason := e.cannotListen(); reason != "" {
			e.skipRel = true
			if e.muted {
				e.earcon(CueMuted)
			} else {
				e.earcon(CueError)
			}
			e.log.Info("button press ignored", "reason", reason)
			return
		}
		switch e.state {
		case StateIdle, StateDisconnected, StateConnecting:
			if e.pending.by != 0 {
				e.skipRel = true
				e.cancelPending("button press while connecting", CueListenEnd)
				return
			}
			e.wakeDial(trigButton, false, "button press")
		case StateConnected:
			e.startListening(trigButton, "button press")
		case StateListening:
			// The button also stops a turn it did not start (mode both).
			e.skipRel = true
			if e.turn.heard {
				e.commitTurn("button press")
			} else {
				e.abortTurn("button press before any speech", CueListenEnd)
			}
		case StateProcessing, StateSpeaking:
			e.interruptReply()
			e.startListening(trigButton, "button press (reply interrupted)")
		}
	case ButtonRelease:
		if e.skipRel {
			e.skipRel = false
			return
		}
		if e.pending.by == trigButton {
			switch {
			case e.pending.heard || e.clock.Now().Sub(e.pressAt) >= e.cfg.TapMax:
				e.pending.end = true
			case e.cfg.Mode == ModeBoth:
				e.pending.by = trigTap
			default:
				e.cancelPending("button tapped, not held", CueListenEnd)
			}
			return
		}
		if e.state != StateListening || e.turn.by != trigButton {
			return
		}
		if !e.turn.heard && e.clock.Now().Sub(e.pressAt) < e.cfg.TapMax {
			if e.cfg.Mode == ModeBoth {
				e.turn.by = trigTap // tap to talk: the VAD ends it
				return
			}
			e.abortTurn("button tapped, not held", CueListenEnd)
			return
		}
		e.commitTurn("button release")
	case ButtonLongPress:
		// Holding the button while speaking is a push-to-talk turn, however long it
		// is; only a long hold with nothing said toggles mute.
		if (e.pending.by == trigButton && e.pending.heard) ||
			(e.state == StateListening && e.turn.by == trigButton && e.turn.heard) {
			return
		}
		e.skipRel = true
		if e.pending.by == trigButton {
			e.cancelPending("long press", noCue)
		}
		if e.state == StateListening && e.turn.by == trigButton {
			e.abortTurn("long press", noCue)
		}
		e.setMuted(!e.muted, "long press")
	case ButtonDoublePress:
		e.skipRel = true
		if e.pending.by == trigButton {
			e.cancelPending("double press", noCue)
		}
		if e.state == StateListening && e.turn.by == trigButton {
			e.abortTurn("double press", noCue)
		}
		e.setPaused(!e.paused, "double press")
	}
}

func (e *Engine) onSpeech(s SpeechEdge) {
	if !s.Start {
		if e.pending.by != 0 {
			e.publishSpeech(EventSpeechEnded, s)
			if !e.pending.by.held() && e.cfg.TurnEnd == TurnEndLocal {
				e.pending.end = true
			}
			return
		}
		if e.state != StateListening {
			return
		}
		e.publishSpeech(EventSpeechEnded, s)
		switch {
		case e.turn.by.held():
		case e.cfg.TurnEnd == TurnEndLocal:
			e.commitTurn("end of speech")
		default:
			// The server decides; if it never does, the turn must not hang.
			e.arm(tServerEnd, e.cfg.ServerEndGrace)
		}
		return
	}
	switch e.state {
	case StateIdle, StateDisconnected, StateConnecting:
		if e.pending.by != 0 {
			e.pending.heard = true
			e.publishSpeech(EventSpeechStarted, s)
			return
		}
		if e.muted || e.paused || !e.voiceWakes() || !e.canDial() {
			return
		}
		e.publishSpeech(EventSpeechStarted, s)
		e.wakeDial(trigVoice, true, "voice wake")
	case StateListening:
		if !e.turn.heard {
			e.turn.heard = true
			e.disarm(tListen)
		}
		e.disarm(tServerEnd)
		e.publishSpeech(EventSpeechStarted, s)
	case StateConnected:
		if e.muted || e.paused {
			return
		}
		if e.guardOn && !e.cfg.VoiceBargeIn {
			e.counts.EchoSuppressed++
			return
		}
		if !e.voiceWakes() && !e.followUp {
			return
		}
		why := "voice wake"
		if e.followUp {
			why = "follow-up" // no wake needed: the window after a reply is open
		}
		e.publishSpeech(EventSpeechStarted, s)
		e.startListening(trigVoice, why)
		e.turn.heard = true
		e.disarm(tListen)
	case StateSpeaking, StateProcessing:
		if e.muted || e.paused {
			return
		}
		if !e.cfg.VoiceBargeIn {
			if e.state == StateSpeaking {
				e.counts.EchoSuppressed++
			}
			return
		}
		e.publishSpeech(EventSpeechStarted, s)
		e.interruptReply()
		e.startListening(trigVoice, "voice barge-in")
		e.turn.heard = true
		e.disarm(tListen)
	}
}

func (e *Engine) onRealtime(ev RealtimeEvent) {
	switch ev.Kind {
	case RealtimeConnecting:
		if e.state.live() {
			e.dropSession("reconnecting", nil)
		}
		e.fatal = ""
		e.arm(tConnect, e.cfg.ConnectTimeout)
		e.setState(StateConnecting, "connecting")
	case RealtimeConnected:
		e.disarm(tConnect)
		e.fatal = ""
		e.sessionID = ev.SessionID
		if e.state.live() {
			// A new session replaced the old one (roll-over) without a gap.
			e.log.Info("session replaced", "session", ev.SessionID, "state", e.state.String())
			e.sessionReplaced()
			return
		}
		e.liveSince = e.clock.Now()
		e.resp = response{} // a new session has no reply under way
		reason := "connected"
		if e.everLive {
			e.counts.Reconnects++
			reason = "reconnected"
		}
		e.everLive = true
		e.setState(StateConnected, reason)
		if p := e.pending; p.by != 0 {
			e.pending = pendingTurn{}
			e.resumeTurn(p)
		}
	case RealtimeDisconnected, RealtimeFatal:
		if ev.Kind == RealtimeDisconnected && e.hangingUp {
			e.hangingUp = false
			if !e.state.live() {
				return // the end of the connection the engine hung up
			}
		}
		msg := "connection lost"
		if ev.Err != nil {
			msg = ev.Err.Error()
		}
		if ev.Kind == RealtimeFatal {
			e.goFatal(msg)
			return
		}
		e.disarm(tConnect)
		if e.fatal != "" {
			return // the client gave up already; IDLE with the fatal error stays
		}
		e.dropSession("connection lost", ev.Err)
		e.setState(StateDisconnected, "connection lost: "+msg)
	case RealtimeSpeechStarted:
		if e.state == StateListening {
			if !e.turn.heard {
				e.turn.heard = true
				e.disarm(tListen)
			}
			e.publish(Event{Kind: EventSpeechStarted, Source: "server", ItemID: ev.ItemID})
		}
	case RealtimeSpeechStopped, RealtimeCommitted:
		if e.state != StateListening {
			return
		}
		if ev.Kind == RealtimeSpeechStopped {
			e.publish(Event{Kind: EventSpeechEnded, Source: "server", ItemID: ev.ItemID})
		}
		if (!e.turn.by.held() || e.cfg.ServerEndsHeld) && e.cfg.TurnEnd == TurnEndServer {
			e.endTurnByServer()
		}
	case RealtimeResponseCreated:
		e.onResponseCreated(ev)
	case RealtimeAudioStarted:
		e.onAudioStarted(ev)
	case RealtimeAudioDone:
		if ev.ItemID == e.audioItem {
			e.audioDone = true
		}
	case RealtimeTranscript:
		if ev.Role == RoleAssistant && ev.Final {
			e.replyAsks = asksQuestion(ev.Text)
		}
		e.publish(Event{Kind: EventTranscript, Role: ev.Role, Text: ev.Text, Final: ev.Final, ItemID: ev.ItemID})
	case RealtimeResponseDone:
		e.onResponseDone(ev)
	case RealtimeError:
		e.onServerError(ev)
	}
}

func (e *Engine) onResponseCreated(ev RealtimeEvent) {
	e.resp.active, e.resp.id, e.resp.cancelSent = true, ev.ResponseID, false
	if e.resp.discardNew {
		e.resp.discardNew = false
		e.cancelResponse()
		return
	}
	e.publish(Event{Kind: EventResponseStarted, ResponseID: ev.ResponseID})
	switch e.state {
	case StateConnected:
		// A reply the device did not ask for (a tool result, the server's VAD).
		e.arm(tReply, e.cfg.ReplyTimeout)
		e.setState(StateProcessing, "reply started")
	case StateListening:
		if (!e.turn.by.held() || e.cfg.ServerEndsHeld) && e.cfg.TurnEnd == TurnEndServer {
			e.endTurnByServer() // the server heard the end first
			return
		}
		// A late reply to an earlier turn: the user is talking, and if it stayed active
		// the reply to this turn would be refused.
		e.cancelResponse()
	}
}

func (e *Engine) onAudioStarted(ev RealtimeEvent) {
	if e.resp.cancelSent || e.resp.discardNew {
		e.cfg.Player.Stop() // audio of a reply already given up
		return
	}
	switch e.state {
	case StateProcessing, StateConnected:
		e.disarm(tReply)
		e.audioItem, e.audioDone, e.idleSince = ev.ItemID, false, time.Time{}
		e.disarm(tEchoTail)
		e.setGuard(true)
		e.arm(tDrain, e.cfg.DrainPoll)
		e.setState(StateSpeaking, "reply audio")
	case StateSpeaking:
		e.audioItem, e.audioDone, e.idleSince = ev.ItemID, false, time.Time{}
	case StateListening:
		// The user is talking: a reply now would talk over them.
		e.log.Info("reply audio while listening dropped", "item", ev.ItemID)
		e.cfg.Player.Stop()
		e.cancelResponse()
	default:
		e.cfg.Player.Stop()
	}
}

func (e *Engine) onResponseDone(ev RealtimeEvent) {
	given := e.resp.cancelSent
	e.resp.active, e.resp.cancelSent = false, false
	if ev.Status == "completed" {
		e.counts.Replies++
	}
	e.publish(Event{Kind: EventResponseDone, ResponseID: ev.ResponseID, Status: ev.Status})
	if given {
		return
	}
	switch e.state {
	case StateProcessing:
		e.disarm(tReply)
		if ev.Status == "failed" || ev.Status == "incomplete" {
			e.earcon(CueError)
			e.noteError("response_"+ev.Status, "the reply "+ev.Status)
		}
		e.setState(StateConnected, "reply without audio ("+ev.Status+")")
	case StateSpeaking:
		e.checkDrained()
	}
}

func (e *Engine) onServerError(ev RealtimeEvent) {
	switch ev.Code {
	case codeActiveResponse:
		// A race with the server's own response.create; the active reply answers.
		e.log.Debug("server error", "code", ev.Code, "message", ev.Message)
		return
	case codeCancelNotActive:
		// The reply ended before the cancel arrived.
		e.log.Debug("server error", "code", ev.Code, "message", ev.Message)
		e.resp.active, e.resp.cancelSent = false, false
		return
	case codeSessionExpired:
		// The client reconnects; the disconnect event follows.
		e.log.Info("session expired", "message", ev.Message)
		return
	case codeInvalidKey, codeNoQuota:
		e.goFatal(ev.Code + ": " + ev.Message)
		return
	}
	e.noteError(ev.Code, ev.Message)
	if ev.Code == codeCommitEmpty && e.state == StateProcessing {
		// Our response.create follows the failed commit: drop what it produces.
		e.disarm(tReply)
		if e.resp.active {
			e.cancelResponse()
		} else {
			e.resp.discardNew = true
		}
		e.earcon(CueError)
		e.setState(StateConnected, "nothing was heard: the turn had no audio")
	}
}

func (e *Engine) onTimer(k timerKind) {
	switch k {
	case tHeartbeat:
		e.cfg.Heartbeat()
		e.arm(tHeartbeat, e.cfg.HeartbeatInterval)
	case tListen:
		if e.state == StateListening && !e.turn.heard {
			e.counts.ListenTimeouts++
			e.abortTurn(fmt.Sprintf("no speech within %v", e.cfg.ListenTimeout), CueListenEnd)
		}
	case tServerEnd:
		if e.state == StateListening {
			e.commitTurn(fmt.Sprintf("the server did not end the turn within %v of silence", e.cfg.ServerEndGrace))
		}
	case tMaxTurn:
		if e.state == StateListening {
			e.commitTurn(fmt.Sprintf("turn reached its maximum length of %v", e.cfg.MaxTurn))
		}
	case tReply:
		if e.state == StateProcessing {
			e.counts.ReplyTimeouts++
			e.giveUpReply(e.replyWhy(fmt.Sprintf("no reply within %v", e.cfg.ReplyTimeout)))
		}
	case tDrain:
		if e.state == StateSpeaking {
			e.checkDrained()
		}
	case tEchoTail:
		e.setGuard(false)
	case tFollowUp:
		if e.followUp {
			e.closeFollowUp("nothing said in the follow-up window", CueListenEnd)
		}
	case tContinue:
		e.continueConversation()
	case tAlarm:
		e.alarmTick()
	case tHangup:
		if e.state != StateConnected {
			return
		}
		if e.resp.active {
			e.arm(tHangup, e.cfg.IdleHangup) // a reply is on its way (a tool call)
			return
		}
		e.hangingUp = true
		e.cfg.Connector.Hangup()
		e.setState(StateIdle, fmt.Sprintf("idle for %v: hung up", e.cfg.IdleHangup))
	case tConnect:
		if e.state == StateConnecting {
			e.dropPending()
			e.noteError("connect_timeout", fmt.Sprintf("no session within %v", e.cfg.ConnectTimeout))
			e.setState(StateDisconnected, "connect timed out")
		}
	}
}

// checkDrained ends SPEAKING once playback is idle and the reply is over, and gives up
// when playback has been starved for ReplyTimeout.
func (e *Engine) checkDrained() {
	if !e.cfg.Player.Idle() {
		e.idleSince = time.Time{}
		e.arm(tDrain, e.cfg.DrainPoll)
		return
	}
	if !e.resp.active || e.audioDone {
		e.disarm(tDrain)
		e.audioItem = ""
		e.startEchoTail()
		e.counts.Played++
		e.setState(StateConnected, "reply played")
		e.afterReply()
		return
	}
	now := e.clock.Now()
	if e.idleSince.IsZero() {
		e.idleSince = now
	} else if now.Sub(e.idleSince) >= e.cfg.ReplyTimeout {
		e.counts.ReplyTimeouts++
		e.audioItem = ""
		e.startEchoTail()
		e.giveUpReply(e.replyWhy(fmt.Sprintf("reply audio stalled for %v", e.cfg.ReplyTimeout)))
		return
	}
	e.arm(tDrain, e.cfg.DrainPoll)
}
