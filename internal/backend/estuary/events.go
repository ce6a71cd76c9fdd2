package estuary

import (
	"encoding/json"
	"strconv"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/sio"
)

// handler is the siolink.Protocol side of Client.
type handler Client

func (h *handler) Audio(arg []byte) { (*Client)(h).voice(arg) }

func (h *handler) Event(name string, arg []byte) error { return (*Client)(h).event(name, arg) }

func (h *handler) Ack(id int) {
	c := (*Client)(h)
	c.mu.Lock()
	name := c.acks[id].name
	c.dropAckLocked(id)
	c.mu.Unlock()
	if name == "start_voice" {
		c.release(true)
	}
}

func (h *handler) Reset() {
	c := (*Client)(h)
	c.release(false)
	c.mu.Lock()
	c.stopAcksLocked()
	c.voiceOn = false
	c.playing, c.cutMsg = "", ""
	c.mu.Unlock()
	c.curMsg, c.heard = "", false
}

// voice handles a bot_voice chunk.
func (c *Client) voice(arg []byte) {
	if string(sio.Field(arg, "is_livekit")) == "true" { // metadata of the WebRTC transport
		return
	}
	id, _ := sio.Str(sio.Field(arg, "message_id"))
	if c.cut(id) {
		return
	}
	if len(id) > 0 && string(id) != c.curMsg {
		c.newReply(string(id))
	}
	rate := c.sessionRate
	if r := sio.Field(arg, "sample_rate"); len(r) > 0 {
		if n, err := strconv.Atoi(string(r)); err == nil && n >= 8000 && n <= 48000 {
			rate = n
		}
	}
	raw := sio.Field(arg, "audio")
	b64, ok := sio.Str(raw)
	if !ok && len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			b64, ok = []byte(s), true
		}
	}
	if ok && len(b64) > 0 {
		var pcm []int16
		var err error
		pcm, c.scratch, c.pcm, err = backend.DecodeBase64PCM(b64, c.scratch, c.pcm)
		if err != nil {
			c.log.Warn("estuary: bad bot_voice audio", "err", err)
		} else if len(pcm) > 0 {
			c.received.Add(uint64(len(pcm)))
			c.o.Audio(c.curMsg, pcm, rate)
		}
	}
	if string(sio.Field(arg, "is_final")) == "true" && !c.voiceDone {
		c.voiceDone = true
		c.link.Emit(backend.Event{Kind: backend.ReplyDone, ReplyID: c.curMsg})
	}
}

// cut reports whether message id was interrupted (by the server or by
// Interrupt): its late chunks are dropped.
func (c *Client) cut(id []byte) bool {
	if len(id) == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(id) == c.cutMsg
}

func (c *Client) newReply(id string) {
	c.curMsg = id
	c.textDone, c.voiceDone = false, false
	c.heard = false
	c.mu.Lock()
	c.playing, c.cutMsg = id, ""
	c.mu.Unlock()
	c.link.Emit(backend.Event{Kind: backend.ReplyStarted, ReplyID: id})
}

// wire shapes of the events decoded with encoding/json.
type (
	sessionInfo struct {
		SessionID      string `json:"session_id"`
		ConversationID string `json:"conversation_id"`
	}
	sttResponse struct {
		Text    string `json:"text"`
		IsFinal bool   `json:"is_final"`
	}
	botResponse struct {
		Text      string `json:"text"`
		IsFinal   bool   `json:"is_final"`
		MessageID string `json:"message_id"`
	}
	interruptMsg struct {
		MessageID string `json:"message_id"`
		Reason    string `json:"reason"`
	}
	errorMsg struct {
		Error   string `json:"error"`
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
)

func (e errorMsg) text() string {
	switch {
	case e.Message != "":
		return e.Message
	case e.Error != "":
		return e.Error
	}
	return e.Reason
}

func (c *Client) event(name string, arg []byte) error {
	dec := func(v any) bool {
		if len(arg) == 0 || string(arg) == "null" {
			return true
		}
		if err := json.Unmarshal(arg, v); err != nil {
			c.log.Warn("estuary: bad event payload", "event", name, "err", err)
			return false
		}
		return true
	}
	switch name {
	case "session_info":
		var s sessionInfo
		dec(&s)
		c.link.Live()
		c.link.Emit(backend.Event{Kind: backend.Connected, SessionID: s.SessionID})
		if !c.o.PushToTalk {
			return c.emitCmd("start_voice", nil, false)
		}
	case "auth_error":
		var e errorMsg
		dec(&e)
		return &sio.StopError{Err: &Error{Event: name, Message: e.text(), kind: backend.KindAuth, fatal: true}, Wait: c.o.FatalRetry}
	case "voice_started":
		c.mu.Lock()
		c.voiceOn = true
		c.mu.Unlock()
		c.link.Emit(backend.Event{Kind: backend.ControlAck, Action: backend.ActionStartListening})
	case "voice_stopped":
		c.mu.Lock()
		c.voiceOn = false
		c.mu.Unlock()
		c.link.Emit(backend.Event{Kind: backend.ControlAck, Action: backend.ActionStopListening})
	case "voice_error":
		var e errorMsg
		dec(&e)
		c.mu.Lock()
		c.stopAcksLocked() // the command it answers has failed
		c.mu.Unlock()
		c.release(false)
		c.link.Emit(backend.Event{Kind: backend.Error, Err: &Error{Event: name, Message: e.text(), kind: backend.KindAudio}})
	case "stt_response":
		var s sttResponse
		if !dec(&s) {
			return nil
		}
		if !c.heard {
			c.heard = true
			c.link.Emit(backend.Event{Kind: backend.SpeechStarted})
		}
		c.link.Emit(backend.Event{Kind: backend.Transcript, Role: backend.User, Text: s.Text, Final: s.IsFinal})
		if s.IsFinal {
			c.heard = false
			c.link.Emit(backend.Event{Kind: backend.SpeechStopped})
			c.link.Emit(backend.Event{Kind: backend.Committed})
		}
	case "bot_response":
		var b botResponse
		if !dec(&b) || c.cut([]byte(b.MessageID)) {
			return nil
		}
		if b.MessageID != "" && b.MessageID != c.curMsg {
			c.newReply(b.MessageID)
		}
		c.link.Emit(backend.Event{Kind: backend.Transcript, Role: backend.Assistant, ReplyID: c.curMsg, Text: b.Text, Final: b.IsFinal})
		if b.IsFinal {
			c.textDone = true
		}
	case "interrupt":
		var m interruptMsg
		dec(&m)
		id := m.MessageID
		if id == "" {
			id = c.curMsg
		}
		c.mu.Lock()
		c.cutMsg = id
		c.mu.Unlock()
		c.link.Emit(backend.Event{Kind: backend.Interrupted, ReplyID: id})
	case "error":
		var e errorMsg
		dec(&e)
		c.link.Emit(backend.Event{Kind: backend.Error, Err: &Error{Event: name, Message: e.text()}})
	case "quota_exceeded":
		var e errorMsg
		dec(&e)
		return &sio.StopError{Err: &Error{Event: name, Message: e.text(), kind: backend.KindQuota, fatal: true}, Wait: c.o.FatalRetry}
	case "session_timeout":
		return &sio.StopError{Err: &Error{Event: name, Message: "idle " + string(sio.Field(arg, "idle_seconds")) + " s", kind: backend.KindTimeout}}
	case "session_rejected":
		var e errorMsg
		dec(&e)
		return &sio.StopError{Err: &Error{Event: name, Message: e.text(), kind: backend.KindSession}}
	case "voice_timeout":
		c.mu.Lock()
		c.voiceOn = false
		c.mu.Unlock()
		c.link.Emit(backend.Event{Kind: backend.Error, Err: &Error{Event: name, Message: "idle " + string(sio.Field(arg, "idle_seconds")) + " s", kind: backend.KindTimeout}})
	}
	return nil
}
