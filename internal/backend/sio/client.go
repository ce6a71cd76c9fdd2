package sio

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
)

// Handler is the protocol side of a [Client]: it sets the session up and
// reads the packets. Its methods run on the goroutine of Client.Run, one at
// a time.
type Handler interface {
	// Connecting is called before each dial.
	Connecting()
	// Open is called once the namespace is joined; it queues the session
	// setup with Client.Send.
	Open() error
	// Packet handles one packet of the namespace; p is valid during the
	// call only. An error drops the link (a *StopError holds reconnecting).
	Packet(p Packet) error
	// Closed is called when the link is gone (or could not be made), with
	// the reason and the wait before the next dial (0: until Redial).
	Closed(err error, retryIn time.Duration)
}

// StopError ends a link and holds the next dial for Wait, or until
// [Client.Redial] when Wait is 0: for errors that a quick retry will not fix.
type StopError struct {
	Err  error
	Wait time.Duration
}

func (e *StopError) Error() string { return e.Err.Error() }
func (e *StopError) Unwrap() error { return e.Err }

// Buf is a reusable audio message buffer.
type Buf struct{ B []byte }

type outMsg struct {
	data []byte
	buf  *Buf // returned to the free list once written
}

// ClientOptions configure a Client.
type ClientOptions struct {
	URL       string     // scheme and host of the service
	Path      string     // Socket.IO path, default /socket.io/
	Namespace string     // e.g. /sdk
	Query     url.Values // extra handshake query values (credentials)
	Header    http.Header
	Auth      []byte // CONNECT payload, nil for none
	// Goodbye, if set, is written when Run's context ends; the client then
	// waits up to GoodbyeWait (default 1 s) for the event GoodbyeAck before
	// it leaves the namespace: servers built on the reference socket.io drop
	// an event that arrives together with the DISCONNECT.
	Goodbye     []byte
	GoodbyeAck  string
	GoodbyeWait time.Duration
	Dialer      *websocket.Dialer
	Logger      *slog.Logger
	// Classify maps a dial or namespace error to a *StopError when retrying
	// soon is pointless (a refused key); nil keeps every error retryable.
	Classify func(error) error

	DialTimeout time.Duration // default 15 s
	// SetupTimeout bounds the time from the namespace join to the
	// handler's Ready call (the session is live); default 10 s, as the
	// services' own SDKs wait.
	SetupTimeout time.Duration
	BackoffMin   time.Duration // default 100 ms
	// BackoffMax caps the wait (default 10 s) and StableAfter is how long a
	// session must stay live for the backoff to start again from BackoffMin
	// (default 30 s): the Realtime client's rules, so a service that accepts
	// and then drops every session is not redialled in a tight loop.
	BackoffMax     time.Duration
	StableAfter    time.Duration
	AudioSlots     int   // audio messages that may wait for the socket (default 64)
	MaxMessageSize int64 // read limit (default 16 MiB)
	Rand           func() float64
}

// controlHeadroom keeps room in the send queue for control events when
// audio has filled it.
const controlHeadroom = 32

// Errors of the send side.
var (
	ErrNotConnected = errors.New("sio: not connected")
	ErrQueueFull    = errors.New("sio: send queue full")
)

// Client keeps one namespace of a Socket.IO service connected: it dials,
// joins, hands packets to its Handler, writes queued messages from one writer
// goroutine and reconnects with a jittered, capped exponential backoff.
type Client struct {
	o     ClientOptions
	h     Handler
	log   *slog.Logger
	sendq chan outMsg
	free  chan *Buf
	kick  chan struct{} // 1-buffered: Redial or Drop called

	running   atomic.Bool
	connected atomic.Bool
	ready     atomic.Bool  // Ready called on this link
	readyAt   atomic.Int64 // when, in unix nanoseconds

	mu   sync.Mutex // guards following fields
	conn *Conn
}

// NewClient returns a Client that reports to h.
func NewClient(o ClientOptions, h Handler) (*Client, error) {
	if _, err := URL(o.URL, o.Path, nil); err != nil {
		return nil, err
	}
	if o.Namespace == "" {
		o.Namespace = "/"
	}
	def := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&o.DialTimeout, 15*time.Second)
	def(&o.GoodbyeWait, time.Second)
	def(&o.SetupTimeout, 10*time.Second)
	def(&o.BackoffMin, 100*time.Millisecond)
	def(&o.BackoffMax, 10*time.Second)
	def(&o.StableAfter, 30*time.Second)
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.AudioSlots <= 0 {
		o.AudioSlots = 64
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 16 << 20
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		o: o, h: h, log: o.Logger,
		sendq: make(chan outMsg, o.AudioSlots+controlHeadroom),
		free:  make(chan *Buf, o.AudioSlots),
		kick:  make(chan struct{}, 1),
	}
	for range o.AudioSlots {
		c.free <- &Buf{}
	}
	return c, nil
}

// Namespace is the namespace the client joins.
func (c *Client) Namespace() string { return c.o.Namespace }

// Connected reports whether the namespace is joined.
func (c *Client) Connected() bool { return c.connected.Load() }

// Ready tells the client the session set up on this link is live.
func (c *Client) Ready() {
	if !c.ready.Load() {
		c.readyAt.Store(time.Now().UnixNano())
	}
	c.ready.Store(true)
}

// ErrSetupTimeout is the link error when the session did not come up in time.
var ErrSetupTimeout = errors.New("sio: the session was not set up in time")

// Redial ends a wait between links at once (after a *StopError, or to skip
// the backoff).
func (c *Client) Redial() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Drop closes the current link; Run reconnects.
func (c *Client) Drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		c.conn.Close()
	}
}

// Send queues a whole message (an Engine.IO packet, see AppendEvent); the
// queue owns msg from now on.
func (c *Client) Send(msg []byte) error {
	if !c.connected.Load() {
		return ErrNotConnected
	}
	// Control messages may use the headroom that audio leaves.
	select {
	case c.sendq <- outMsg{data: msg}:
		return nil
	default:
		return ErrQueueFull
	}
}

// AudioBuf takes a free audio buffer, or nil when all are waiting for the
// socket (the caller drops its audio).
func (c *Client) AudioBuf() *Buf {
	select {
	case b := <-c.free:
		return b
	default:
		return nil
	}
}

// SendAudio queues an audio message built in b (from AudioBuf). It never
// blocks: when the queue has no room beside the control headroom, the audio
// is dropped and false returned.
func (c *Client) SendAudio(b *Buf) bool {
	if !c.connected.Load() || len(c.sendq) >= cap(c.sendq)-controlHeadroom {
		c.free <- b
		return false
	}
	select {
	case c.sendq <- outMsg{data: b.B, buf: b}:
		return true
	default:
		c.free <- b
		return false
	}
}

// Run keeps the service connected until ctx is done and returns ctx's error.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("sio: Run called twice")
	}
	defer c.running.Store(false)
	attempt := 0
	for {
		c.h.Connecting()
		established, err := c.serve(ctx)
		if ctx.Err() != nil {
			c.h.Closed(ctx.Err(), 0)
			return ctx.Err()
		}
		var wait time.Duration
		var stop *StopError
		if errors.As(err, &stop) {
			wait, attempt = stop.Wait, 0
		} else {
			if established && c.ready.Load() && time.Since(time.Unix(0, c.readyAt.Load())) >= c.o.StableAfter {
				attempt = 0
			}
			wait = c.backoff(attempt)
			attempt++
		}
		c.h.Closed(err, wait)
		var timer <-chan time.Time
		var t *time.Timer
		if wait > 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-timer:
		case <-c.kick:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// backoff is the wait before dial attempt n+1: doubling from BackoffMin,
// capped at BackoffMax, with half of it jittered.
func (c *Client) backoff(n int) time.Duration {
	d := c.o.BackoffMin << min(n, 20)
	if d > c.o.BackoffMax || d <= 0 {
		d = c.o.BackoffMax
	}
	return d/2 + time.Duration(c.o.Rand()*float64(d/2))
}

func (c *Client) classify(err error) error {
	if c.o.Classify != nil {
		if e := c.o.Classify(err); e != nil {
			return e
		}
	}
	return err
}

// serve runs one link: dial, join, writer, read loop.
func (c *Client) serve(ctx context.Context) (established bool, err error) {
	c.drain()
	select { // a Redial or Drop from the previous link is spent
	case <-c.kick:
	default:
	}
	dctx, cancel := context.WithTimeout(ctx, c.o.DialTimeout)
	conn, resp, err := Dial(dctx, c.o.Dialer, c.o.URL, c.o.Path, c.o.Query, c.o.Header)
	if resp != nil {
		resp.Body.Close()
	}
	if err != nil {
		cancel()
		return false, c.classify(err)
	}
	conn.SetReadLimit(c.o.MaxMessageSize)
	stop := context.AfterFunc(dctx, func() { conn.Close() }) // the join is bounded too
	err = conn.Connect(c.o.Namespace, c.o.Auth)
	stop()
	cancel()
	if err != nil {
		conn.Close()
		return false, c.classify(err)
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	defer func() {
		c.connected.Store(false)
		c.mu.Lock()
		c.conn = nil
		c.mu.Unlock()
		conn.Close()
	}()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.writeLoop(conn, done)
	}()
	defer wg.Wait()
	defer close(done)
	unwatch := context.AfterFunc(ctx, func() {
		if c.o.Goodbye == nil || conn.WriteRaw(c.o.Goodbye) != nil {
			conn.Leave(c.o.Namespace)
			return
		}
		conn.Linger(c.o.GoodbyeWait) // the reader leaves on the answer or at this deadline
	})
	defer unwatch()

	c.ready.Store(false)
	var expired atomic.Bool
	setup := time.AfterFunc(c.o.SetupTimeout, func() {
		if !c.ready.Load() {
			expired.Store(true)
			conn.Close()
		}
	})
	defer setup.Stop()
	c.connected.Store(true)
	if err := c.h.Open(); err != nil {
		return false, err
	}
	for {
		p, err := conn.Read()
		if err != nil {
			if ctx.Err() != nil {
				conn.Leave(c.o.Namespace)
			}
			if expired.Load() {
				return false, fmt.Errorf("%w (%v)", ErrSetupTimeout, c.o.SetupTimeout)
			}
			return c.ready.Load(), err
		}
		if string(p.Namespace) != c.o.Namespace {
			continue
		}
		if ctx.Err() != nil && p.Type == TypeEvent && c.o.GoodbyeAck != "" {
			if name, _, err := SplitEvent(p.Data); err == nil && string(name) == c.o.GoodbyeAck {
				conn.Leave(c.o.Namespace)
				return c.ready.Load(), ctx.Err()
			}
		}
		if p.Type == TypeDisconnect {
			return true, fmt.Errorf("sio: server left namespace %s", c.o.Namespace)
		}
		if err := c.h.Packet(p); err != nil {
			if ctx.Err() == nil {
				conn.Leave(c.o.Namespace)
			}
			return c.ready.Load(), err
		}
	}
}

// drain drops what was queued for a previous link.
func (c *Client) drain() {
	for {
		select {
		case m := <-c.sendq:
			if m.buf != nil {
				c.free <- m.buf
			}
		default:
			return
		}
	}
}

// writeLoop writes queued messages in order until done; a write error
// closes the socket so the reader ends too.
func (c *Client) writeLoop(conn *Conn, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case m := <-c.sendq:
			err := conn.WriteRaw(m.data)
			if m.buf != nil {
				c.free <- m.buf
			}
			if err != nil {
				c.log.Debug("socket write failed", "err", err)
				conn.Close()
				return
			}
		}
	}
}
