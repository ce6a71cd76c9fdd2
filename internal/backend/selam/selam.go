package selam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/sio"
	"github.com/voiced-project/voiced/internal/backend/siolink"
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

	AckTimeout time.Duration // control_ack wait (default 5 s)
	FatalRetry time.Duration // wait after a fatal error (default 10 min)
	siolink.Tuning
}

type Client struct {
	o     Options
	link  *siolink.Link
	log   *slog.Logger
	setup []byte // start_session

	dropping atomic.Bool // interrupted: drop audio until the next turn
	replying atomic.Bool

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

	mu   sync.Mutex // guards following fields
	acks map[backend.Action][]*time.Timer
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
	c := &Client{o: o, log: o.Logger,
		setup: sio.AppendEvent(nil, Namespace, -1, "start_session", setup), acks: map[backend.Action][]*time.Timer{}}
	c.link, err = siolink.New(siolink.Options{
		Name: "selam", AudioEvent: "audio_chunk", InputRate: InputRate, Logger: o.Logger, Tuning: o.Tuning,
	}, sio.ClientOptions{
		URL: o.URL, Namespace: Namespace, Query: q, Classify: c.classify,
		Goodbye: sio.AppendEvent(nil, Namespace, -1, "end_session", nil), GoodbyeAck: "session_ended",
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
func (c *Client) Events() <-chan backend.Event { return c.link.Events() }

// InputRate implements backend.Backend: 16 kHz.
func (c *Client) InputRate() int { return InputRate }

// Connected reports whether a session is live.
func (c *Client) Connected() bool { return c.link.Connected() }

// Dropped counts audio chunks not sent because the socket was behind or down.
func (c *Client) Dropped() uint64 { return c.link.Dropped() }

// Run implements backend.Backend.
func (c *Client) Run(ctx context.Context) error { return c.link.Run(ctx) }

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
