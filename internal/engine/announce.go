package engine

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Announcement is something the device says that no user turn asked for.
type Announcement struct {
	// Name names it in the log and the events ("announcement announce_3").
	Name string
	// Send starts it, on the engine goroutine: it asks the server for the reply
	// (response.create with the words to say), or, with LocalItem set, queues the
	// audio on the player. It must not block.
	Send func() error
	// LocalItem is the item ID (LocalItemPrefix...) of the audio Send queued: all of
	// it is there, so the engine speaks at once and waits for no reply.
	LocalItem string
	// Listen opens a turn once it has played to its end (start_conversation).
	Listen bool
}

// announceReq travels to the engine goroutine and carries its own reply channel.
type announceReq struct {
	a     Announcement
	reply chan error // 1-buffered: the engine never blocks on it
}

// Announce starts a when the conversation is idle (CONNECTED). A reply asked of the
// server is awaited as the reply to a turn is: PROCESSING, then SPEAKING. If it has
// not begun within ReplyTimeout, it is given up (the error earcon, an EventError
// reply_timeout whose message starts with a.Name, counted in Status.ReplyTimeouts)
// and the engine is back in CONNECTED, so that whatever waits behind the
// announcement goes on; a reply the server sends later is cancelled. While it plays,
// an announcement stops as a reply does: the button, barge-in, interrupt.
//
// It returns a *RefusedError when the conversation is not idle (try again at the next
// CONNECTED), Send's error, ErrNotRunning or the context's error.
func (e *Engine) Announce(ctx context.Context, a Announcement) error {
	if a.Send == nil {
		return fmt.Errorf("announce %s: no Send", a.Name)
	}
	if a.LocalItem != "" && !strings.HasPrefix(a.LocalItem, LocalItemPrefix) {
		return fmt.Errorf("announce %s: local item %q does not start with %q", a.Name, a.LocalItem, LocalItemPrefix)
	}
	req := &announceReq{a: a, reply: make(chan error, 1)}
	if err := e.send(ctx, input{kind: inAnnounce, ann: req}); err != nil {
		return fmt.Errorf("announce %s: %w", a.Name, err)
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("announce %s: %w", a.Name, ctx.Err())
	case <-e.done:
		return fmt.Errorf("announce %s: %w", a.Name, ErrNotRunning)
	}
}

// announce starts an announcement on the engine goroutine.
func (e *Engine) announce(a Announcement) error {
	if e.state != StateConnected {
		return &RefusedError{Action: "announce", State: e.state, Reason: "the conversation is not idle"}
	}
	if err := a.Send(); err != nil {
		e.noteError("send", fmt.Sprintf("%s: %v", a.Name, err))
		return fmt.Errorf("announce %s: %w", a.Name, err)
	}
	e.announcing, e.announceSend = a.Name, a.Send
	e.replyAsks, e.expectAns, e.forceListen = false, a.Listen, a.Listen
	if a.LocalItem != "" {
		e.announceSend = nil // nothing to ask of a new session
		e.audioItem, e.audioDone, e.idleSince = a.LocalItem, true, time.Time{}
		e.disarm(tEchoTail)
		e.setGuard(true)
		e.arm(tDrain, e.cfg.DrainPoll)
		e.setState(StateSpeaking, a.Name)
		return nil
	}
	e.resp.discardNew = false // the reply to come is this one
	e.arm(tReply, e.cfg.ReplyTimeout)
	e.setState(StateProcessing, a.Name+": waiting for the reply")
	return nil
}

// replyWhy names the announcement, if the reply is one, in why.
func (e *Engine) replyWhy(why string) string {
	if e.announcing != "" {
		return e.announcing + ": " + why
	}
	return why
}
