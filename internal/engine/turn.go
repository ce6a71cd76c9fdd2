package engine

import (
	"fmt"
	"strings"
)

// giveUpReply abandons the pending reply and returns to CONNECTED with an error earcon.
func (e *Engine) giveUpReply(why string) {
	e.disarm(tReply)
	e.disarm(tDrain)
	if e.resp.active {
		e.cancelResponse()
	} else {
		e.resp.discardNew = true
	}
	e.replyAsks, e.expectAns, e.forceListen = false, false, false // no reply, no question
	e.noteError("reply_timeout", why)
	e.earcon(CueError)
	e.setState(StateConnected, why)
}

// startListening opens a turn. The caller has checked that it may.
func (e *Engine) startListening(by trigger, reason string) {
	e.resp.discardNew = false
	if err := e.cfg.Conn.ClearAudio(); err != nil {
		e.noteError("send", fmt.Sprintf("clear input audio: %v", err))
		e.earcon(CueError)
		e.setState(StateConnected, "could not start listening")
		return
	}
	// The echo is gone once the reply stopped; a raised threshold would miss the user.
	e.disarm(tEchoTail)
	e.setGuard(false)
	e.closeFollowUp("", noCue)
	e.disarm(tContinue)
	e.replyAsks, e.expectAns, e.forceListen = false, false, false
	e.turn = turn{by: by}
	e.cfg.Gate.SetStreaming(true)
	e.arm(tListen, e.cfg.ListenTimeout)
	e.arm(tMaxTurn, e.cfg.MaxTurn)
	if by != trigVoice {
		e.earcon(CueListenStart)
	}
	e.setState(StateListening, reason)
}

// wakeDial starts a turn while the connection is not up: the gate opens now (the
// audio path buffers) and the turn goes on when the session is.
func (e *Engine) wakeDial(by trigger, heard bool, reason string) {
	e.pending = pendingTurn{by: by, heard: heard}
	e.cfg.Gate.SetStreaming(true)
	if by != trigVoice {
		e.earcon(CueListenStart)
	}
	if e.state == StateConnecting {
		return // already on its way
	}
	e.hangingUp = false
	e.cfg.Connector.Dial()
	e.arm(tConnect, e.cfg.ConnectTimeout)
	e.setState(StateConnecting, reason+": connecting")
}

// resumeTurn continues a turn that started while connecting. The input buffer is
// fresh, so it is not cleared: it holds the audio buffered meanwhile.
func (e *Engine) resumeTurn(p pendingTurn) {
	e.turn = turn{by: p.by, heard: p.heard}
	if !p.heard {
		e.arm(tListen, e.cfg.ListenTimeout)
	}
	e.arm(tMaxTurn, e.cfg.MaxTurn)
	e.setState(StateListening, "connected: the turn goes on")
	if p.end {
		e.commitTurn("turn ended while connecting")
	}
}

// cancelPending drops a turn that waits for the connection; the connection goes on.
func (e *Engine) cancelPending(reason string, cue Cue) {
	e.pending = pendingTurn{}
	e.cfg.Gate.SetStreaming(false)
	if cue != noCue {
		e.earcon(cue)
	}
	e.log.Info("turn dropped while connecting", "reason", reason)
}

// dropPending drops a waiting turn because the connection failed.
func (e *Engine) dropPending() {
	if e.pending.by == 0 {
		return
	}
	e.pending = pendingTurn{}
	e.cfg.Gate.SetStreaming(false)
	e.earcon(CueError)
	e.noteError("disconnected", "could not connect: the turn was dropped")
}

// closeTurn stops the audio flow and the turn's timers.
func (e *Engine) closeTurn() {
	e.cfg.Gate.SetStreaming(false)
	e.disarm(tListen)
	e.disarm(tMaxTurn)
	e.disarm(tServerEnd)
}

// commitTurn sends the turn and asks for the reply.
func (e *Engine) commitTurn(reason string) {
	e.closeTurn()
	e.counts.Turns++
	if err := e.cfg.Conn.CommitAudio(); err != nil {
		e.sendFailed("commit input audio", err)
		return
	}
	if err := e.cfg.Conn.CreateResponse(); err != nil {
		e.sendFailed("create response", err)
		return
	}
	e.earcon(CueListenEnd)
	e.arm(tReply, e.cfg.ReplyTimeout)
	e.setState(StateProcessing, reason)
}

// endTurnByServer follows the server's VAD: it committed and replies by itself.
func (e *Engine) endTurnByServer() {
	e.closeTurn()
	e.counts.Turns++
	e.earcon(CueListenEnd)
	e.arm(tReply, e.cfg.ReplyTimeout)
	e.setState(StateProcessing, "end of speech (server)")
}

// noCue asks abortTurn for silence.
const noCue Cue = -1

// abortTurn drops the turn's audio and returns to CONNECTED with an earcon.
func (e *Engine) abortTurn(reason string, cue Cue) {
	e.closeTurn()
	if err := e.cfg.Conn.ClearAudio(); err != nil {
		e.log.Info("clear input audio", "err", err)
	}
	if cue != noCue {
		e.earcon(cue)
	}
	e.setState(StateConnected, reason)
}

func (e *Engine) sendFailed(op string, err error) {
	e.noteError("send", fmt.Sprintf("%s: %v", op, err))
	e.earcon(CueError)
	e.setState(StateConnected, op+" failed")
}

// interruptReply is barge-in: silence playback, cancel the reply unless the server
// finished it, and truncate the assistant item to what the user heard.
func (e *Engine) interruptReply() {
	e.cfg.Player.Stop()
	if e.resp.active {
		e.cancelResponse()
	} else if e.state == StateProcessing {
		e.resp.discardNew = true
	}
	if e.audioItem != "" && !strings.HasPrefix(e.audioItem, LocalItemPrefix) {
		// Heard after Stop: nothing more can be played.
		if ms := e.cfg.Player.Heard(); ms > 0 {
			if err := e.cfg.Conn.TruncateItem(e.audioItem, 0, ms); err != nil {
				e.noteError("send", fmt.Sprintf("truncate item %s: %v", e.audioItem, err))
			}
		}
	}
	e.audioItem, e.audioDone = "", false
	e.replyAsks, e.expectAns, e.forceListen = false, false, false // an interrupted question is not one
	e.disarm(tReply)
	e.disarm(tDrain)
	e.disarm(tEchoTail)
	e.setGuard(false)
	e.counts.Interrupts++
}

func (e *Engine) cancelResponse() {
	if !e.resp.active || e.resp.cancelSent {
		return
	}
	e.resp.cancelSent = true
	if err := e.cfg.Conn.CancelResponse(); err != nil {
		e.noteError("send", fmt.Sprintf("cancel response %s: %v", e.resp.id, err))
	}
}

// dropSession forgets the turn and the reply of a session that is gone, and says so
// (an error event) when why is not empty.
func (e *Engine) dropSession(why string, err error) {
	was := e.state
	if e.pending.by != 0 {
		e.dropPending()
	} else {
		e.closeTurn()
	}
	e.cfg.Player.Stop()
	e.disarm(tReply)
	e.disarm(tDrain)
	e.disarm(tEchoTail)
	e.setGuard(false)
	e.resp = response{}
	e.audioItem, e.audioDone = "", false
	e.skipRel = true
	if was.live() && why != "" {
		msg := why
		if err != nil {
			msg = fmt.Sprintf("%s: %v", why, err)
		}
		if was != StateConnected {
			msg += " (" + was.String() + " turn dropped)"
		}
		e.noteError("disconnected", msg)
	}
}

func (e *Engine) goFatal(msg string) {
	e.disarm(tConnect)
	e.dropSession("", nil)
	e.fatal = msg
	e.noteError("fatal", msg)
	e.setState(StateIdle, "gave up: "+msg)
	e.updateLED() // the fatal pattern, even when the state did not change
}
