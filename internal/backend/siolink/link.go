package siolink

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/sio"
)

// Protocol is what a service adds to a Link. Its methods run on the reader
// goroutine (Client.Run's), one at a time.
type Protocol interface {
	// Audio handles one reply audio event (Options.AudioEvent); arg is
	// valid during the call only.
	Audio(arg []byte)
	// Event handles any other event of the namespace. An error drops the
	// link (a *sio.StopError holds reconnecting).
	Event(name string, arg []byte) error
	// Ack handles the answer to an event sent with an ack id.
	Ack(id int)
	// Reset forgets what belonged to the link that is gone.
	Reset()
}

// Tuning is the part of a Socket.IO backend's options that is not the
// service's: buffers, transport and backoff. The backends embed it in their
// Options; zero values take the defaults of sio.ClientOptions.
type Tuning struct {
	EventBuffer int // Events capacity (default 256)
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

// Options configure a Link.
type Options struct {
	Name       string // the service, prefix of log messages: "estuary"
	AudioEvent string // the event of reply audio: "bot_voice"
	InputRate  int    // rate of uplink audio, for Silence
	Logger     *slog.Logger
	// Fatal says whether a service error that ended a link is reported as
	// backend.Fatal; nil uses its Fatal method.
	Fatal func(backend.Classified) bool
	Tuning
}

// Link is the service-independent side of a Socket.IO backend. The
// embedded sio.Client sends, redials and drops the link.
type Link struct {
	*sio.Client
	o       Options
	p       Protocol
	log     *slog.Logger
	events  chan backend.Event
	ctx     context.Context // Run's; Background before it
	silence []int16         // 100 ms

	live    atomic.Bool // the service said the session is up, on this link
	dropped atomic.Uint64

	upMu      sync.Mutex // guards following fields
	upScratch []byte

	mu     sync.Mutex // guards following fields
	closed bool       // events is closed
}

// New returns a Link that keeps the service of so connected and hands its
// events to p; o's Tuning and Logger override so's.
func New(o Options, so sio.ClientOptions, p Protocol) (*Link, error) {
	if o.EventBuffer <= 0 {
		o.EventBuffer = 256
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Fatal == nil {
		o.Fatal = backend.Classified.Fatal
	}
	l := &Link{o: o, p: p, log: o.Logger, events: make(chan backend.Event, o.EventBuffer), ctx: context.Background(), silence: make([]int16, o.InputRate/10)}
	t := o.Tuning
	so.Logger, so.SetupTimeout, so.Dialer, so.Header = o.Logger, t.SetupTimeout, t.Dialer, t.Header
	so.BackoffMin, so.BackoffMax, so.StableAfter = t.BackoffMin, t.BackoffMax, t.StableAfter
	so.AudioSlots, so.Rand = t.AudioSlots, t.Rand
	var err error
	if l.Client, err = sio.NewClient(so, l); err != nil {
		return nil, err
	}
	return l, nil
}

// Events delivers what the service reports; Run closes it.
func (l *Link) Events() <-chan backend.Event { return l.events }

// Connected reports whether a session is live.
func (l *Link) Connected() bool { return l.live.Load() && l.Client.Connected() }

// Dropped counts audio chunks not sent because the socket was behind or down.
func (l *Link) Dropped() uint64 { return l.dropped.Load() }

// Run keeps the service connected until ctx is done, then resets the
// protocol and closes Events.
func (l *Link) Run(ctx context.Context) error {
	l.ctx = ctx
	err := l.Client.Run(ctx)
	// Reset again on Run's goroutine, which was the reader's: a command
	// sent while the last link closed may have set an ack timer since.
	l.p.Reset()
	l.mu.Lock()
	l.closed = true
	close(l.events)
	l.mu.Unlock()
	return err
}

// Live marks the session of this link up: Connected is true from now on,
// and the backoff counts it as established.
func (l *Link) Live() {
	l.live.Store(true)
	l.Client.Ready()
}

// Emit delivers an event from the reader goroutine, waiting for room.
func (l *Link) Emit(ev backend.Event) {
	select {
	case l.events <- ev:
	case <-l.ctx.Done():
	}
}

// EmitAsync delivers an event from another goroutine (a timer); it drops
// it rather than wait.
func (l *Link) EmitAsync(ev backend.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	select {
	case l.events <- ev:
	default:
		l.log.Warn(l.o.Name+": event dropped, consumer behind", "kind", ev.Kind)
	}
}

// CountDrop counts an audio chunk dropped by the backend itself.
func (l *Link) CountDrop() { l.dropped.Add(1) }

// CheckLive returns backend.ErrNotConnected, counting the chunk dropped,
// when no session is live.
func (l *Link) CheckLive() error {
	if !l.Connected() {
		l.dropped.Add(1)
		return backend.ErrNotConnected
	}
	return nil
}

// SendPCM frames pcm as event {"audio":"<base64>"...} into a free
// buffer and queues it, without allocating; tail closes the object and the
// array after the audio string (`"}]`). Audio the socket cannot take is
// dropped and counted.
func (l *Link) SendPCM(event string, pcm []int16, tail string) error {
	b := l.Client.AudioBuf()
	if b == nil {
		l.dropped.Add(1)
		return backend.ErrDropped
	}
	l.upMu.Lock()
	m := sio.AppendEventHead(b.B[:0], l.Client.Namespace(), -1, event)
	m = append(m, `,{"audio":"`...)
	m, l.upScratch = backend.AppendBase64PCM(m, l.upScratch, pcm)
	b.B = append(m, tail...)
	l.upMu.Unlock()
	if !l.Client.SendAudio(b) {
		l.dropped.Add(1)
		return backend.ErrDropped
	}
	return nil
}

// Silence streams d of silence through appendAudio, 100 ms at a time: the
// services' endpointing waits for the quiet after speech, and voiced sends
// only speech.
func (l *Link) Silence(d time.Duration, appendAudio func([]int16) error) error {
	for t := time.Duration(0); t < d; t += 100 * time.Millisecond {
		if err := appendAudio(l.silence); err != nil {
			return err
		}
	}
	return nil
}

// Connecting implements sio.Handler.
func (l *Link) Connecting() { l.Emit(backend.Event{Kind: backend.Connecting}) }

// Open implements sio.Handler: the services set the session up in answer
// to the join, or to an event that follows it.
func (l *Link) Open() error { return nil }

// Closed implements sio.Handler.
func (l *Link) Closed(err error, retryIn time.Duration) {
	l.live.Store(false)
	l.p.Reset()
	if l.ctx.Err() != nil {
		return
	}
	var be backend.Classified
	if errors.As(err, &be) && l.o.Fatal(be) {
		l.Emit(backend.Event{Kind: backend.Fatal, Err: err, RetryIn: retryIn})
		return
	}
	l.Emit(backend.Event{Kind: backend.Disconnected, Err: err, RetryIn: retryIn})
}

// Packet implements sio.Handler.
func (l *Link) Packet(p sio.Packet) error {
	switch p.Type {
	case sio.TypeAck:
		l.p.Ack(p.ID)
		return nil
	case sio.TypeEvent:
	default:
		return nil
	}
	name, arg, err := sio.SplitEvent(p.Data)
	if err != nil {
		l.log.Warn(l.o.Name+": bad event", "err", err)
		return nil
	}
	if string(name) == l.o.AudioEvent { // the audio fast path: no encoding/json
		l.p.Audio(arg)
		return nil
	}
	return l.p.Event(string(name), arg)
}
