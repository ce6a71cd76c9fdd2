package realtime

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// or defaultRetryAfter, at most maxRetryAfter.
const (
	defaultRetryAfter = 10 * time.Second
	maxRetryAfter     = 5 * time.Minute
)

// retryAfterError is a refusal that says when to come back.
type retryAfterError struct {
	err  error
	wait time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// minSkew is the smallest clock difference worth correcting.
const minSkew = 5 * time.Second

// maxSessionLife bounds a believable session; anything else means a
// clock is wrong.
const maxSessionLife = 24 * time.Hour

// localExpiry converts the server's expires_at to our clock. A missing or
// unbelievable value gives the profile's documented limit from the start
// of the connection, so a wrong clock cannot cause a rollover storm.
func (c *Client) localExpiry(st *readState, expiresAt int64) time.Time {
	if expiresAt <= 0 {
		return time.Time{}
	}
	exp := time.Unix(expiresAt, 0).Add(-st.skew)
	if life := exp.Sub(c.clock.Now()); life <= 0 || life > maxSessionLife {
		exp = st.start.Add(c.opts.Profile.Defaults().SessionMax)
		c.log.Warn("realtime expires_at is not believable; is the clock set?", "expires_at", expiresAt, "assumed", exp)
	}
	return exp
}

// handle dispatches one message; a non-nil error ends the connection.
func (c *Client) handle(ctx context.Context, msg []byte, st *readState) error {
	if d, ok := scanAudioDelta(msg); ok {
		pcm, b64, buf, err := decodePCM(d.delta, c.b64, c.pcm)
		c.b64, c.pcm = b64, buf
		if err != nil {
			c.badMessage(ctx, err)
			return nil
		}
		if string(d.itemID) != c.lastItem { // the comparison does not allocate
			c.lastItem = string(d.itemID)
			c.mu.Lock()
			c.hist.audio(c.lastItem)
			c.mu.Unlock()
		}
		c.audioReceived.Add(uint64(len(pcm)))
		if c.opts.Audio != nil {
			c.opts.Audio(c.lastItem, pcm)
			return nil
		}
		c.emit(ctx, &AudioDelta{Header: Header{Type: typeOutputAudioDeltaGA}, ItemID: c.lastItem, PCM: slices.Clone(pcm)})
		return nil
	}
	ev, err := DecodeEvent(msg)
	if err != nil {
		if len(msg) > 64 {
			msg = msg[:64]
		}
		c.badMessage(ctx, fmt.Errorf("realtime: message %q: %w", msg, err))
		return nil
	}
	switch e := ev.(type) {
	case *Unknown:
		c.unknown.Add(1)
		c.log.Debug("realtime unknown event", "type", e.Type)
		return nil
	case *AudioDelta: // escaped JSON the fast path left alone
		pcm, _, _, err := decodePCM([]byte(e.Delta), nil, nil)
		if err != nil {
			c.badMessage(ctx, err)
			return nil
		}
		c.mu.Lock()
		c.hist.audio(e.ItemID)
		c.mu.Unlock()
		c.audioReceived.Add(uint64(len(pcm)))
		if c.opts.Audio != nil {
			c.opts.Audio(e.ItemID, pcm)
			return nil
		}
		e.PCM = pcm
	case *SessionCreated:
		c.emit(ctx, ev)
		exp := c.localExpiry(st, e.Session.ExpiresAt)
		select {
		case st.sessions <- exp:
		default:
		}
		c.log.Info("realtime connected", "session", e.Session.ID, "expires_at", exp, "rollover", st.rollover)
		c.emit(ctx, &Connected{SessionID: e.Session.ID, Model: e.Session.Model, ExpiresAt: exp,
			Rollover: st.rollover, Replayed: st.replayed})
		return nil
	case *ServerError:
		if e.Error.Code == CodeSessionExpired {
			c.hold.setRolling(true)
			return errRollover
		}
		c.emit(ctx, ev)
		if e.Error.Fatal() {
			return &FatalError{Code: e.Error.Code, Message: e.Error.Message}
		}
		return nil
	case *ResponseCreated:
		c.hold.reset() // the server has the turn and answers it
		c.mu.Lock()
		c.activeResp = e.Response.ID
		c.mu.Unlock()
	case *ResponseDone:
		c.emit(ctx, ev)
		c.responseDone(&e.Response)
		return nil
	case *AudioCommitted:
		c.mu.Lock()
		c.hist.add(e.ItemID, roleUser, "")
		c.mu.Unlock()
		c.hold.item(e.ItemID)
	case *AudioTranscriptDelta:
		c.mu.Lock()
		c.hist.said(e.ItemID, e.Delta)
		c.mu.Unlock()
	case *AudioTranscriptDone:
		c.mu.Lock()
		c.hist.add(e.ItemID, roleAssistant, e.Transcript)
		c.hist.done(e.ItemID)
		c.mu.Unlock()
	case *InputTranscriptionCompleted:
		c.mu.Lock()
		c.hist.add(e.ItemID, roleUser, e.Transcript)
		c.mu.Unlock()
	case *FunctionCallArgumentsDone:
		c.emit(ctx, ev)
		c.startTool(ctx, e)
		return nil
	}
	c.emit(ctx, ev)
	return nil
}

func (c *Client) responseDone(r *Response) {
	c.mu.Lock()
	if c.activeResp == r.ID {
		c.activeResp = ""
	}
	for i := range r.Output {
		it := &r.Output[i]
		if it.Type == itemMessage && it.Role == roleAssistant {
			c.hist.add(it.ID, roleAssistant, it.Text())
			c.hist.done(it.ID)
		}
	}
	again := false
	if rc := c.calls[r.ID]; rc != nil {
		rc.done = true
		if rc.pending == 0 {
			delete(c.calls, r.ID)
			again = true
		}
	}
	c.mu.Unlock()
	if again {
		c.sendOrLog(clientEvent{Type: typeResponseCreate})
	}
}
