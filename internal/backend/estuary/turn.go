package estuary

import (
	"fmt"

	"github.com/voiced-project/voiced/internal/backend"
)

// StartTurn implements backend.Backend. After session_timeout or
// session_rejected it is the user intent that reconnects.
func (c *Client) StartTurn() error {
	if !c.Connected() {
		c.link.Redial()
		return backend.ErrNotConnected
	}
	if c.o.PushToTalk {
		c.upMu.Lock()
		c.holding, c.endLater = true, false
		if c.pend == nil {
			c.pend = make([]int16, 0, holdSamples)
		}
		c.pend = c.pend[:0]
		c.upMu.Unlock()
		err := c.emitCmd("start_voice", map[string]string{"turn_mode": "push_to_talk"}, true)
		if err != nil {
			c.release(false)
		}
		return err
	}
	c.mu.Lock()
	on := c.voiceOn
	c.mu.Unlock()
	if !on { // after voice_timeout
		return c.emitCmd("start_voice", nil, false)
	}
	return nil
}

// EndTurn implements backend.Backend: stop_voice in push-to-talk mode; the
// server's endpointing ends continuous turns.
func (c *Client) EndTurn() error {
	if !c.o.PushToTalk {
		return c.link.Silence(c.o.TrailingSilence, c.AppendAudio)
	}
	c.upMu.Lock()
	if c.holding { // stop_voice follows the held audio
		c.endLater = true
		c.upMu.Unlock()
		return nil
	}
	c.upMu.Unlock()
	return c.emitCmd("stop_voice", nil, true)
}

// release ends the hold: on start_voice's ack (send true) the held audio
// goes out, then stop_voice if EndTurn came meanwhile; on a failure it is
// dropped.
func (c *Client) release(send bool) {
	c.upMu.Lock()
	if !c.holding {
		c.upMu.Unlock()
		return
	}
	c.holding = false
	end := c.endLater
	if send {
		for i := 0; i < len(c.pend); i += InputRate / 10 {
			c.appendLocked(c.pend[i:min(i+InputRate/10, len(c.pend))])
		}
	}
	c.pend = c.pend[:0]
	c.upMu.Unlock()
	if send && end {
		if err := c.emitCmd("stop_voice", nil, true); err != nil {
			c.log.Warn("estuary: stop_voice not sent", "err", err)
		}
	}
}

// AppendAudio implements backend.Backend. Call it from one goroutine.
func (c *Client) AppendAudio(pcm []int16) error {
	if err := c.link.CheckLive(); err != nil {
		return err
	}
	c.upMu.Lock()
	defer c.upMu.Unlock()
	if c.holding {
		n := min(len(pcm), cap(c.pend)-len(c.pend))
		c.pend = append(c.pend, pcm[:n]...)
		if n < len(pcm) {
			c.link.CountDrop()
			return backend.ErrDropped
		}
		return nil
	}
	return c.appendLocked(pcm)
}

// appendLocked frames pcm as stream_audio and queues it.
func (c *Client) appendLocked(pcm []int16) error {
	return c.link.SendPCM("stream_audio", pcm, `"}]`)
}

// Interrupt implements backend.Backend: client_interrupt, and the late
// chunks of the reply are dropped.
func (c *Client) Interrupt(replyID string, heardMs int) error {
	c.mu.Lock()
	if replyID == "" {
		replyID = c.playing
	}
	c.cutMsg = replyID
	c.mu.Unlock()
	var id any
	if replyID != "" {
		id = replyID
	}
	return c.emitCmd("client_interrupt", map[string]any{"message_id": id}, false)
}

// SendText implements backend.TextSender: a typed message, answered with
// voice.
func (c *Client) SendText(text string) error {
	if !c.Connected() {
		return backend.ErrNotConnected
	}
	// textOnly is camelCase on the wire.
	return c.emitCmd("text", map[string]any{"text": text, "textOnly": false}, false)
}

var _ backend.TextSender = (*Client)(nil)

// PlaybackDone implements backend.Backend: audio_playback_complete.
func (c *Client) PlaybackDone(replyID string) error {
	return c.emitCmd("audio_playback_complete", map[string]string{"message_id": replyID}, false)
}

// Control implements backend.Backend.
func (c *Client) Control(a backend.Action) error {
	switch a {
	case backend.ActionInterrupt:
		return c.Interrupt("", 0)
	case backend.ActionStartListening:
		return c.emitCmd("start_voice", nil, false)
	case backend.ActionStopListening:
		return c.emitCmd("stop_voice", nil, false)
	case backend.ActionPause, backend.ActionResume:
		return backend.ErrUnsupported
	}
	return fmt.Errorf("estuary: control action %q: unknown", a)
}
