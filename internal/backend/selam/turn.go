package selam

import (
	"fmt"
	"time"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/sio"
)

// StartTurn implements backend.Backend.
func (c *Client) StartTurn() error {
	if !c.Connected() {
		c.link.Redial()
		return backend.ErrNotConnected
	}
	if c.replying.Load() {
		return c.Control(backend.ActionInterrupt)
	}
	return nil
}

// EndTurn implements backend.Backend: trailing silence for the service's
// voice detection.
func (c *Client) EndTurn() error {
	return c.link.Silence(c.o.TrailingSilence, c.AppendAudio)
}

// AppendAudio implements backend.Backend.
func (c *Client) AppendAudio(pcm []int16) error {
	if err := c.link.CheckLive(); err != nil {
		return err
	}
	return c.link.SendPCM("audio_chunk", pcm, `","format":"pcm16","sample_rate":16000}]`)
}

// Interrupt implements backend.Backend: control interrupt, and audio in
// flight is dropped.
func (c *Client) Interrupt(replyID string, heardMs int) error {
	return c.Control(backend.ActionInterrupt)
}

// PlaybackDone implements backend.Backend; the protocol has no such event.
func (c *Client) PlaybackDone(replyID string) error { return nil }

// Control implements backend.Backend: control {action}, acknowledged by
// control_ack.
func (c *Client) Control(a backend.Action) error {
	switch a {
	case backend.ActionInterrupt:
		c.dropping.Store(true)
	case backend.ActionStartListening, backend.ActionStopListening, backend.ActionPause, backend.ActionResume:
	default:
		return fmt.Errorf("selam: control action %q: unknown", a)
	}
	if !c.Connected() {
		return backend.ErrNotConnected
	}
	c.mu.Lock()
	t := time.AfterFunc(c.o.AckTimeout, func() { c.ackMissing(a) })
	c.acks[a] = append(c.acks[a], t)
	c.mu.Unlock()
	msg := sio.AppendEvent(nil, Namespace, -1, "control", []byte(`{"action":"`+string(a)+`"}`))
	if err := c.link.Send(msg); err != nil {
		c.mu.Lock()
		c.popAckLocked(a)
		c.mu.Unlock()
		return fmt.Errorf("selam: control %s: %w", a, err)
	}
	return nil
}

// popAckLocked stops and forgets the oldest pending ack of a.
func (c *Client) popAckLocked(a backend.Action) bool {
	l := c.acks[a]
	if len(l) == 0 {
		return false
	}
	l[0].Stop()
	c.acks[a] = l[1:]
	return true
}

func (c *Client) ackMissing(a backend.Action) {
	c.mu.Lock()
	ok := len(c.acks[a]) > 0
	if ok {
		c.acks[a] = c.acks[a][1:]
	}
	c.mu.Unlock()
	if ok {
		c.link.EmitAsync(backend.Event{Kind: backend.Error, Action: a, Err: &AckError{Action: a}})
	}
}

func (c *Client) stopAcksLocked() {
	for a := range c.acks {
		for c.popAckLocked(a) {
		}
	}
}
