package estuary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/sio"
)

// DefaultURL is Estuary's service.
const DefaultURL = "https://api.estuary-ai.com"

// Namespace carries every event of the protocol.
const Namespace = "/sdk"

// InputRate is the microphone rate the service's speech-to-text expects.
const InputRate = 16000

// holdSamples bounds the audio held until start_voice is acknowledged (3 s).
const holdSamples = 3 * InputRate

// Options configure a Client.
type Options struct {
	URL         string // default DefaultURL
	APIKey      string // est_... (or a session token)
	CharacterID string
	PlayerID    string
	// OutputRate is the audio_sample_rate asked for TTS audio (default 16000).
	OutputRate int
	PushToTalk bool
	// TrailingSilence is what EndTurn streams in continuous mode (default
	// 600 ms): voiced sends only speech, so the service's endpointing
	// would otherwise wait for audio that never comes.
	TrailingSilence time.Duration
	// Audio receives reply audio; required.
	Audio  backend.AudioSink
	Logger *slog.Logger

	EventBuffer int           // Events capacity (default 256)
	AckTimeout  time.Duration // for start_voice/stop_voice acks (default 10 s)
	FatalRetry  time.Duration // wait after a fatal error (default 10 min)
	// SetupTimeout bounds the wait for the session after the join (default 10 s).
	SetupTimeout time.Duration
	Dialer       *websocket.Dialer
	Header       http.Header
	BackoffMin   time.Duration // see sio.ClientOptions
	BackoffMax   time.Duration
	StableAfter  time.Duration // see sio.ClientOptions (default 30 s)
	AudioSlots   int
	Rand         func() float64
}

// Error is an error the service reported, in plain words.
type Error struct {
	Event   string // the wire event: auth_error, quota_exceeded, ...
	Message string
	kind    backend.ErrorKind
	fatal   bool
}

// Kind classifies the error.
func (e *Error) Kind() backend.ErrorKind { return e.kind }

// Fatal reports whether retrying soon is pointless.
func (e *Error) Fatal() bool { return e.fatal }

func (e *Error) Error() string {
	var what string
	switch e.Event {
	case "auth_error", "connect_error":
		what = "the API key, character or player was refused"
	case "quota_exceeded":
		what = "the monthly interaction quota is used up"
	case "session_timeout":
		what = "the session was closed after being idle; it reopens on the next turn"
	case "session_rejected":
		what = "the session was refused by a concurrency limit; it retries on the next turn"
	case "voice_timeout":
		what = "voice input was closed after a long silence; it reopens on the next turn"
	case "voice_error":
		what = "the speech-to-text could not be started or stopped"
	case "ack_timeout":
		what = "the server did not acknowledge a voice command in time"
	default:
		what = "the server reported an error"
	}
	s := "estuary: " + what
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// pending is a command waiting for its ack.
type pending struct {
	name  string
	timer *time.Timer
}

// Client is an Estuary voice client. Create it with New, start it with Run.
type Client struct {
	o       Options
	silence []int16 // 100 ms, for TrailingSilence
	sc      *sio.Client
	log     *slog.Logger
	events  chan backend.Event
	ctx     context.Context // Run's

	dropped, received atomic.Uint64
	live              atomic.Bool // session_info seen on this link

	// Push-to-talk holds audio between StartTurn and start_voice's ack:
	// python-socketio may run a client's handlers concurrently, so audio
	// sent before speech-to-text is open could be lost.
	upMu      sync.Mutex // guards following fields
	upScratch []byte
	holding   bool    // waiting for start_voice's ack
	pend      []int16 // audio held meanwhile, at most holdSamples
	endLater  bool    // EndTurn came while holding

	// Owned by the reader (Handler methods).
	scratch     []byte
	pcm         []int16
	curMsg      string // message_id of the reply being received
	textDone    bool
	voiceDone   bool
	heard       bool // a transcript of this turn was seen
	sessionRate int

	mu      sync.Mutex // guards following fields
	closed  bool       // events is closed
	nextAck int
	acks    map[int]pending
	voiceOn bool
	playing string // the reply Control(interrupt) stops
	cutMsg  string // interrupted message: its late chunks are dropped
}

// New checks the options and returns a Client.
func New(o Options) (*Client, error) {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	switch {
	case o.APIKey == "":
		return nil, errors.New("estuary: api_key is empty")
	case o.CharacterID == "":
		return nil, errors.New("estuary: character_id is empty")
	case o.PlayerID == "":
		return nil, errors.New("estuary: player_id is empty")
	case o.Audio == nil:
		return nil, errors.New("estuary: no audio sink")
	}
	if o.OutputRate == 0 {
		o.OutputRate = 16000
	}
	if o.OutputRate < 8000 || o.OutputRate > 48000 {
		return nil, fmt.Errorf("estuary: output rate %d: want 8000 to 48000 Hz", o.OutputRate)
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = 256
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 10 * time.Second
	}
	if o.FatalRetry <= 0 {
		o.FatalRetry = 10 * time.Minute
	}
	if o.TrailingSilence <= 0 {
		o.TrailingSilence = 600 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	auth, err := json.Marshal(map[string]any{
		"api_key": o.APIKey, "character_id": o.CharacterID, "player_id": o.PlayerID,
		"audio_sample_rate": o.OutputRate,
		"capabilities":      map[string]any{"version": "1", "camera": false, "microphone": true, "speaker": true, "client_action": false},
	})
	if err != nil {
		return nil, err
	}
	c := &Client{o: o, log: o.Logger, events: make(chan backend.Event, o.EventBuffer), acks: map[int]pending{}, sessionRate: o.OutputRate,
		silence: make([]int16, InputRate/10)}
	c.sc, err = sio.NewClient(sio.ClientOptions{
		URL: o.URL, Namespace: Namespace, Auth: auth, Header: o.Header, Dialer: o.Dialer, Logger: o.Logger,
		BackoffMin: o.BackoffMin, BackoffMax: o.BackoffMax, StableAfter: o.StableAfter, AudioSlots: o.AudioSlots, Rand: o.Rand,
		SetupTimeout: o.SetupTimeout,
		Classify:     c.classify,
	}, (*handler)(c))
	if err != nil {
		return nil, fmt.Errorf("estuary: %w", err)
	}
	return c, nil
}

var _ backend.Backend = (*Client)(nil)

// Events implements backend.Backend.
func (c *Client) Events() <-chan backend.Event { return c.events }

// InputRate implements backend.Backend: 16 kHz.
func (c *Client) InputRate() int { return InputRate }

// Connected reports whether a session is live.
func (c *Client) Connected() bool { return c.live.Load() && c.sc.Connected() }

// Dropped counts audio chunks not sent because the socket was behind or down.
func (c *Client) Dropped() uint64 { return c.dropped.Load() }

// Run implements backend.Backend.
func (c *Client) Run(ctx context.Context) error {
	c.ctx = ctx
	err := c.sc.Run(ctx)
	c.mu.Lock()
	c.closed = true
	c.stopAcksLocked()
	close(c.events)
	c.mu.Unlock()
	return err
}

// emit delivers an event from the reader goroutine, waiting for room.
func (c *Client) emit(ev backend.Event) {
	select {
	case c.events <- ev:
	case <-c.ctx.Done():
	}
}

// emitAsync delivers an event from a timer; it drops it rather than wait.
func (c *Client) emitAsync(ev backend.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	select {
	case c.events <- ev:
	default:
		c.log.Warn("estuary: event dropped, consumer behind", "kind", ev.Kind)
	}
}

func (c *Client) classify(err error) error {
	var ce *sio.ConnectError
	if errors.As(err, &ce) {
		return &sio.StopError{Err: &Error{Event: "connect_error", Message: ce.Message, kind: backend.KindAuth, fatal: true}, Wait: c.o.FatalRetry}
	}
	return nil
}

// emitCmd queues a command event; with ack it gets an ack id and a deadline.
func (c *Client) emitCmd(name string, arg any, ack bool) error {
	var a []byte
	if arg != nil {
		var err error
		if a, err = json.Marshal(arg); err != nil {
			return err
		}
	}
	id := -1
	if ack {
		c.mu.Lock()
		id = c.nextAck
		c.nextAck++
		c.acks[id] = pending{name: name, timer: time.AfterFunc(c.o.AckTimeout, func() { c.ackTimeout(id) })}
		c.mu.Unlock()
	}
	if err := c.sc.Send(sio.AppendEvent(nil, Namespace, id, name, a)); err != nil {
		if ack {
			c.mu.Lock()
			c.dropAckLocked(id)
			c.mu.Unlock()
		}
		return fmt.Errorf("estuary: %s: %w", name, err)
	}
	return nil
}

func (c *Client) ackTimeout(id int) {
	c.mu.Lock()
	p, ok := c.acks[id]
	delete(c.acks, id)
	c.mu.Unlock()
	if !ok {
		return
	}
	c.release(false)
	c.log.Warn("estuary: no ack; reconnecting", "command", p.name)
	c.emitAsync(backend.Event{Kind: backend.Error, Err: &Error{Event: "ack_timeout", Message: p.name, kind: backend.KindSession}})
	c.sc.Drop()
}

func (c *Client) dropAckLocked(id int) {
	if p, ok := c.acks[id]; ok {
		p.timer.Stop()
		delete(c.acks, id)
	}
}

func (c *Client) stopAcksLocked() {
	for id := range c.acks {
		c.dropAckLocked(id)
	}
}

// StartTurn implements backend.Backend. After session_timeout or
// session_rejected it is the user intent that reconnects.
func (c *Client) StartTurn() error {
	if !c.Connected() {
		c.sc.Redial()
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
		for d := time.Duration(0); d < c.o.TrailingSilence; d += 100 * time.Millisecond {
			if err := c.AppendAudio(c.silence); err != nil {
				return err
			}
		}
		return nil
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
	if !c.Connected() {
		c.dropped.Add(1)
		return backend.ErrNotConnected
	}
	c.upMu.Lock()
	defer c.upMu.Unlock()
	if c.holding {
		n := min(len(pcm), cap(c.pend)-len(c.pend))
		c.pend = append(c.pend, pcm[:n]...)
		if n < len(pcm) {
			c.dropped.Add(1)
			return backend.ErrDropped
		}
		return nil
	}
	return c.appendLocked(pcm)
}

// appendLocked frames pcm as stream_audio into a free buffer and queues it.
func (c *Client) appendLocked(pcm []int16) error {
	b := c.sc.AudioBuf()
	if b == nil {
		c.dropped.Add(1)
		return backend.ErrDropped
	}
	m := sio.AppendEventHead(b.B[:0], Namespace, -1, "stream_audio")
	m = append(m, `,{"audio":"`...)
	m, c.upScratch = backend.AppendBase64PCM(m, c.upScratch, pcm)
	b.B = append(m, `"}]`...)
	if !c.sc.SendAudio(b) {
		c.dropped.Add(1)
		return backend.ErrDropped
	}
	return nil
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

// handler is the sio.Handler side of Client.
type handler Client

func (h *handler) Connecting() {
	(*Client)(h).emit(backend.Event{Kind: backend.Connecting})
}

func (h *handler) Open() error { return nil } // the auth object went with CONNECT

func (h *handler) Closed(err error, retryIn time.Duration) {
	c := (*Client)(h)
	c.live.Store(false)
	c.release(false)
	c.mu.Lock()
	c.stopAcksLocked()
	c.voiceOn = false
	c.playing, c.cutMsg = "", ""
	c.mu.Unlock()
	c.curMsg, c.heard = "", false
	if c.ctx.Err() != nil {
		return
	}
	var be backend.Classified
	if errors.As(err, &be) && (be.Fatal() || be.Kind() == backend.KindTimeout || be.Kind() == backend.KindSession) {
		c.emit(backend.Event{Kind: backend.Fatal, Err: err, RetryIn: retryIn})
		return
	}
	c.emit(backend.Event{Kind: backend.Disconnected, Err: err, RetryIn: retryIn})
}

func (h *handler) Packet(p sio.Packet) error {
	c := (*Client)(h)
	switch p.Type {
	case sio.TypeAck:
		c.mu.Lock()
		name := c.acks[p.ID].name
		c.dropAckLocked(p.ID)
		c.mu.Unlock()
		if name == "start_voice" {
			c.release(true)
		}
		return nil
	case sio.TypeEvent:
	default:
		return nil
	}
	name, arg, err := sio.SplitEvent(p.Data)
	if err != nil {
		c.log.Warn("estuary: bad event", "err", err)
		return nil
	}
	if string(name) == "bot_voice" { // the audio fast path: no encoding/json
		c.voice(arg)
		return nil
	}
	return c.event(string(name), arg)
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
		c.emit(backend.Event{Kind: backend.ReplyDone, ReplyID: c.curMsg})
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
	c.emit(backend.Event{Kind: backend.ReplyStarted, ReplyID: id})
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
		c.live.Store(true)
		c.sc.Ready()
		c.emit(backend.Event{Kind: backend.Connected, SessionID: s.SessionID})
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
		c.emit(backend.Event{Kind: backend.ControlAck, Action: backend.ActionStartListening})
	case "voice_stopped":
		c.mu.Lock()
		c.voiceOn = false
		c.mu.Unlock()
		c.emit(backend.Event{Kind: backend.ControlAck, Action: backend.ActionStopListening})
	case "voice_error":
		var e errorMsg
		dec(&e)
		c.mu.Lock()
		c.stopAcksLocked() // the command it answers has failed
		c.mu.Unlock()
		c.release(false)
		c.emit(backend.Event{Kind: backend.Error, Err: &Error{Event: name, Message: e.text(), kind: backend.KindAudio}})
	case "stt_response":
		var s sttResponse
		if !dec(&s) {
			return nil
		}
		if !c.heard {
			c.heard = true
			c.emit(backend.Event{Kind: backend.SpeechStarted})
		}
		c.emit(backend.Event{Kind: backend.Transcript, Role: backend.User, Text: s.Text, Final: s.IsFinal})
		if s.IsFinal {
			c.heard = false
			c.emit(backend.Event{Kind: backend.SpeechStopped})
			c.emit(backend.Event{Kind: backend.Committed})
		}
	case "bot_response":
		var b botResponse
		if !dec(&b) || c.cut([]byte(b.MessageID)) {
			return nil
		}
		if b.MessageID != "" && b.MessageID != c.curMsg {
			c.newReply(b.MessageID)
		}
		c.emit(backend.Event{Kind: backend.Transcript, Role: backend.Assistant, ReplyID: c.curMsg, Text: b.Text, Final: b.IsFinal})
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
		c.emit(backend.Event{Kind: backend.Interrupted, ReplyID: id})
	case "error":
		var e errorMsg
		dec(&e)
		c.emit(backend.Event{Kind: backend.Error, Err: &Error{Event: name, Message: e.text()}})
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
		c.emit(backend.Event{Kind: backend.Error, Err: &Error{Event: name, Message: "idle " + string(sio.Field(arg, "idle_seconds")) + " s", kind: backend.KindTimeout}})
	}
	return nil
}
