package selam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/sio"
)

// DefaultURL is SelamGPT's service.
const DefaultURL = "https://api.selamgpt.com"

// Namespace carries every event of the Voice Agent.
const Namespace = "/v1/audio/agent"

// InputRate is the microphone rate the service wants.
const InputRate = 16000

// Languages the agent speaks; "" detects the language.
var Languages = []string{"en", "am", "so", "ti", "om"}

// Options configure a Client.
type Options struct {
	URL          string // default DefaultURL
	APIKey       string
	Token        string // JWT, sent when set
	Voice        string // e.g. mekdes; required
	Language     string // one of Languages, or "" to detect
	Instructions string
	// VADThreshold and InterruptThreshold are sent when not 0 (the
	// service's defaults are 600 and 8).
	VADThreshold       int
	InterruptThreshold int
	// PCMRate is the rate of reply audio that comes as raw PCM without a
	// sample_rate field (default 24000).
	PCMRate int
	// TrailingSilence is what EndTurn streams (default 600 ms).
	TrailingSilence time.Duration
	// Audio receives reply audio; required.
	Audio  backend.AudioSink
	Logger *slog.Logger

	EventBuffer int           // Events capacity (default 256)
	AckTimeout  time.Duration // control_ack wait (default 5 s)
	FatalRetry  time.Duration // wait after a fatal error (default 10 min)
	// SetupTimeout bounds the wait for the session after the join (default 10 s).
	SetupTimeout time.Duration
	Dialer       *websocket.Dialer
	Header       http.Header
	BackoffMin   time.Duration
	BackoffMax   time.Duration
	StableAfter  time.Duration // see sio.ClientOptions (default 30 s)
	AudioSlots   int
	Rand         func() float64
}

// Error types of the guide's taxonomy.
const (
	TypeAuthentication = "authentication_error"
	TypeAuthorization  = "authorization_error"
	TypeValidation     = "validation_error"
	TypeSession        = "session_error"
	TypeAudio          = "audio_error"
)

// Error is an error the service reported, in plain words.
type Error struct {
	Type    string // one of the Type constants, or what the server sent
	Code    string
	Message string
}

// Kind classifies the error.
func (e *Error) Kind() backend.ErrorKind {
	switch e.Type {
	case TypeAuthentication:
		return backend.KindAuth
	case TypeAuthorization:
		return backend.KindPermission
	case TypeValidation:
		return backend.KindInvalid
	case TypeSession:
		return backend.KindSession
	case TypeAudio:
		return backend.KindAudio
	}
	return backend.KindOther
}

// Fatal reports whether retrying soon is pointless.
func (e *Error) Fatal() bool { return e.Type == TypeAuthentication || e.Type == TypeAuthorization }

func (e *Error) Error() string {
	var what string
	switch e.Type {
	case TypeAuthentication:
		what = "the API key (or token) was rejected; check the credentials"
	case TypeAuthorization:
		what = "this account may not use the Voice Agent (it needs the OWNER tier)"
	case TypeValidation:
		what = "a setting or the audio format was not accepted"
	case TypeSession:
		what = "the session was lost or could not be created; starting a new one"
	case TypeAudio:
		what = "the service could not process the audio"
	default:
		what = "the service reported an error"
		if e.Type != "" {
			what += " (" + e.Type + ")"
		}
	}
	s := "selam: " + what
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// AckError is a control action the service did not acknowledge as executed.
type AckError struct {
	Action backend.Action
	Status string // "" when no control_ack came in time
}

// Kind classifies the error.
func (e *AckError) Kind() backend.ErrorKind { return backend.KindSession }

// Fatal is false: the session goes on.
func (e *AckError) Fatal() bool { return false }

func (e *AckError) Error() string {
	if e.Status == "" {
		return fmt.Sprintf("selam: control %s was not acknowledged in time", e.Action)
	}
	return fmt.Sprintf("selam: control %s was answered %q, not executed", e.Action, e.Status)
}

// Client is a SelamGPT Voice Agent client. Create it with New, start it
// with Run.
type Client struct {
	o      Options
	sc     *sio.Client
	log    *slog.Logger
	events chan backend.Event
	ctx    context.Context
	setup  []byte // start_session

	live     atomic.Bool // session_started seen on this link
	dropping atomic.Bool // interrupted: drop audio until the next turn
	replying atomic.Bool
	dropped  atomic.Uint64

	upMu      sync.Mutex // guards following fields: AppendAudio and EndTurn may race
	upScratch []byte
	silence   []int16

	// Owned by the reader (handler methods).
	scratch []byte
	pcm     []int16
	stereo  []byte
	nReply  int
	reply   string // id of the reply under way, "" between replies
	text    []byte // its text so far
	chunks  int
	heard   bool
	sid     string
	// format of reply audio on this link, from its first chunk
	format      Format
	formatKnown bool

	mu     sync.Mutex // guards following fields
	closed bool
	acks   map[backend.Action][]*time.Timer
}

// New checks the options and returns a Client.
func New(o Options) (*Client, error) {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	switch {
	case o.APIKey == "":
		return nil, errors.New("selam: api_key is empty")
	case o.Voice == "":
		return nil, errors.New("selam: voice is empty")
	case o.Audio == nil:
		return nil, errors.New("selam: no audio sink")
	}
	if o.Language != "" && !validLanguage(o.Language) {
		return nil, fmt.Errorf("selam: language %q: want one of %v, or empty to detect", o.Language, Languages)
	}
	if o.VADThreshold < 0 || o.VADThreshold > 32767 {
		return nil, fmt.Errorf("selam: vad_threshold %d: want 0 to 32767", o.VADThreshold)
	}
	if o.InterruptThreshold < 0 || o.InterruptThreshold > 100 {
		return nil, fmt.Errorf("selam: interrupt_threshold %d: want 0 to 100", o.InterruptThreshold)
	}
	if o.PCMRate == 0 {
		o.PCMRate = 24000
	}
	if o.PCMRate < 8000 || o.PCMRate > 48000 {
		return nil, fmt.Errorf("selam: pcm rate %d: want 8000 to 48000 Hz", o.PCMRate)
	}
	if o.TrailingSilence <= 0 {
		o.TrailingSilence = 600 * time.Millisecond
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = 256
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 5 * time.Second
	}
	if o.FatalRetry <= 0 {
		o.FatalRetry = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := map[string]any{"voice": o.Voice}
	if o.Language != "" {
		s["language"] = o.Language
	}
	if o.Instructions != "" {
		s["instructions"] = o.Instructions
	}
	if o.VADThreshold != 0 {
		s["vad_threshold"] = o.VADThreshold
	}
	if o.InterruptThreshold != 0 {
		s["interrupt_threshold"] = o.InterruptThreshold
	}
	setup, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	q := url.Values{"api_key": {o.APIKey}, "voice": {o.Voice}}
	if o.Token != "" {
		q.Set("token", o.Token)
	}
	c := &Client{o: o, log: o.Logger, events: make(chan backend.Event, o.EventBuffer),
		setup: sio.AppendEvent(nil, Namespace, -1, "start_session", setup), acks: map[backend.Action][]*time.Timer{},
		silence: make([]int16, InputRate/10)}
	c.sc, err = sio.NewClient(sio.ClientOptions{
		URL: o.URL, Namespace: Namespace, Query: q, Header: o.Header, Dialer: o.Dialer, Logger: o.Logger,
		BackoffMin: o.BackoffMin, BackoffMax: o.BackoffMax, StableAfter: o.StableAfter, AudioSlots: o.AudioSlots, Rand: o.Rand,
		SetupTimeout: o.SetupTimeout,
		Classify:     c.classify, Goodbye: sio.AppendEvent(nil, Namespace, -1, "end_session", nil), GoodbyeAck: "session_ended",
	}, (*handler)(c))
	if err != nil {
		return nil, fmt.Errorf("selam: %w", err)
	}
	return c, nil
}

func validLanguage(l string) bool {
	for _, x := range Languages {
		if l == x {
			return true
		}
	}
	return false
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

func (c *Client) emit(ev backend.Event) {
	select {
	case c.events <- ev:
	case <-c.ctx.Done():
	}
}

func (c *Client) emitAsync(ev backend.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	select {
	case c.events <- ev:
	default:
		c.log.Warn("selam: event dropped, consumer behind", "kind", ev.Kind)
	}
}

// classify makes a refused namespace or upgrade a fatal error.
func (c *Client) classify(err error) error {
	var ce *sio.ConnectError
	if errors.As(err, &ce) {
		e := parseError(ce.Data)
		if e.Type == "" {
			// Credentials are the only thing the query carries: a refused
			// namespace means they were not accepted.
			e.Type = TypeAuthentication
		}
		if e.Message == "" {
			e.Message = ce.Message
		}
		if e.Fatal() {
			return &sio.StopError{Err: e, Wait: c.o.FatalRetry}
		}
		return e
	}
	return nil
}

// parseError reads an error payload: {type, message, code}, {error: {...}},
// {data: {...}} (a CONNECT_ERROR's) or a bare string.
func parseError(b []byte) *Error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return &Error{Message: s}
	}
	type flat struct {
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
		Data    json.RawMessage `json:"data"`
	}
	var f flat
	if json.Unmarshal(b, &f) != nil {
		return &Error{Message: string(b)}
	}
	e := &Error{Type: f.Type, Message: f.Message}
	var code string
	if json.Unmarshal(f.Code, &code) != nil {
		code = string(f.Code)
	}
	e.Code = code
	for _, inner := range []json.RawMessage{f.Error, f.Data} {
		if len(inner) == 0 || string(inner) == "null" {
			continue
		}
		if json.Unmarshal(inner, &s) == nil { // {"error": "validation_error"}
			if e.Type == "" {
				e.Type = s
			}
			continue
		}
		in := parseError(inner)
		if e.Type == "" {
			e.Type = in.Type
		}
		if e.Message == "" || e.Message == in.Type {
			e.Message = in.Message
		}
		if e.Code == "" {
			e.Code = in.Code
		}
	}
	if e.Type == "" && isType(e.Code) {
		e.Type = e.Code
	}
	return e
}

func isType(s string) bool {
	switch s {
	case TypeAuthentication, TypeAuthorization, TypeValidation, TypeSession, TypeAudio:
		return true
	}
	return false
}

// StartTurn implements backend.Backend.
func (c *Client) StartTurn() error {
	if !c.Connected() {
		c.sc.Redial()
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
	for d := time.Duration(0); d < c.o.TrailingSilence; d += 100 * time.Millisecond {
		if err := c.AppendAudio(c.silence); err != nil {
			return err
		}
	}
	return nil
}

// AppendAudio implements backend.Backend.
func (c *Client) AppendAudio(pcm []int16) error {
	if !c.Connected() {
		c.dropped.Add(1)
		return backend.ErrNotConnected
	}
	b := c.sc.AudioBuf()
	if b == nil {
		c.dropped.Add(1)
		return backend.ErrDropped
	}
	c.upMu.Lock()
	m := sio.AppendEventHead(b.B[:0], Namespace, -1, "audio_chunk")
	m = append(m, `,{"audio":"`...)
	m, c.upScratch = backend.AppendBase64PCM(m, c.upScratch, pcm)
	b.B = append(m, `","format":"pcm16","sample_rate":16000}]`...)
	c.upMu.Unlock()
	if !c.sc.SendAudio(b) {
		c.dropped.Add(1)
		return backend.ErrDropped
	}
	return nil
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
	if err := c.sc.Send(msg); err != nil {
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
		c.emitAsync(backend.Event{Kind: backend.Error, Action: a, Err: &AckError{Action: a}})
	}
}

func (c *Client) stopAcksLocked() {
	for a := range c.acks {
		for c.popAckLocked(a) {
		}
	}
}

// handler is the sio.Handler side of Client.
type handler Client

func (h *handler) Connecting() { (*Client)(h).emit(backend.Event{Kind: backend.Connecting}) }

func (h *handler) Open() error { return nil } // start_session waits for connected

func (h *handler) Closed(err error, retryIn time.Duration) {
	c := (*Client)(h)
	c.live.Store(false)
	c.replying.Store(false)
	c.dropping.Store(false)
	c.mu.Lock()
	c.stopAcksLocked()
	c.mu.Unlock()
	c.reply, c.text, c.heard = "", c.text[:0], false
	c.formatKnown = false
	if c.ctx.Err() != nil {
		return
	}
	var be backend.Classified
	if errors.As(err, &be) && be.Fatal() {
		c.emit(backend.Event{Kind: backend.Fatal, Err: err, RetryIn: retryIn})
		return
	}
	c.emit(backend.Event{Kind: backend.Disconnected, Err: err, RetryIn: retryIn})
}

func (h *handler) Packet(p sio.Packet) error {
	c := (*Client)(h)
	if p.Type != sio.TypeEvent {
		return nil
	}
	name, arg, err := sio.SplitEvent(p.Data)
	if err != nil {
		c.log.Warn("selam: bad event", "err", err)
		return nil
	}
	if string(name) == "audio_chunk" {
		c.audio(arg)
		return nil
	}
	return c.event(string(name), arg)
}

func (c *Client) startReply() {
	c.nReply++
	c.reply = "selam-" + strconv.Itoa(c.nReply)
	c.text, c.chunks = c.text[:0], 0
	c.replying.Store(true)
	c.emit(backend.Event{Kind: backend.ReplyStarted, ReplyID: c.reply})
}

func (c *Client) event(name string, arg []byte) error {
	switch name {
	case "connected":
		var m struct {
			SID string `json:"sid"`
		}
		json.Unmarshal(arg, &m)
		c.sid = m.SID
		return c.sc.Send(c.setup)
	case "session_started":
		var m struct {
			SessionID string `json:"session_id"`
		}
		json.Unmarshal(arg, &m)
		if m.SessionID == "" {
			m.SessionID = c.sid
		}
		c.live.Store(true)
		c.sc.Ready()
		c.emit(backend.Event{Kind: backend.Connected, SessionID: m.SessionID})
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
			c.emit(backend.Event{Kind: backend.SpeechStarted})
		}
		c.emit(backend.Event{Kind: backend.Transcript, Role: backend.User, Text: m.Text, Final: m.IsFinal})
		if m.IsFinal {
			c.heard = false
			c.emit(backend.Event{Kind: backend.SpeechStopped})
			c.emit(backend.Event{Kind: backend.Committed})
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
		c.emit(backend.Event{Kind: backend.Transcript, Role: backend.Assistant, ReplyID: c.reply, Text: m.Text})
	case "audio_end":
		if c.reply == "" {
			return nil
		}
		if n, err := strconv.Atoi(string(sio.Field(arg, "total_chunks"))); err == nil && n != c.chunks {
			c.log.Debug("selam: audio_end counts differ", "total_chunks", n, "received", c.chunks)
		}
		c.emit(backend.Event{Kind: backend.Transcript, Role: backend.Assistant, ReplyID: c.reply, Text: string(c.text), Final: true})
		c.emit(backend.Event{Kind: backend.ReplyDone, ReplyID: c.reply})
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
			c.emit(backend.Event{Kind: backend.Error, Action: a, Err: &AckError{Action: a, Status: m.Status}})
			return nil
		}
		if a == backend.ActionInterrupt && c.reply != "" {
			c.emit(backend.Event{Kind: backend.Interrupted, ReplyID: c.reply})
			c.reply = ""
			c.replying.Store(false)
		}
		c.emit(backend.Event{Kind: backend.ControlAck, Action: a})
	case "session_ended":
	case "error":
		e := parseError(arg)
		switch {
		case e.Fatal():
			return &sio.StopError{Err: e, Wait: c.o.FatalRetry}
		case e.Type == TypeSession:
			c.emit(backend.Event{Kind: backend.Error, Err: e})
			return e // a new link makes a new session
		}
		c.emit(backend.Event{Kind: backend.Error, Err: e})
	}
	return nil
}
