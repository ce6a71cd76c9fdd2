package realtimetest

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/voiced-project/voiced/internal/realtime"
)

// inputRate is the protocol's PCM16 input rate.
const inputRate = 24000

type obj = map[string]any

type turnCfg struct {
	typ               string
	idleTimeoutMs     int
	threshold         float64
	prefixMs          int
	silenceMs         int
	createResponse    bool
	interruptResponse bool
}

type simItem struct {
	role    string
	samples int // audio sent, at rate
	rate    int
}

type response struct {
	id     string
	cancel context.CancelFunc
	reason string // why it was cancelled, guarded by session.mu
}

// session is one WebSocket connection: the reader runs in the HTTP
// handler, a response streams on its own goroutine.
type session struct {
	srv    *Server
	ws     *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the streaming response and the idle timer
	idle   chan struct{}  // 1-buffered: idleAt changed

	wmu  sync.Mutex // guards writes and sent
	sent int

	mu            sync.Mutex // guards following fields
	id            string
	model         string
	expiresAt     int64
	instructions  string
	voice         string
	outRate       int
	td            *turnCfg
	transcription string // model, "" when off
	tools         []json.RawMessage
	input         []int16 // not yet committed
	inputStart    int     // stream position of input[0], in samples
	stream        int     // samples appended this session
	vad           *energyVAD
	vadRem        []int16
	speaking      bool
	speechStart   int // stream position
	silence       int
	vadItem       string
	lastUser      []int16
	lastItem      string
	items         map[string]*simItem
	resp          *response
	toolState     int // 0 no call yet, 1 call made, 2 output received
	toolOutput    string
	idleAt        time.Time // when idle_timeout_ms fires; zero when disarmed
}

func newSession(s *Server, ws *websocket.Conn) *session {
	ctx, cancel := context.WithCancel(context.Background())
	c := &session{srv: s, ws: ws, ctx: ctx, cancel: cancel, idle: make(chan struct{}, 1),
		id: s.id("sess"), model: s.cfg.Model, voice: "alloy", outRate: inputRate,
		items: map[string]*simItem{},
		// Like the service, a session starts with server VAD on.
		td: &turnCfg{typ: realtime.ServerVAD, threshold: 0.5, prefixMs: 300, silenceMs: 500,
			createResponse: true, interruptResponse: true},
	}
	if s.cfg.Dialect == realtime.Beta {
		c.voice = "verse"
	}
	// expires_at is in whole seconds: round up, and expire exactly then.
	c.expiresAt = time.Now().Add(s.cfg.SessionMax + time.Second - 1).Unix()
	c.vad = newEnergyVAD(inputRate, c.td.threshold)
	return c
}

func (c *session) ga() bool { return c.srv.cfg.Dialect == realtime.GA }

// drop closes the socket without a close frame.
func (c *session) drop() { _ = c.ws.NetConn().Close() }

func (c *session) writeRaw(typ int, data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(typ, data)
}

// send writes one server event, numbering it; after FailAfter events the
// connection is dropped.
func (c *session) send(ev obj) error {
	ev["event_id"] = c.srv.id("event")
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if n := c.srv.cfg.FailAfter; n > 0 && c.sent >= n {
		c.drop()
		return errDropped
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return err
	}
	c.sent++
	if f := c.srv.cfg.OnEvent; f != nil {
		f(b)
	}
	if n := c.srv.cfg.FailAfter; n > 0 && c.sent >= n {
		c.drop()
	}
	return nil
}

func (c *session) sendError(code, param, msg, eventID string) {
	e := obj{"type": "invalid_request_error", "code": code, "message": msg, "param": nil, "event_id": nil}
	if param != "" {
		e["param"] = param
	}
	if eventID != "" {
		e["event_id"] = eventID
	}
	_ = c.send(obj{"type": "error", "error": e})
}

func (c *session) run(betaHeader bool) {
	defer c.ws.Close()
	defer c.wg.Wait()
	defer c.cancel()
	if c.ga() && betaHeader {
		c.sendError(realtime.CodeBetaAPIShapeDisabled, "", "The beta Realtime API shape is disabled; remove the OpenAI-Beta header.", "")
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "beta disabled"), time.Now().Add(time.Second))
		return
	}
	c.mu.Lock()
	sess := c.sessionObjLocked()
	c.mu.Unlock()
	if c.send(obj{"type": "session.created", "session": sess}) != nil {
		return
	}
	if c.ga() {
		_ = c.send(obj{"type": "conversation.created", "conversation": obj{"id": c.srv.id("conv"), "object": "realtime.conversation"}})
	}
	for _, m := range c.srv.cfg.Extra {
		if c.writeRaw(websocket.TextMessage, m) != nil {
			return
		}
	}
	expiry := time.AfterFunc(time.Until(time.Unix(c.expiresAt, 0)), c.expire)
	defer expiry.Stop()
	c.wg.Add(1)
	go c.idleLoop()
	for {
		typ, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if typ != websocket.TextMessage {
			c.sendError(realtime.CodeInvalidEvent, "", "Binary messages are not supported.", "")
			continue
		}
		c.handle(msg)
	}
}

// expire ends the session the way the service does at its time limit.
func (c *session) expire() {
	c.srv.mu.Lock()
	c.srv.expired++
	c.srv.mu.Unlock()
	c.sendError(realtime.CodeSessionExpired, "", fmt.Sprintf("Your session hit the maximum duration of %s.", c.srv.cfg.SessionMax), "")
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "session expired"), time.Now().Add(time.Second))
	c.wmu.Unlock()
	// Wait briefly for the client's close, then go.
	_ = c.ws.SetReadDeadline(time.Now().Add(2 * time.Second))
}

type clientMsg struct {
	Type         string          `json:"type"`
	EventID      string          `json:"event_id"`
	Audio        *string         `json:"audio"`
	Session      json.RawMessage `json:"session"`
	Item         json.RawMessage `json:"item"`
	ItemID       string          `json:"item_id"`
	ContentIndex *int            `json:"content_index"`
	AudioEndMs   *int            `json:"audio_end_ms"`
	Response     *struct {
		Instructions *string `json:"instructions"`
	} `json:"response"`
}

func (c *session) handle(msg []byte) {
	c.srv.record(msg)
	var m clientMsg
	if err := json.Unmarshal(msg, &m); err != nil {
		c.sendError(realtime.CodeInvalidJSON, "", "We could not parse the JSON body of your request: "+err.Error(), "")
		return
	}
	switch m.Type {
	case "":
		c.sendError(realtime.CodeInvalidEvent, "", "The 'type' field is missing.", m.EventID)
	case "session.update":
		c.updateSession(&m)
	case "input_audio_buffer.append":
		c.appendAudio(&m)
	case "input_audio_buffer.commit":
		c.commit(m.EventID, "")
	case "input_audio_buffer.clear":
		c.mu.Lock()
		c.inputStart += len(c.input)
		c.input = c.input[:0]
		c.speaking = false
		c.mu.Unlock()
		_ = c.send(obj{"type": "input_audio_buffer.cleared"})
	case "response.create":
		if c.srv.cfg.IgnoreInstructed && m.Response != nil && m.Response.Instructions != nil {
			return
		}
		c.startResponse(m.EventID)
	case "response.cancel":
		c.cancelResponse(m.EventID, "client_cancelled")
	case "conversation.item.create":
		c.createItem(&m)
	case "conversation.item.truncate":
		c.truncate(&m)
	case "conversation.item.delete":
		c.mu.Lock()
		_, ok := c.items[m.ItemID]
		delete(c.items, m.ItemID)
		c.mu.Unlock()
		if !ok {
			c.sendError(realtime.CodeInvalidValue, "item_id", fmt.Sprintf("Item with item_id not found: %s", m.ItemID), m.EventID)
			return
		}
		_ = c.send(obj{"type": "conversation.item.deleted", "item_id": m.ItemID})
	default:
		c.sendError(realtime.CodeInvalidValue, "type", fmt.Sprintf("Invalid value: '%s'. Supported values are: 'session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', 'conversation.item.create', 'conversation.item.truncate', 'conversation.item.delete', 'response.create' and 'response.cancel'.", m.Type), m.EventID)
	}
}

func (c *session) sessionObjLocked() obj {
	var td any
	if c.td != nil {
		t := obj{"type": c.td.typ, "create_response": c.td.createResponse, "interrupt_response": c.td.interruptResponse}
		if c.td.typ == realtime.ServerVAD {
			t["threshold"] = c.td.threshold
			t["prefix_padding_ms"] = c.td.prefixMs
			t["silence_duration_ms"] = c.td.silenceMs
			t["idle_timeout_ms"] = nil
			if c.td.idleTimeoutMs > 0 {
				t["idle_timeout_ms"] = c.td.idleTimeoutMs
			}
		} else {
			t["eagerness"] = "auto"
		}
		td = t
	}
	var tr any
	if c.transcription != "" {
		tr = obj{"model": c.transcription}
	}
	tools := c.tools
	if tools == nil {
		tools = []json.RawMessage{}
	}
	var expires any = c.expiresAt
	if c.srv.cfg.HideExpiry {
		expires = nil
	}
	if !c.ga() {
		return obj{"id": c.id, "object": "realtime.session", "model": c.model, "expires_at": expires,
			"modalities": []string{"audio", "text"}, "instructions": c.instructions, "voice": c.voice,
			"turn_detection": td, "input_audio_format": "pcm16", "output_audio_format": "pcm16",
			"input_audio_transcription": tr, "tool_choice": "auto", "temperature": 0.8,
			"max_response_output_tokens": "inf", "tools": tools}
	}
	return obj{"type": "realtime", "object": "realtime.session", "id": c.id, "model": c.model,
		"output_modalities": []string{"audio"}, "instructions": c.instructions, "tools": tools,
		"tool_choice": "auto", "max_output_tokens": "inf", "tracing": nil, "prompt": nil,
		"expires_at": expires, "include": nil,
		"audio": obj{
			"input": obj{"format": obj{"type": "audio/pcm", "rate": inputRate}, "transcription": tr,
				"noise_reduction": nil, "turn_detection": td},
			"output": obj{"format": obj{"type": "audio/pcm", "rate": c.outRate}, "voice": c.voice, "speed": 1},
		}}
}

func (c *session) updateSession(m *clientMsg) {
	var w struct {
		Type         *string           `json:"type"`
		Instructions *string           `json:"instructions"`
		Voice        *string           `json:"voice"`
		Tools        []json.RawMessage `json:"tools"`
		Transcr      json.RawMessage   `json:"input_audio_transcription"`
		Turn         json.RawMessage   `json:"turn_detection"`
		Audio        *struct {
			Input struct {
				Format *struct {
					Type string `json:"type"`
					Rate int    `json:"rate"`
				} `json:"format"`
				Transcr json.RawMessage `json:"transcription"`
				Turn    json.RawMessage `json:"turn_detection"`
			} `json:"input"`
			Output struct {
				Format *struct {
					Type string `json:"type"`
					Rate int    `json:"rate"`
				} `json:"format"`
				Voice *string `json:"voice"`
			} `json:"output"`
		} `json:"audio"`
	}
	if len(m.Session) == 0 {
		c.sendError("missing_required_parameter", "session", "Missing required parameter: 'session'.", m.EventID)
		return
	}
	if err := json.Unmarshal(m.Session, &w); err != nil {
		c.sendError(realtime.CodeInvalidValue, "session", "Invalid session: "+err.Error(), m.EventID)
		return
	}
	turn, transcr, voice := w.Turn, w.Transcr, w.Voice
	outRate := 0
	if c.ga() {
		if w.Type == nil {
			c.sendError("missing_required_parameter", "session.type", "Missing required parameter: 'session.type'.", m.EventID)
			return
		}
		if *w.Type != "realtime" {
			c.sendError(realtime.CodeInvalidValue, "session.type", fmt.Sprintf("Invalid value: '%s'. This session is a realtime session.", *w.Type), m.EventID)
			return
		}
		if w.Audio != nil {
			turn, transcr = w.Audio.Input.Turn, w.Audio.Input.Transcr
			if w.Audio.Output.Voice != nil {
				voice = w.Audio.Output.Voice
			}
			if f := w.Audio.Input.Format; f != nil && f.Type == "audio/pcm" && f.Rate != 0 && f.Rate != inputRate {
				c.sendError(realtime.CodeInvalidValue, "session.audio.input.format.rate", fmt.Sprintf("Invalid value: %d. Supported values are: 24000.", f.Rate), m.EventID)
				return
			}
			if f := w.Audio.Output.Format; f != nil && f.Rate != 0 {
				if f.Rate < 8000 || f.Rate > 48000 {
					c.sendError(realtime.CodeInvalidValue, "session.audio.output.format.rate", fmt.Sprintf("Invalid value: %d.", f.Rate), m.EventID)
					return
				}
				outRate = f.Rate
			}
		}
	}
	var td *turnCfg
	setTurn := len(turn) > 0
	if setTurn && string(turn) != "null" {
		var t struct {
			Type              string   `json:"type"`
			Threshold         *float64 `json:"threshold"`
			PrefixPaddingMs   *int     `json:"prefix_padding_ms"`
			SilenceDurationMs *int     `json:"silence_duration_ms"`
			CreateResponse    *bool    `json:"create_response"`
			InterruptResponse *bool    `json:"interrupt_response"`
			IdleTimeoutMs     *int     `json:"idle_timeout_ms"`
			Eagerness         string   `json:"eagerness"`
		}
		if err := json.Unmarshal(turn, &t); err != nil || (t.Type != realtime.ServerVAD && t.Type != realtime.SemanticVAD) {
			c.sendError(realtime.CodeInvalidValue, "session.turn_detection.type", "Invalid turn_detection: want type server_vad or semantic_vad.", m.EventID)
			return
		}
		td = &turnCfg{typ: t.Type, threshold: 0.5, prefixMs: 300, silenceMs: 500, createResponse: true, interruptResponse: true}
		if t.Type == realtime.SemanticVAD {
			td.silenceMs = map[string]int{"low": 1500, "medium": 800, "high": 300}[t.Eagerness]
			if td.silenceMs == 0 {
				td.silenceMs = 800
			}
		}
		if t.Threshold != nil {
			td.threshold = *t.Threshold
		}
		if t.PrefixPaddingMs != nil {
			td.prefixMs = *t.PrefixPaddingMs
		}
		if t.SilenceDurationMs != nil {
			td.silenceMs = *t.SilenceDurationMs
		}
		if t.CreateResponse != nil {
			td.createResponse = *t.CreateResponse
		}
		if t.InterruptResponse != nil {
			td.interruptResponse = *t.InterruptResponse
		}
		if t.IdleTimeoutMs != nil && t.Type == realtime.ServerVAD {
			minMs := int(c.srv.cfg.MinIdleTimeout / time.Millisecond)
			if *t.IdleTimeoutMs < minMs || *t.IdleTimeoutMs > 30000 {
				c.sendError(realtime.CodeInvalidValue, "session.audio.input.turn_detection.idle_timeout_ms",
					fmt.Sprintf("Invalid 'idle_timeout_ms': %d. Expected a value between %d and 30000.", *t.IdleTimeoutMs, minMs), m.EventID)
				return
			}
			td.idleTimeoutMs = *t.IdleTimeoutMs
		}
	}
	c.mu.Lock()
	if w.Instructions != nil {
		c.instructions = *w.Instructions
	}
	if voice != nil && *voice != "" {
		c.voice = *voice
	}
	if w.Tools != nil {
		c.tools = w.Tools
	}
	if outRate != 0 {
		c.outRate = outRate
	}
	if len(transcr) > 0 {
		var t struct {
			Model string `json:"model"`
		}
		c.transcription = ""
		if string(transcr) != "null" && json.Unmarshal(transcr, &t) == nil {
			c.transcription = t.Model
			if c.transcription == "" {
				c.transcription = "whisper-1"
			}
		}
	}
	if setTurn {
		c.td = td
		c.speaking = false
		if td != nil {
			c.vad = newEnergyVAD(inputRate, td.threshold)
		}
	}
	sess := c.sessionObjLocked()
	c.mu.Unlock()
	_ = c.send(obj{"type": "session.updated", "session": sess})
}

func (c *session) appendAudio(m *clientMsg) {
	if m.Audio == nil {
		c.sendError("missing_required_parameter", "audio", "Missing required parameter: 'audio'.", m.EventID)
		return
	}
	raw, err := base64.StdEncoding.DecodeString(*m.Audio)
	if err != nil || len(raw)%2 != 0 {
		c.sendError(realtime.CodeInvalidValue, "audio", "Invalid 'audio'. Expected base64-encoded 16-bit PCM.", m.EventID)
		return
	}
	pcm := make([]int16, len(raw)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	c.mu.Lock()
	c.input = append(c.input, pcm...)
	var events []obj
	commitItem := ""
	interrupt := false
	if c.td != nil {
		c.vadRem = append(c.vadRem, pcm...)
		fl := c.vad.frameLen()
		for len(c.vadRem) >= fl && commitItem == "" {
			frame := c.vadRem[:fl]
			pos := c.stream
			c.stream += fl
			speech := c.vad.speech(frame)
			c.vadRem = c.vadRem[fl:]
			switch {
			case !c.speaking && speech:
				c.speaking = true
				c.silence = 0
				c.speechStart = max(c.inputStart, pos-c.td.prefixMs*inputRate/1000)
				c.vadItem = c.srv.id("item")
				events = append(events, obj{"type": "input_audio_buffer.speech_started",
					"audio_start_ms": c.speechStart * 1000 / inputRate, "item_id": c.vadItem})
				interrupt = c.resp != nil && c.td.interruptResponse
				c.setIdleLocked(time.Time{})
			case c.speaking && speech:
				c.silence = 0
			case c.speaking:
				c.silence += fl
				if c.silence*1000/inputRate >= c.td.silenceMs {
					c.speaking = false
					end := c.stream - c.silence
					events = append(events, obj{"type": "input_audio_buffer.speech_stopped",
						"audio_end_ms": end * 1000 / inputRate, "item_id": c.vadItem})
					from := max(0, c.speechStart-c.inputStart)
					to := min(len(c.input), max(from, end-c.inputStart))
					c.lastUser = append([]int16(nil), c.input[from:to]...)
					commitItem = c.vadItem
				}
			}
		}
		if commitItem != "" {
			c.vadRem = c.vadRem[:0]
			c.stream = c.inputStart + len(c.input)
		} else if keep := (c.td.prefixMs + 1000) * inputRate / 1000; !c.speaking && len(c.input) > 2*keep {
			// Between turns only the padding can matter: a server left
			// listening to silence must not grow without bound.
			drop := len(c.input) - keep
			c.input = append(c.input[:0], c.input[drop:]...)
			c.inputStart += drop
		}
		c.vadRem = append([]int16(nil), c.vadRem...) // keep the remainder small
	} else {
		c.stream += len(pcm)
	}
	c.mu.Unlock()
	for _, ev := range events {
		_ = c.send(ev)
	}
	if interrupt {
		c.cancelResponse("", "turn_detected")
	}
	if commitItem != "" {
		c.commit("", commitItem)
	}
}
