package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/voiced-project/voiced/internal/ratelog"
)

// AudioSink receives decoded output audio on the reader goroutine. pcm is
// 24 kHz (or the session's output rate) mono PCM16 and is only valid
// during the call: copy it, do not keep it. It must not block.
type AudioSink func(itemID string, pcm []int16)

// Clock is the time source for backoff and session rollover.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options configure a Client. URL and either a Profile or the defaults of
// Custom are needed; everything else has a default.
type Options struct {
	URL     string
	Profile Profile // selects the auth header; "" is OpenAI
	Dialect Dialect
	APIKey  string
	Header  http.Header // extra upgrade headers
	Session Session
	Logger  *slog.Logger
	// Audio receives output audio deltas; nil delivers them as *AudioDelta
	// events instead (allocating, for tests and tools).
	Audio AudioSink
	Tools *Tools
	// OnDemand connects only between Dial and Hangup (connection policy
	// on_demand); otherwise Run keeps a connection up all the time.
	OnDemand bool
	// OnWritten, if set, is called on the writer goroutine after each client event has
	// been written to the socket, with its type and size (latency and byte metrics). It
	// must not block.
	OnWritten func(typ string, bytes int)
	// OnAudioWritten, if set, is called on the writer goroutine after an append made
	// by AppendAudioAt has been written to the socket, with the time since its audio
	// was captured: the uplink latency the daemon adds. It must not block.
	OnAudioWritten func(sinceCapture time.Duration)
	// ToolTimeout bounds a tool call without its own timeout (default 10 s).
	ToolTimeout time.Duration

	EventBuffer int // Events channel capacity (default 256)
	AudioSlots  int // append messages that may wait for the socket (default 64)
	// MaxMessageSize is the largest server message read (default
	// DefaultMaxMessageSize); a larger one is refused from its frame header,
	// before any of it is buffered, and ends the connection. It is raised
	// for a connection whose session.update needs more (see serve).
	MaxMessageSize int64
	DialTimeout    time.Duration
	PingInterval   time.Duration // default 15 s
	PongWait       time.Duration // read deadline, extended by pongs and messages (default 2×PingInterval)
	WriteTimeout   time.Duration // default 10 s

	BackoffMin time.Duration // default 100 ms
	// BackoffMax caps the wait (default 10 s): a server that closes every
	// connection at once gets at most 18 attempts in its first minute and
	// one per 5-10 s after; one back from a short outage is reached within
	// a few seconds, from a long one within 10 s.
	BackoffMax time.Duration
	// StableAfter is how long a connection must stay up for the backoff to
	// start again from BackoffMin (default 30 s). Whatever the server said
	// first (session.created, then session_expired or an oversize frame),
	// a connection that ends sooner counts as a failed attempt.
	StableAfter time.Duration
	// FatalRetry is the wait after a fatal error (bad key, no quota);
	// default 10 min. Negative makes Run return the fatal error instead.
	FatalRetry time.Duration
	// RolloverLead is how long before expires_at a new session is opened
	// (default 60 s, at most a fifth of the session's life).
	RolloverLead time.Duration
	// RolloverIdle is how long audio must have been quiet for a rollover
	// not to cut the user off (default 2 s).
	RolloverIdle time.Duration
	// TurnHold is how much of a user turn is kept until the server answers
	// it, to send again when a rollover cuts the turn (default 20 s;
	// negative keeps none).
	TurnHold     time.Duration
	HistoryTurns int // turns replayed into a new session (default 16)
	HistoryChars int // and at most this much text (default 8000)

	Clock  Clock
	Rand   func() float64 // jitter source in [0,1)
	Dialer *websocket.Dialer
}

// Stats are counters for metrics.
type Stats struct {
	AudioQueued   uint64 // samples handed to the socket writer
	AudioDropped  uint64 // AppendAudio calls dropped (not connected or behind)
	AudioReceived uint64 // samples received in audio deltas
	UnknownEvents uint64
	BadEvents     uint64 // messages that could not be decoded
	Reconnects    uint64
	Rollovers     uint64
	BytesSent     uint64 // WebSocket message payload written
	BytesReceived uint64 // and read
}

// Errors of the send methods.
var (
	ErrNotConnected = errors.New("realtime: not connected")
	ErrDropped      = errors.New("realtime: socket behind, audio dropped")
	ErrQueueFull    = errors.New("realtime: send queue full")
	// ErrHangup is the Disconnected error after Hangup.
	ErrHangup   = errors.New("realtime: hung up")
	errRollover = errors.New("realtime: session rollover")
)

// FatalError is a failure that retrying soon will not fix.
type FatalError struct {
	Status  int    // HTTP status of a refused upgrade, 0 for a server error event
	Code    string // invalid_api_key, insufficient_quota, ...
	Message string
}

func (e *FatalError) Error() string {
	var what string
	switch {
	case e.Code == CodeInvalidAPIKey || e.Status == http.StatusUnauthorized:
		what = "the API key was rejected"
	case e.Code == CodeInsufficientQuota:
		what = "the account has no quota left"
	case e.Status == http.StatusForbidden:
		what = "access was refused"
	case e.Code == CodeBetaAPIShapeDisabled:
		what = "the server does not speak the beta dialect"
	default:
		what = "the server refused the session"
	}
	s := "realtime: " + what
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

type audioBuf struct{ msg, scratch []byte }

type outMsg struct {
	data  []byte
	typ   string    // the event type, for OnWritten
	audio *audioBuf // returned to the free list once written
	// captured is when the newest sample of an append was captured, unix
	// nanoseconds (AppendAudioAt); 0 when unknown.
	captured int64
}

// respCalls tracks the tool calls of one response: response.create goes
// out when the response is done and every call has answered.
type respCalls struct {
	pending int
	done    bool
}

// minSessionLife is the shortest session whose expiry is rolled over;
// a shorter one is a disconnection with backoff, so a server expiring every
// session at once cannot make the client loop.
const minSessionLife = time.Second

// DefaultMaxMessageSize is the default read limit. The largest messages a
// server sends are audio deltas and echoes of what voiced sent. A delta
// carries a fraction of a second of audio (the sim's 50 ms): a whole second
// of 24 kHz PCM16 is 64 KB of base64, and even 2 s at 48 kHz is 256 KB. The
// echoes (session.created and session.updated carry the instructions and
// tools) get room of their own per connection. 512 KiB is ample for both
// and keeps a hostile or broken server from making voiced hold megabytes.
const DefaultMaxMessageSize = 512 << 10

// maxURLInText bounds the URL (or host) quoted in errors and logs.
const maxURLInText = 200

// controlHeadroom keeps room in the send queue for control events when
// audio has filled it.
const controlHeadroom = 32

// Client is a Realtime protocol client. Create it with New, start it with
// Run, call the send methods from any goroutine.
type Client struct {
	opts    Options
	log     *slog.Logger
	clock   Clock
	dialer  *websocket.Dialer
	events  chan Event
	sendq   chan outMsg
	free    chan *audioBuf
	running atomic.Bool

	fallbackLogged atomic.Bool // the gorilla reader was used and said so

	wanted     atomic.Bool   // OnDemand: Dial called, Hangup not since
	kick       chan struct{} // 1-buffered: Dial or Hangup happened
	connected  atomic.Bool
	lastAppend atomic.Int64 // unix nanoseconds

	audioQueued, audioDropped, audioReceived atomic.Uint64
	unknown, bad, reconnects, rollovers      atomic.Uint64
	bytesSent, bytesReceived                 atomic.Uint64

	toolWG sync.WaitGroup // tool calls of the current connection
	hold   *turnHold

	mu         sync.Mutex // guards following fields
	session    Session
	hist       history
	activeResp string
	calls      map[string]*respCalls

	// Owned by the reader goroutine.
	rbuf     []byte
	b64      []byte
	pcm      []int16
	lastItem string
}

// New checks the options and returns a Client.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("realtime: url %q: %w", ratelog.Clip(o.URL, maxURLInText), err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("realtime: url %q: want a ws:// or wss:// URL", ratelog.Clip(o.URL, maxURLInText))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("realtime: url %q: no host", ratelog.Clip(o.URL, maxURLInText))
	}
	o.URL = u.String()
	if o.Profile == "" {
		o.Profile = OpenAI
	}
	if _, err := ParseProfile(string(o.Profile)); err != nil {
		return nil, err
	}
	if err := o.Session.Validate(); err != nil {
		return nil, err
	}
	def := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&o.ToolTimeout, 10*time.Second)
	def(&o.DialTimeout, 15*time.Second)
	def(&o.PingInterval, 15*time.Second)
	def(&o.PongWait, 2*o.PingInterval)
	def(&o.WriteTimeout, 10*time.Second)
	def(&o.BackoffMin, 100*time.Millisecond)
	def(&o.BackoffMax, 10*time.Second)
	def(&o.StableAfter, 30*time.Second)
	def(&o.RolloverLead, time.Minute)
	def(&o.RolloverIdle, 2*time.Second)
	if o.TurnHold == 0 {
		o.TurnHold = 20 * time.Second
	}
	if o.FatalRetry == 0 {
		o.FatalRetry = 10 * time.Minute
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = 256
	}
	if o.AudioSlots <= 0 {
		o.AudioSlots = 64
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.HistoryTurns <= 0 {
		o.HistoryTurns = 16
	}
	if o.HistoryChars <= 0 {
		o.HistoryChars = 8000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	// A server can repeat a failure thousands of times a second; the
	// caller's throttle, when it has one, is shared rather than doubled.
	o.Logger = ratelog.Wrap(o.Logger, ratelog.Options{})
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	d := &websocket.Dialer{Proxy: http.ProxyFromEnvironment, ReadBufferSize: 32 << 10, WriteBufferSize: 16 << 10}
	if o.Dialer != nil {
		dc := *o.Dialer // each dial works on a copy: the caller's is not changed
		d = &dc
	}
	c := &Client{
		opts: o, log: o.Logger, clock: o.Clock, dialer: d,
		events:  make(chan Event, o.EventBuffer),
		kick:    make(chan struct{}, 1),
		sendq:   make(chan outMsg, o.AudioSlots+controlHeadroom),
		free:    make(chan *audioBuf, o.AudioSlots),
		session: o.Session,
		hist:    history{maxTurns: o.HistoryTurns, maxChars: o.HistoryChars},
		calls:   map[string]*respCalls{},
		hold:    newTurnHold(o.TurnHold, rateOr24k(o.Session.InputRate)),
	}
	for range o.AudioSlots {
		c.free <- &audioBuf{}
	}
	return c, nil
}

// Events delivers server events and connection state changes. It is
// closed when Run returns. The caller must keep reading it.
func (c *Client) Events() <-chan Event { return c.events }

// Connected reports whether a socket is open.
func (c *Client) Connected() bool { return c.connected.Load() }

// Stats returns the counters.
func (c *Client) Stats() Stats {
	return Stats{
		AudioQueued: c.audioQueued.Load(), AudioDropped: c.audioDropped.Load(),
		AudioReceived: c.audioReceived.Load(), UnknownEvents: c.unknown.Load(),
		BadEvents: c.bad.Load(), Reconnects: c.reconnects.Load(), Rollovers: c.rollovers.Load(),
		BytesSent: c.bytesSent.Load(), BytesReceived: c.bytesReceived.Load(),
	}
}

// Run connects and keeps the client connected until ctx is done; it
// returns ctx's error, or a *FatalError when FatalRetry is negative.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("realtime: Run called twice")
	}
	defer close(c.events)
	attempt := 0
	rollover := false
	for {
		if c.opts.OnDemand && !c.wanted.Load() {
			attempt, rollover = 0, false
			if !c.waitDial(ctx) {
				return ctx.Err()
			}
		}
		if !rollover {
			c.emit(ctx, &Connecting{Attempt: attempt + 1, URL: c.opts.URL})
		}
		started := c.clock.Now()
		c.hold.setRolling(rollover)
		conn, dl, skew, err := c.dial(ctx)
		stable := false
		if err == nil {
			up := c.clock.Now()
			_, err = c.serve(ctx, conn, dl, rollover, skew)
			// Only a connection that stayed up a while shows the server
			// is well: one closed soon, however politely it began
			// (session.created), keeps the backoff growing.
			if stable = c.clock.Now().Sub(up) >= c.opts.StableAfter; stable {
				attempt = 0
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rollover = false
		if errors.Is(err, ErrHangup) {
			c.emit(ctx, &Disconnected{Err: ErrHangup})
			continue
		}
		// An expiry (ours before expires_at, or the server's
		// session_expired) is a rollover however short the session was:
		// Yandex's last 5 min, a test server's 5 s, and a disconnection
		// would drop the turn under way. Only a session gone within
		// minSessionLife is treated as a broken server (backoff, not a loop);
		// an abrupt close never reaches here (it is not errRollover).
		if errors.Is(err, errRollover) && c.clock.Now().Sub(started) >= minSessionLife {
			rollover = true
			c.rollovers.Add(1)
			c.log.Info("realtime session rollover")
			continue
		}
		if errors.Is(err, errRollover) {
			err = fmt.Errorf("realtime: the server ended the session after only %v", c.clock.Now().Sub(started).Round(time.Millisecond))
		}
		if fe := (*FatalError)(nil); errors.As(err, &fe) {
			c.log.Error("realtime fatal error", "err", err, "retry_in", c.opts.FatalRetry)
			if c.opts.FatalRetry < 0 {
				c.emit(ctx, &Fatal{Err: err})
				return err
			}
			c.emit(ctx, &Fatal{Err: err, RetryIn: c.opts.FatalRetry})
			if !c.sleep(ctx, c.opts.FatalRetry) {
				return ctx.Err()
			}
			continue
		}
		d := c.backoff(attempt)
		if ra := (*retryAfterError)(nil); errors.As(err, &ra) {
			d = max(d, ra.wait)
		}
		c.log.Warn("realtime disconnected", "err", err, "attempt", attempt+1, "retry_in", d)
		attempt++
		c.reconnects.Add(1)
		c.emit(ctx, &Disconnected{Err: err, RetryIn: d})
		if !c.sleep(ctx, d) {
			return ctx.Err()
		}
	}
}

// backoff is exponential from BackoffMin, capped at BackoffMax, with
// "equal jitter": half fixed, so it never becomes a tight loop, and half
// random, so many devices do not reconnect in step.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.opts.BackoffMin << min(attempt, 30)
	if d > c.opts.BackoffMax || d <= 0 {
		d = c.opts.BackoffMax
	}
	return d/2 + time.Duration(c.opts.Rand()*float64(d/2))
}

// sleep waits d; a Hangup ends the wait early. It returns false when ctx
// is done.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	t := c.clock.After(d)
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t:
			return true
		case <-c.kick:
			if c.opts.OnDemand && !c.wanted.Load() {
				return true
			}
		}
	}
}

// waitDial waits for Dial; false when ctx is done.
func (c *Client) waitDial(ctx context.Context) bool {
	for !c.wanted.Load() {
		select {
		case <-ctx.Done():
			return false
		case <-c.kick:
		}
	}
	return true
}

// Dial asks an OnDemand client to connect; it returns at once, the outcome
// comes as events. Without OnDemand the client is always connecting.
func (c *Client) Dial() {
	c.wanted.Store(true)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Hangup closes an OnDemand client's connection (or stops its retries)
// until the next Dial; a Disconnected event with ErrHangup follows. The
// conversation's history is kept and replayed on the next connection.
func (c *Client) Hangup() {
	c.wanted.Store(false)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *Client) emit(ctx context.Context, ev Event) {
	select {
	case c.events <- ev:
	case <-ctx.Done():
	}
}
