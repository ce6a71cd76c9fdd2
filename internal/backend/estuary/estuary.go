package estuary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/sio"
	"github.com/voiced-project/voiced/internal/backend/siolink"
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

	AckTimeout time.Duration // for start_voice/stop_voice acks (default 10 s)
	FatalRetry time.Duration // wait after a fatal error (default 10 min)
	siolink.Tuning
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
	o    Options
	link *siolink.Link
	log  *slog.Logger

	received atomic.Uint64

	// Push-to-talk holds audio between StartTurn and start_voice's ack:
	// python-socketio may run a client's handlers concurrently, so audio
	// sent before speech-to-text is open could be lost.
	upMu     sync.Mutex // guards following fields
	holding  bool       // waiting for start_voice's ack
	pend     []int16    // audio held meanwhile, at most holdSamples
	endLater bool       // EndTurn came while holding

	// Owned by the reader (Handler methods).
	scratch     []byte
	pcm         []int16
	curMsg      string // message_id of the reply being received
	textDone    bool
	voiceDone   bool
	heard       bool // a transcript of this turn was seen
	sessionRate int

	mu      sync.Mutex // guards following fields
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
	c := &Client{o: o, log: o.Logger, acks: map[int]pending{}, sessionRate: o.OutputRate}
	c.link, err = siolink.New(siolink.Options{
		Name: "estuary", AudioEvent: "bot_voice", InputRate: InputRate, Logger: o.Logger, Tuning: o.Tuning,
		// A closed or refused session waits for the next turn too.
		Fatal: func(e backend.Classified) bool {
			return e.Fatal() || e.Kind() == backend.KindTimeout || e.Kind() == backend.KindSession
		},
	}, sio.ClientOptions{
		URL: o.URL, Namespace: Namespace, Auth: auth, Classify: c.classify,
	}, (*handler)(c))
	if err != nil {
		return nil, fmt.Errorf("estuary: %w", err)
	}
	return c, nil
}

var _ backend.Backend = (*Client)(nil)

// Events implements backend.Backend.
func (c *Client) Events() <-chan backend.Event { return c.link.Events() }

// InputRate implements backend.Backend: 16 kHz.
func (c *Client) InputRate() int { return InputRate }

// Connected reports whether a session is live.
func (c *Client) Connected() bool { return c.link.Connected() }

// Dropped counts audio chunks not sent because the socket was behind or down.
func (c *Client) Dropped() uint64 { return c.link.Dropped() }

// Run implements backend.Backend.
func (c *Client) Run(ctx context.Context) error { return c.link.Run(ctx) }

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
	if err := c.link.Send(sio.AppendEvent(nil, Namespace, id, name, a)); err != nil {
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
	c.link.EmitAsync(backend.Event{Kind: backend.Error, Err: &Error{Event: "ack_timeout", Message: p.name, kind: backend.KindSession}})
	c.link.Drop()
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
