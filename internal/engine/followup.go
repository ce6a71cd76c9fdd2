package engine

import (
	"strings"
	"unicode"
)

// afterReply runs when a reply has played to its end (CONNECTED): the conversation
// continues by itself when the reply asked something and Continue is on, else the
// follow-up window opens when FollowUp is set.
func (e *Engine) afterReply() {
	asks := e.replyAsks || e.expectAns
	force := e.forceListen
	e.replyAsks, e.expectAns, e.forceListen = false, false, false
	if e.muted || e.paused {
		return
	}
	if asks && (e.cfg.Continue || force) {
		// After the echo guard: the reply's own tail must not be taken for the answer.
		if e.cfg.EchoGuard > 0 {
			e.arm(tContinue, e.cfg.EchoGuard)
			return
		}
		e.continueConversation()
		return
	}
	if e.cfg.FollowUp > 0 {
		e.followUp = true
		e.arm(tFollowUp, e.cfg.EchoGuard+e.cfg.FollowUp)
		e.publish(Event{Kind: EventFlags, Reason: "follow-up window open"})
		e.updateLED()
	}
}

// continueConversation opens the turn that answers the reply's question.
func (e *Engine) continueConversation() {
	if e.state != StateConnected || e.cannotListen() != "" {
		return
	}
	e.startListening(trigContinue, "continue conversation: the reply asked a question")
}

// closeFollowUp ends the follow-up window, with cue when it closes by itself.
func (e *Engine) closeFollowUp(reason string, cue Cue) {
	if !e.followUp {
		return
	}
	e.followUp = false
	e.disarm(tFollowUp)
	if cue != noCue {
		e.earcon(cue)
	}
	if reason != "" {
		e.publish(Event{Kind: EventFlags, Reason: reason})
	}
	e.updateLED()
}

// asksQuestion reports whether an assistant transcript ends with a question mark
// (also the fullwidth and Arabic ones), closing quotes and brackets aside.
func asksQuestion(text string) bool {
	t := strings.TrimRightFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`"'»”’)]`, r)
	})
	return strings.HasSuffix(t, "?") || strings.HasSuffix(t, "？") || strings.HasSuffix(t, "؟")
}

// sessionReplaced carries a reply across a rollover. The old session ended, so its
// reply will never be done: what already arrived plays out (SPEAKING ends when the
// player is idle), and a reply asked for but not begun is asked of the new session,
// which holds the replayed history. A turn being listened to goes on in the new
// session.
func (e *Engine) sessionReplaced() {
	active := e.resp.active && !e.resp.cancelSent
	e.resp = response{}
	switch e.state {
	case StateSpeaking:
		if active {
			e.audioDone = true
		}
	case StateProcessing:
		// An announcement is asked for again as it was; a turn's reply plainly.
		send, op := e.cfg.Conn.CreateResponse, "create response after a session rollover"
		if e.announceSend != nil {
			send, op = e.announceSend, e.announcing+" again after a session rollover"
		}
		if err := send(); err != nil {
			e.sendFailed(op, err)
			return
		}
		e.arm(tReply, e.cfg.ReplyTimeout)
	}
}
