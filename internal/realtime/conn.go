package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

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

	// session.update and the replayed history go first, in order, then the
	// turn a rollover cut, if any. The hold's lock is kept until the
	// connection is live (see AppendAudioAt).
	c.hold.mu.Lock()
	holdLocked := true
	defer func() {
		if holdLocked {
			c.hold.mu.Unlock()
		}
	}()
	resend := rollover && c.hold.n > 0
	c.mu.Lock()
	if resend {
		c.hist.drop(c.hold.items) // the audio goes again, and makes them again
	}
	sess := c.sessionLocked()
	c.hist.settle() // replies the last session cut short count as far as they went
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
			resend = false
			break queue
		}
	}
	if resend {
		c.resendTurn()
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
	c.hold.rolling = false
	c.hold.mu.Unlock()
	holdLocked = false

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
				c.hold.setRolling(true) // before the socket goes: audio is kept from here
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

// resendTurn queues the held turn's audio, and its commit if one was sent,
// for a new session; c.hold.mu is held.
func (c *Client) resendTurn() {
	n, chunks := 0, 0
	ok := true
	c.hold.chunks(c.hold.rate, func(pcm []int16) {
		if !ok {
			return // in order or not at all
		}
		msg, _ := appendAudioEvent(nil, nil, pcm)
		select {
		case c.sendq <- outMsg{data: msg, typ: typeAppend}:
			chunks++
			n += len(pcm)
		default:
			ok = false
		}
	})
	if ok && c.hold.committed {
		b, err := encodeEvent(clientEvent{Type: typeCommit})
		if err == nil {
			select {
			case c.sendq <- outMsg{data: b, typ: typeCommit}:
			default:
				ok = false
			}
		}
	}
	if !ok {
		c.log.Warn("realtime: the send queue is full; the turn the rollover cut is sent in part", "chunks", chunks)
	}
	c.audioQueued.Add(uint64(n))
	c.log.Info("realtime turn sent again after the rollover", "audio_ms", n*1000/c.hold.rate, "committed", c.hold.committed)
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
