package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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

// minSessionLife is the shortest session whose expiry is rolled over
// (with StableAfter, whichever is longer).
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
		// A session that expires before it was stable is the server's
		// doing, not a rollover: a disconnection like any other, with the
		// backoff (and the uplink held meanwhile), not a loop.
		if errors.Is(err, errRollover) && stable && c.clock.Now().Sub(started) >= minSessionLife {
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

// downlink is where the reader reads frames from: the socket below gorilla
// and what gorilla read past the upgrade response. raw is nil when that
// is unknown and gorilla's own reader must be used.
type downlink struct {
	raw     net.Conn
	pending []byte
}

// dial opens the socket. skew is the server's clock minus ours, from the
// upgrade response's Date header (0 without one): a board without a
// real-time clock may be hours off, and expires_at is server time.
func (c *Client) dial(ctx context.Context) (conn *websocket.Conn, dl downlink, skew time.Duration, err error) {
	h := http.Header{}
	for k, v := range c.opts.Header {
		h[k] = slices.Clone(v)
	}
	authHeader(h, c.opts.Profile.Defaults().Auth, c.opts.APIKey, c.opts.Dialect)
	dctx, cancel := context.WithTimeout(ctx, c.opts.DialTimeout)
	defer cancel()
	hs := newHandshake(c.dialer, c.opts.URL)
	conn, resp, err := hs.dialer.DialContext(dctx, c.opts.URL, h)
	if err == nil {
		var why string
		dl.raw, dl.pending, why = hs.done(conn)
		if why != "" && !c.fallbackLogged.Swap(true) {
			c.log.Debug("realtime reads through gorilla/websocket, one allocation per message", "reason", why)
		}
		// Date has whole seconds: only a clock that is clearly off is
		// corrected, not the rounding.
		if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			if skew = t.Sub(c.clock.Now()); skew > -minSkew && skew < minSkew {
				skew = 0
			} else {
				// The server's clock is up to a second past Date: err early.
				skew += time.Second
			}
		}
		return conn, dl, skew, nil
	}
	if resp == nil {
		return nil, dl, 0, &DialError{Host: c.host(), Reason: dialReason(err, c.opts.DialTimeout), Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &eb)
	// OpenAI answers an exhausted quota with 429 insufficient_quota: as
	// fatal as a bad key.
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden ||
		eb.Error.Code == CodeInvalidAPIKey || eb.Error.Code == CodeInsufficientQuota {
		return nil, dl, 0, &FatalError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	err = &DialError{Host: c.host(), Status: resp.StatusCode, Reason: statusReason(resp.StatusCode, eb.Error.Message), Err: err}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		wait := defaultRetryAfter
		if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && secs >= 0 {
			wait = min(time.Duration(secs)*time.Second, maxRetryAfter)
		}
		return nil, dl, 0, &retryAfterError{err: err, wait: wait}
	}
	return nil, dl, 0, err
}

// drainQueue drops what was queued for a previous connection.
func (c *Client) drainQueue() {
	for {
		select {
		case m := <-c.sendq:
			if m.audio != nil {
				c.free <- m.audio
			}
		default:
			return
		}
	}
}

// sessionLocked is the session with the registry's tools added.
func (c *Client) sessionLocked() Session {
	s := c.session
	s.Tools = append(slices.Clone(s.Tools), c.opts.Tools.Defs()...)
	return s
}

// serve runs one connection until it fails, ctx is done or the session
// rolls over. established reports whether session.created was seen.
func (c *Client) serve(ctx context.Context, conn *websocket.Conn, dl downlink, rollover bool, skew time.Duration) (established bool, err error) {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c.drainQueue()

	// Pings are answered by the writer, the socket's only writer; a ping
	// that comes while a pong is pending needs no pong of its own.
	pongs := make(chan pong, 1)
	onPing := func(p []byte) {
		var m pong
		m.n = uint8(copy(m.b[:], p))
		select {
		case pongs <- m:
		default:
		}
	}
	nc := conn.NetConn()
	onPong := func() { _ = nc.SetReadDeadline(time.Now().Add(c.opts.PongWait)) }

	// session.update and the replayed history go first, in order.
	c.mu.Lock()
	sess := c.sessionLocked()
	turns := c.hist.tail()
	c.activeResp = ""
	clear(c.calls)
	c.mu.Unlock()
	first := []clientEvent{}
	su, err := sessionUpdateEvent(c.opts.Dialect, &sess)
	if err != nil {
		conn.Close()
		return false, err
	}
	first = append(first, su)
	for _, t := range turns {
		first = append(first, clientEvent{Type: typeItemCreate, Item: messageItem(c.opts.Dialect, t.role, t.text)})
	}
	replayed := 0
	limit := c.opts.MaxMessageSize
queue:
	for i, ev := range first {
		b, err := encodeEvent(ev)
		if err != nil {
			conn.Close()
			return false, err
		}
		// The server echoes these (session.updated, conversation.item.added)
		// with some fields of its own: the echo must fit.
		limit = max(limit, 2*int64(len(b))+64<<10)
		select {
		case c.sendq <- outMsg{data: b, typ: ev.Type}: // the queue was just drained
			replayed = i
		default:
			c.log.Warn("realtime history replay cut short", "turns", len(turns), "sent", replayed)
			break queue
		}
	}
	var src messageSource
	if dl.raw != nil {
		fr := newFrameReader(dl.raw, dl.pending, limit)
		fr.onPing, fr.onPong = onPing, onPong
		src = fr
	} else {
		conn.SetReadLimit(limit)
		conn.SetPingHandler(func(s string) error { onPing([]byte(s)); return nil })
		conn.SetPongHandler(func(string) error { onPong(); return nil })
		src = gorillaSource{conn}
	}
	c.connected.Store(true)

	sessions := make(chan time.Time, 1) // local expiry of the session, zero if unknown
	var wwg, rwg sync.WaitGroup
	wwg.Add(1)
	go func() {
		defer wwg.Done()
		cancel(c.writeLoop(cctx, conn, pongs))
	}()
	rwg.Add(1)
	go func() {
		defer rwg.Done()
		st := readState{rollover: rollover, replayed: replayed, sessions: sessions, skew: skew, start: c.clock.Now()}
		cancel(c.readLoop(cctx, src, nc, &st))
	}()

	var rollAt <-chan time.Time
	var hardDeadline time.Time
loop:
	for {
		select {
		case <-cctx.Done():
			break loop
		case exp := <-sessions:
			established = true
			rollAt = nil
			if !exp.IsZero() {
				life := exp.Sub(c.clock.Now())
				lead := min(c.opts.RolloverLead, life/5)
				hardDeadline = exp.Add(-lead / 4)
				rollAt = c.clock.After(max(life-lead, 0))
			}
		case <-c.kick:
			if c.opts.OnDemand && !c.wanted.Load() {
				cancel(ErrHangup)
				break loop
			}
		case <-rollAt:
			if c.idle() || !c.clock.Now().Before(hardDeadline) {
				cancel(errRollover)
				break loop
			}
			rollAt = c.clock.After(250 * time.Millisecond)
		}
	}
	c.connected.Store(false)
	wwg.Wait() // the writer sends a close frame on its way out
	conn.Close()
	rwg.Wait()
	c.toolWG.Wait()
	return established, context.Cause(cctx)
}

// idle reports whether rolling the session over now would cut nothing off.
func (c *Client) idle() bool {
	c.mu.Lock()
	busy := c.activeResp != "" || len(c.calls) > 0
	c.mu.Unlock()
	quiet := c.clock.Now().UnixNano()-c.lastAppend.Load() > int64(c.opts.RolloverIdle)
	return !busy && quiet
}

// pong is a ping's payload to echo.
type pong struct {
	n uint8
	b [maxControlPayload]byte
}

func (c *Client) writeLoop(ctx context.Context, conn *websocket.Conn, pongs <-chan pong) error {
	var fw frameWriter // data frames; gorilla writes the control frames
	ping := time.NewTicker(c.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return ctx.Err()
		case m := <-c.sendq:
			nc := conn.NetConn()
			_ = nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
			err := fw.writeText(nc, m.data)
			n := len(m.data)
			if m.audio != nil {
				c.free <- m.audio
			}
			if err != nil {
				return fmt.Errorf("write: %w", err)
			}
			c.bytesSent.Add(uint64(n))
			if c.opts.OnWritten != nil {
				c.opts.OnWritten(m.typ, n)
			}
			if m.captured != 0 && c.opts.OnAudioWritten != nil {
				c.opts.OnAudioWritten(time.Duration(time.Now().UnixNano() - m.captured))
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.opts.WriteTimeout)); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		case p := <-pongs:
			if err := conn.WriteControl(websocket.PongMessage, p.b[:p.n], time.Now().Add(c.opts.WriteTimeout)); err != nil {
				return fmt.Errorf("pong: %w", err)
			}
		}
	}
}

// Read buffers start at readBuffer; one grown past maxKeptBuffer by a
// large message (at most the read limit) is dropped after that message
// instead of being kept for the life of the client, so a burst leaves the
// heap as it found it.
const (
	readBuffer    = 64 << 10
	maxKeptBuffer = 128 << 10
)

// messageSource reads the next data message into buf[:0] (grown when
// needed) and returns its type (websocket.TextMessage or BinaryMessage).
type messageSource interface {
	next(buf []byte) (typ int, msg []byte, err error)
}

func (f *frameReader) next(buf []byte) (int, []byte, error) {
	op, msg, err := f.readMessage(buf)
	return int(op), msg, err
}

// gorillaSource reads through gorilla/websocket, which allocates a reader
// per message: the fallback when the frames gorilla buffered during the
// handshake are unknown.
type gorillaSource struct{ conn *websocket.Conn }

func (g gorillaSource) next(buf []byte) (int, []byte, error) {
	typ, r, err := g.conn.NextReader()
	if err != nil {
		return 0, buf[:0], err
	}
	msg, err := readAll(r, buf)
	return typ, msg, err
}

func (c *Client) readLoop(ctx context.Context, src messageSource, nc net.Conn, st *readState) error {
	for {
		_ = nc.SetReadDeadline(time.Now().Add(c.opts.PongWait))
		if cap(c.rbuf) == 0 {
			c.rbuf = make([]byte, 0, readBuffer)
		}
		typ, msg, err := src.next(c.rbuf)
		c.rbuf = msg[:0]
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		c.bytesReceived.Add(uint64(len(msg)))
		if typ != websocket.TextMessage {
			c.badMessage(ctx, fmt.Errorf("realtime: binary message of %d bytes ignored", len(msg)))
		} else if err := c.handle(ctx, msg, st); err != nil {
			c.trimBuffers()
			return err
		}
		c.trimBuffers()
	}
}

// trimBuffers drops the reader's buffers that a large message grew.
func (c *Client) trimBuffers() {
	if cap(c.rbuf) > maxKeptBuffer {
		c.rbuf = nil
	}
	if cap(c.b64) > maxKeptBuffer {
		c.b64 = nil
	}
	if 2*cap(c.pcm) > maxKeptBuffer {
		c.pcm = nil
	}
}

// readAll reads r to its end into buf[:0], growing it when needed.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func (c *Client) badMessage(ctx context.Context, err error) {
	n := c.bad.Add(1)
	c.log.Warn("realtime bad message", "err", err, "count", n) // throttled by the handler
	c.emit(ctx, &ProtocolError{Err: err})
}

// readState is per connection, owned by the reader.
type readState struct {
	rollover bool
	replayed int
	sessions chan<- time.Time
	skew     time.Duration // server clock minus ours
	start    time.Time     // when the connection opened
}

// A rate-limited or overloaded server is retried after its Retry-After,
// or defaultRetryAfter, at most maxRetryAfter.
const (
	defaultRetryAfter = 10 * time.Second
	maxRetryAfter     = 5 * time.Minute
)

// retryAfterError is a refusal that says when to come back.
type retryAfterError struct {
	err  error
	wait time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// minSkew is the smallest clock difference worth correcting.
const minSkew = 5 * time.Second

// maxSessionLife bounds a believable session; anything else means a
// clock is wrong.
const maxSessionLife = 24 * time.Hour

// localExpiry converts the server's expires_at to our clock. A missing or
// unbelievable value gives the profile's documented limit from the start
// of the connection, so a wrong clock cannot cause a rollover storm.
func (c *Client) localExpiry(st *readState, expiresAt int64) time.Time {
	if expiresAt <= 0 {
		return time.Time{}
	}
	exp := time.Unix(expiresAt, 0).Add(-st.skew)
	if life := exp.Sub(c.clock.Now()); life <= 0 || life > maxSessionLife {
		exp = st.start.Add(c.opts.Profile.Defaults().SessionMax)
		c.log.Warn("realtime expires_at is not believable; is the clock set?", "expires_at", expiresAt, "assumed", exp)
	}
	return exp
}

// handle dispatches one message; a non-nil error ends the connection.
func (c *Client) handle(ctx context.Context, msg []byte, st *readState) error {
	if d, ok := scanAudioDelta(msg); ok {
		pcm, b64, buf, err := decodePCM(d.delta, c.b64, c.pcm)
		c.b64, c.pcm = b64, buf
		if err != nil {
			c.badMessage(ctx, err)
			return nil
		}
		if string(d.itemID) != c.lastItem { // the comparison does not allocate
			c.lastItem = string(d.itemID)
		}
		c.audioReceived.Add(uint64(len(pcm)))
		if c.opts.Audio != nil {
			c.opts.Audio(c.lastItem, pcm)
			return nil
		}
		c.emit(ctx, &AudioDelta{Header: Header{Type: typeOutputAudioDeltaGA}, ItemID: c.lastItem, PCM: slices.Clone(pcm)})
		return nil
	}
	ev, err := DecodeEvent(msg)
	if err != nil {
		if len(msg) > 64 {
			msg = msg[:64]
		}
		c.badMessage(ctx, fmt.Errorf("realtime: message %q: %w", msg, err))
		return nil
	}
	switch e := ev.(type) {
	case *Unknown:
		c.unknown.Add(1)
		c.log.Debug("realtime unknown event", "type", e.Type)
		return nil
	case *AudioDelta: // escaped JSON the fast path left alone
		pcm, _, _, err := decodePCM([]byte(e.Delta), nil, nil)
		if err != nil {
			c.badMessage(ctx, err)
			return nil
		}
		c.audioReceived.Add(uint64(len(pcm)))
		if c.opts.Audio != nil {
			c.opts.Audio(e.ItemID, pcm)
			return nil
		}
		e.PCM = pcm
	case *SessionCreated:
		c.emit(ctx, ev)
		exp := c.localExpiry(st, e.Session.ExpiresAt)
		select {
		case st.sessions <- exp:
		default:
		}
		c.log.Info("realtime connected", "session", e.Session.ID, "expires_at", exp, "rollover", st.rollover)
		c.emit(ctx, &Connected{SessionID: e.Session.ID, Model: e.Session.Model, ExpiresAt: exp,
			Rollover: st.rollover, Replayed: st.replayed})
		return nil
	case *ServerError:
		if e.Error.Code == CodeSessionExpired {
			return errRollover
		}
		c.emit(ctx, ev)
		if e.Error.Fatal() {
			return &FatalError{Code: e.Error.Code, Message: e.Error.Message}
		}
		return nil
	case *ResponseCreated:
		c.mu.Lock()
		c.activeResp = e.Response.ID
		c.mu.Unlock()
	case *ResponseDone:
		c.emit(ctx, ev)
		c.responseDone(&e.Response)
		return nil
	case *AudioCommitted:
		c.mu.Lock()
		c.hist.add(e.ItemID, roleUser, "")
		c.mu.Unlock()
	case *InputTranscriptionCompleted:
		c.mu.Lock()
		c.hist.add(e.ItemID, roleUser, e.Transcript)
		c.mu.Unlock()
	case *FunctionCallArgumentsDone:
		c.emit(ctx, ev)
		c.startTool(ctx, e)
		return nil
	}
	c.emit(ctx, ev)
	return nil
}

func (c *Client) responseDone(r *Response) {
	c.mu.Lock()
	if c.activeResp == r.ID {
		c.activeResp = ""
	}
	for i := range r.Output {
		it := &r.Output[i]
		if it.Type == itemMessage && it.Role == roleAssistant {
			c.hist.add(it.ID, roleAssistant, it.Text())
		}
	}
	again := false
	if rc := c.calls[r.ID]; rc != nil {
		rc.done = true
		if rc.pending == 0 {
			delete(c.calls, r.ID)
			again = true
		}
	}
	c.mu.Unlock()
	if again {
		c.sendOrLog(clientEvent{Type: typeResponseCreate})
	}
}

// startTool runs a call on its own goroutine, bounded by the tool's
// timeout and the connection's life; its output, or an error object, goes
// back to the model.
func (c *Client) startTool(ctx context.Context, e *FunctionCallArgumentsDone) {
	c.mu.Lock()
	rc := c.calls[e.ResponseID]
	if rc == nil {
		rc = &respCalls{}
		c.calls[e.ResponseID] = rc
	}
	rc.pending++
	c.mu.Unlock()
	tool, ok := c.opts.Tools.Lookup(e.Name)
	c.toolWG.Add(1)
	go func() {
		defer c.toolWG.Done()
		start := c.clock.Now()
		var out string
		var err error
		if !ok {
			err = fmt.Errorf("unknown tool %q", e.Name)
		} else {
			timeout := tool.Timeout
			if timeout <= 0 {
				timeout = c.opts.ToolTimeout
			}
			tctx, cancel := context.WithTimeout(ctx, timeout)
			out, err = runTool(tctx, tool, json.RawMessage(e.Arguments))
			cancel()
		}
		if err != nil {
			c.log.Warn("realtime tool call failed", "tool", e.Name, "err", err)
		}
		output := toolOutput(out, err)
		c.sendOrLog(clientEvent{Type: typeItemCreate, Item: functionOutputItem(e.CallID, output)})
		c.emit(ctx, &ToolResult{Name: e.Name, CallID: e.CallID, Output: output, Err: err, Duration: c.clock.Now().Sub(start)})
		c.mu.Lock()
		rc.pending--
		again := rc.done && rc.pending == 0
		if again {
			delete(c.calls, e.ResponseID)
		}
		c.mu.Unlock()
		if again {
			c.sendOrLog(clientEvent{Type: typeResponseCreate})
		}
	}()
}

// runTool calls a tool, turning a panic into an error: a broken tool must
// not take the daemon down.
func runTool(ctx context.Context, t Tool, args json.RawMessage) (out string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("tool %s panicked: %v", t.Def.Name, p)
		}
	}()
	if len(args) == 0 {
		args = json.RawMessage("{}")
	}
	return t.Run(ctx, args)
}

func (c *Client) sendOrLog(ev clientEvent) {
	if err := c.send(ev); err != nil {
		c.log.Warn("realtime send", "type", ev.Type, "err", err)
	}
}

// send queues a control event; it never blocks.
func (c *Client) send(ev clientEvent) error {
	if !c.connected.Load() {
		return ErrNotConnected
	}
	b, err := encodeEvent(ev)
	if err != nil {
		return err
	}
	select {
	case c.sendq <- outMsg{data: b, typ: ev.Type}:
		return nil
	default:
		return fmt.Errorf("send %s: %w", ev.Type, ErrQueueFull)
	}
}

// AppendAudio queues 24 kHz mono PCM16 for input_audio_buffer.append. It
// never blocks and does not allocate in steady state: when the socket is
// behind (or down) the audio is dropped, counted, and ErrDropped (or
// ErrNotConnected) returned. pcm may be reused once it returns.
func (c *Client) AppendAudio(pcm []int16) error { return c.AppendAudioAt(pcm, 0) }

// AppendAudioAt is AppendAudio for audio whose newest sample was captured at
// captured (unix nanoseconds, 0 for unknown): once the append is on the socket,
// Options.OnAudioWritten hears how long that took.
func (c *Client) AppendAudioAt(pcm []int16, captured int64) error {
	if len(pcm) == 0 {
		return nil
	}
	if !c.connected.Load() {
		c.audioDropped.Add(1)
		return ErrNotConnected
	}
	if len(c.sendq) >= cap(c.sendq)-controlHeadroom {
		c.audioDropped.Add(1)
		return ErrDropped
	}
	var b *audioBuf
	select {
	case b = <-c.free:
	default:
		c.audioDropped.Add(1)
		return ErrDropped
	}
	b.msg, b.scratch = appendAudioEvent(b.msg, b.scratch, pcm)
	select {
	case c.sendq <- outMsg{data: b.msg, typ: typeAppend, audio: b, captured: captured}:
	default:
		c.free <- b
		c.audioDropped.Add(1)
		return ErrDropped
	}
	c.lastAppend.Store(c.clock.Now().UnixNano())
	c.audioQueued.Add(uint64(len(pcm)))
	return nil
}

// CommitAudio sends input_audio_buffer.commit.
func (c *Client) CommitAudio() error { return c.send(clientEvent{Type: typeCommit}) }

// ClearAudio sends input_audio_buffer.clear.
func (c *Client) ClearAudio() error { return c.send(clientEvent{Type: typeClear}) }

// CreateResponse sends response.create.
func (c *Client) CreateResponse() error { return c.send(clientEvent{Type: typeResponseCreate}) }

// CancelResponse sends response.cancel.
func (c *Client) CancelResponse() error { return c.send(clientEvent{Type: typeResponseCancel}) }

// TruncateItem sends conversation.item.truncate: audioEndMs is the audio
// the user actually heard of the item.
func (c *Client) TruncateItem(itemID string, contentIndex, audioEndMs int) error {
	if itemID == "" {
		return errors.New("realtime: truncate: item id is empty")
	}
	if contentIndex < 0 || audioEndMs < 0 {
		return fmt.Errorf("realtime: truncate %s: content index %d and audio_end_ms %d must not be negative", itemID, contentIndex, audioEndMs)
	}
	return c.send(truncateEvent(itemID, contentIndex, audioEndMs))
}

// SendText adds a user text message to the conversation (follow with
// CreateResponse for a reply).
func (c *Client) SendText(text string) error {
	if err := c.send(clientEvent{Type: typeItemCreate, Item: messageItem(c.opts.Dialect, roleUser, text)}); err != nil {
		return err
	}
	// Recorded here rather than from the server's echo, which would also
	// echo replayed history.
	c.mu.Lock()
	c.hist.add("", roleUser, text)
	c.mu.Unlock()
	return nil
}

// UpdateSession replaces the session configuration; it is sent now when
// connected and used for every later session.
func (c *Client) UpdateSession(s Session) error {
	if err := s.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	c.session = s
	full := c.sessionLocked()
	c.mu.Unlock()
	if !c.connected.Load() {
		return nil
	}
	ev, err := sessionUpdateEvent(c.opts.Dialect, &full)
	if err != nil {
		return err
	}
	return c.send(ev)
}
