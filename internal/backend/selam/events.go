package selam

import (
	"encoding/json"
	"strconv"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/sio"
)

// handler is the siolink.Protocol side of Client.
type handler Client

func (h *handler) Audio(arg []byte) { (*Client)(h).audio(arg) }

func (h *handler) Event(name string, arg []byte) error { return (*Client)(h).event(name, arg) }

func (h *handler) Ack(int) {} // the protocol asks for none

// Reset forgets the link's reply; start_session waits for the next
// connected.
func (h *handler) Reset() {
	c := (*Client)(h)
	c.replying.Store(false)
	c.dropping.Store(false)
	c.mu.Lock()
	c.stopAcksLocked()
	c.mu.Unlock()
	c.reply, c.text, c.heard = "", c.text[:0], false
	c.formatKnown = false
}

func (c *Client) startReply() {
	c.nReply++
	c.reply = "selam-" + strconv.Itoa(c.nReply)
	c.text, c.chunks = c.text[:0], 0
	c.replying.Store(true)
	c.link.Emit(backend.Event{Kind: backend.ReplyStarted, ReplyID: c.reply})
}

func (c *Client) event(name string, arg []byte) error {
	switch name {
	case "connected":
		var m struct {
			SID string `json:"sid"`
		}
		json.Unmarshal(arg, &m)
		c.sid = m.SID
		return c.link.Send(c.setup)
	case "session_started":
		var m struct {
			SessionID string `json:"session_id"`
		}
		json.Unmarshal(arg, &m)
		if m.SessionID == "" {
			m.SessionID = c.sid
		}
		c.link.Live()
		c.link.Emit(backend.Event{Kind: backend.Connected, SessionID: m.SessionID})
	case "transcription":
		var m struct {
			Text    string `json:"text"`
			IsFinal bool   `json:"is_final"`
		}
		if err := json.Unmarshal(arg, &m); err != nil {
			c.log.Warn("selam: bad transcription", "err", err)
			return nil
		}
		c.dropping.Store(false)
		if !c.heard {
			c.heard = true
			c.link.Emit(backend.Event{Kind: backend.SpeechStarted})
		}
		c.link.Emit(backend.Event{Kind: backend.Transcript, Role: backend.User, Text: m.Text, Final: m.IsFinal})
		if m.IsFinal {
			c.heard = false
			c.link.Emit(backend.Event{Kind: backend.SpeechStopped})
			c.link.Emit(backend.Event{Kind: backend.Committed})
		}
	case "response":
		var m struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(arg, &m); err != nil {
			c.log.Warn("selam: bad response", "err", err)
			return nil
		}
		c.dropping.Store(false)
		if c.reply == "" {
			c.startReply()
		}
		c.text = append(c.text, m.Text...)
		c.link.Emit(backend.Event{Kind: backend.Transcript, Role: backend.Assistant, ReplyID: c.reply, Text: m.Text})
	case "audio_end":
		if c.reply == "" {
			return nil
		}
		if n, err := strconv.Atoi(string(sio.Field(arg, "total_chunks"))); err == nil && n != c.chunks {
			c.log.Debug("selam: audio_end counts differ", "total_chunks", n, "received", c.chunks)
		}
		c.link.Emit(backend.Event{Kind: backend.Transcript, Role: backend.Assistant, ReplyID: c.reply, Text: string(c.text), Final: true})
		c.link.Emit(backend.Event{Kind: backend.ReplyDone, ReplyID: c.reply})
		c.reply = ""
		c.replying.Store(false)
	case "control_ack":
		var m struct {
			Action string `json:"action"`
			Status string `json:"status"`
		}
		json.Unmarshal(arg, &m)
		a := backend.Action(m.Action)
		c.mu.Lock()
		expected := c.popAckLocked(a)
		c.mu.Unlock()
		if !expected {
			c.log.Warn("selam: control_ack for nothing pending", "action", m.Action)
		}
		if m.Status != "executed" {
			c.link.Emit(backend.Event{Kind: backend.Error, Action: a, Err: &AckError{Action: a, Status: m.Status}})
			return nil
		}
		if a == backend.ActionInterrupt && c.reply != "" {
			c.link.Emit(backend.Event{Kind: backend.Interrupted, ReplyID: c.reply})
			c.reply = ""
			c.replying.Store(false)
		}
		c.link.Emit(backend.Event{Kind: backend.ControlAck, Action: a})
	case "session_ended":
	case "error":
		e := parseError(arg)
		switch {
		case e.Fatal():
			return &sio.StopError{Err: e, Wait: c.o.FatalRetry}
		case e.Type == TypeSession:
			c.link.Emit(backend.Event{Kind: backend.Error, Err: e})
			return e // a new link makes a new session
		}
		c.link.Emit(backend.Event{Kind: backend.Error, Err: e})
	}
	return nil
}
