package sio

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Socket.IO packet types, the byte after the Engine.IO '4'.
const (
	TypeConnect      byte = '0'
	TypeDisconnect   byte = '1'
	TypeEvent        byte = '2'
	TypeAck          byte = '3'
	TypeConnectError byte = '4'
)

// Errors of this package.
var (
	ErrClosed = errors.New("sio: peer closed the Engine.IO session")
	ErrBinary = errors.New("sio: binary Socket.IO packets are not supported")
)

// ConnectError is the server's refusal of a namespace (a CONNECT_ERROR packet).
type ConnectError struct {
	Namespace string
	Message   string          // the payload's message field
	Data      json.RawMessage // the whole payload
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("sio: namespace %s refused: %s", e.Namespace, e.Message)
}

// Handshake is the payload of the Engine.IO open packet.
type Handshake struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"` // milliseconds
	PingTimeout  int      `json:"pingTimeout"`  // milliseconds
	MaxPayload   int      `json:"maxPayload"`   // bytes
}

// idle is how long a peer may stay silent before the link counts as dead.
func (h Handshake) idle() time.Duration {
	d := time.Duration(h.PingInterval+h.PingTimeout) * time.Millisecond
	if d <= 0 {
		return 45 * time.Second // Engine.IO's defaults, 25 s + 20 s
	}
	return d
}

// Packet is one Socket.IO packet. Namespace and Data point into the
// connection's read buffer: they are valid until the next Read.
type Packet struct {
	Type      byte
	Namespace []byte // "/" for the main namespace
	ID        int    // ack id, -1 when absent
	Data      []byte // JSON, empty when absent
}

// Conn is one Engine.IO session over a WebSocket. Read must be called from
// one goroutine; the write methods may be called from any.
type Conn struct {
	ws     *websocket.Conn
	server bool
	hs     Handshake

	rbuf []byte       // owned by the reader
	idle atomic.Int64 // read deadline override in nanoseconds, 0 for none

	wmu  sync.Mutex // guards following fields and writes to the socket
	wbuf []byte     // a client's masked frame
	werr error
}

// Handshake returns the open packet's values.
func (c *Conn) Handshake() Handshake { return c.hs }

// Dial opens a WebSocket to the Socket.IO endpoint of base (scheme and host;
// http and https are mapped to ws and wss), path (default "/socket.io/") and
// the extra query values, then reads the open packet. The response is
// returned when the server answered the upgrade with an HTTP error.
func Dial(ctx context.Context, d *websocket.Dialer, base, path string, query url.Values, header http.Header) (*Conn, *http.Response, error) {
	u, err := URL(base, path, query)
	if err != nil {
		return nil, nil, err
	}
	if d == nil {
		d = &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 15 * time.Second}
	}
	ws, resp, err := d.DialContext(ctx, u, header)
	if err != nil {
		if resp != nil {
			return nil, resp, fmt.Errorf("dial %s: HTTP %d: %w", u, resp.StatusCode, err)
		}
		return nil, nil, fmt.Errorf("dial %s: %w", u, err)
	}
	c := &Conn{ws: ws}
	c.ws.SetPingHandler(c.answerPing)
	c.ws.SetCloseHandler(c.answerClose)
	if dl, ok := ctx.Deadline(); ok {
		ws.SetReadDeadline(dl)
	} else {
		ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	}
	msg, err := c.next()
	if err != nil {
		ws.Close()
		return nil, nil, fmt.Errorf("read open packet from %s: %w", u, err)
	}
	if len(msg) == 0 || msg[0] != '0' {
		ws.Close()
		return nil, nil, fmt.Errorf("read open packet from %s: got %.40q", u, msg)
	}
	if err := json.Unmarshal(msg[1:], &c.hs); err != nil {
		ws.Close()
		return nil, nil, fmt.Errorf("open packet from %s: %w", u, err)
	}
	return c, nil, nil
}

// URL builds the WebSocket URL of a Socket.IO endpoint.
func URL(base, path string, query url.Values) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("sio: url %q: %w", base, err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("sio: url %q: want http, https, ws or wss", base)
	}
	if u.Host == "" {
		return "", fmt.Errorf("sio: url %q: no host", base)
	}
	if path == "" {
		path = "/socket.io/"
	}
	u.Path = path
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("EIO", "4")
	q.Set("transport", "websocket")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// ServerOptions are the Engine.IO values a server announces.
type ServerOptions struct {
	PingInterval time.Duration // default 25 s
	PingTimeout  time.Duration // default 20 s
	MaxPayload   int           // default 1,000,000 bytes
	Upgrader     *websocket.Upgrader
}

// Accept upgrades a request to the Socket.IO WebSocket transport and sends
// the open packet. The caller pings every PingInterval ([Conn.Ping]).
func Accept(w http.ResponseWriter, r *http.Request, o ServerOptions) (*Conn, error) {
	if q := r.URL.Query(); q.Get("EIO") != "4" || q.Get("transport") != "websocket" {
		http.Error(w, `{"code":5,"message":"Unsupported protocol version"}`, http.StatusBadRequest)
		return nil, fmt.Errorf("sio: accept %s: want EIO=4&transport=websocket", r.URL.RawQuery)
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 20 * time.Second
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = 1_000_000
	}
	up := o.Upgrader
	if up == nil {
		up = &websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return nil, fmt.Errorf("sio: accept: %w", err)
	}
	c := &Conn{ws: ws, server: true, hs: Handshake{
		SID: newSID(), Upgrades: []string{},
		PingInterval: int(o.PingInterval / time.Millisecond), PingTimeout: int(o.PingTimeout / time.Millisecond),
		MaxPayload: o.MaxPayload,
	}}
	open, _ := json.Marshal(c.hs)
	if err := c.WriteRaw(append([]byte{'0'}, open...)); err != nil {
		ws.Close()
		return nil, err
	}
	return c, nil
}

// newSID returns a random session or socket id.
func newSID() string {
	const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var b [16]byte
	for i := range b {
		b[i] = abc[rand.IntN(len(abc))]
	}
	return string(b[:])
}

// NewSID returns a random socket id, for a server's CONNECT reply.
func NewSID() string { return newSID() }

// Connect joins namespace nsp with an optional JSON payload (the auth object)
// and waits for the server's CONNECT. A refusal is a *ConnectError.
// Packets of other namespaces that arrive meanwhile are dropped.
func (c *Conn) Connect(nsp string, auth []byte) error {
	if err := c.WriteRaw(AppendConnect(nil, nsp, auth)); err != nil {
		return err
	}
	for {
		p, err := c.Read()
		if err != nil {
			return fmt.Errorf("sio: connect %s: %w", nsp, err)
		}
		if string(p.Namespace) != nsp {
			continue
		}
		switch p.Type {
		case TypeConnect:
			return nil
		case TypeConnectError:
			e := &ConnectError{Namespace: nsp, Data: append(json.RawMessage(nil), p.Data...)}
			var m struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(p.Data, &m) == nil && m.Message != "" {
				e.Message = m.Message
			} else {
				e.Message = string(p.Data)
			}
			return e
		case TypeDisconnect:
			return fmt.Errorf("sio: connect %s: %w", nsp, ErrClosed)
		}
	}
}

// Read returns the next Socket.IO packet. It answers pings (client side),
// skips noops and pongs, and extends the read deadline with every message
// by pingInterval+pingTimeout.
func (c *Conn) Read() (Packet, error) {
	for {
		idle := c.hs.idle()
		if d := c.idle.Load(); d > 0 {
			idle = time.Duration(d)
		}
		c.ws.SetReadDeadline(time.Now().Add(idle))
		msg, err := c.next()
		if err != nil {
			return Packet{}, err
		}
		if len(msg) == 0 {
			return Packet{}, errors.New("sio: empty Engine.IO packet")
		}
		switch msg[0] {
		case '2':
			if !c.server {
				if err := c.WriteRaw(pong); err != nil {
					return Packet{}, err
				}
			}
		case '3', '6':
		case '1':
			return Packet{}, ErrClosed
		case '4':
			return ParsePacket(msg[1:])
		default:
			return Packet{}, fmt.Errorf("sio: unexpected Engine.IO packet %.40q", msg)
		}
	}
}

var (
	pong = []byte{'3'}
	ping = []byte{'2'}
)

// Ping sends an Engine.IO ping (server side).
func (c *Conn) Ping() error { return c.WriteRaw(ping) }

// ParsePacket parses a Socket.IO packet (an Engine.IO message without its '4').
func ParsePacket(b []byte) (Packet, error) {
	p := Packet{ID: -1, Namespace: root}
	if len(b) == 0 {
		return p, errors.New("sio: empty Socket.IO packet")
	}
	p.Type = b[0]
	switch p.Type {
	case TypeConnect, TypeDisconnect, TypeEvent, TypeAck, TypeConnectError:
	case '5', '6':
		return p, ErrBinary
	default:
		return p, fmt.Errorf("sio: unknown Socket.IO packet type %q", p.Type)
	}
	i := 1
	if i < len(b) && b[i] == '/' {
		j := bytes.IndexByte(b[i:], ',')
		if j < 0 {
			p.Namespace = b[i:]
			return p, nil
		}
		p.Namespace = b[i : i+j]
		i += j + 1
	}
	if i < len(b) && b[i] >= '0' && b[i] <= '9' {
		id := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			d := int(b[i] - '0')
			if id > (math.MaxInt32-d)/10 { // checked before it can wrap a 32-bit int
				return p, errors.New("sio: ack id out of range")
			}
			id = id*10 + d
			i++
		}
		p.ID = id
	}
	p.Data = b[i:]
	return p, nil
}

var root = []byte{'/'}

// next reads one WebSocket message into the read buffer.
func (c *Conn) next() ([]byte, error) {
	typ, r, err := c.ws.NextReader()
	if err != nil {
		return nil, err
	}
	if typ != websocket.TextMessage {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, err
		}
		return nil, ErrBinary
	}
	b := c.rbuf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	c.rbuf = b
	return b, nil
}

// SetReadLimit bounds the size of a received message.
func (c *Conn) SetReadLimit(n int64) { c.ws.SetReadLimit(n) }

// WriteRaw writes one Engine.IO packet (its type byte first) as a text frame.
// A client masks the frame into a buffer it keeps, so writing allocates
// nothing; b is not changed or kept.
func (c *Conn) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(websocket.TextMessage, b)
}

// writeLocked writes one text or control frame; the first error sticks.
func (c *Conn) writeLocked(op int, b []byte) error {
	if c.werr != nil {
		return c.werr
	}
	var err error
	if c.server {
		err = c.ws.WriteMessage(op, b)
	} else {
		err = c.writeFrameLocked(op, b)
	}
	if err != nil {
		c.werr = err
	}
	return err
}

// writeFrameLocked writes a masked frame (RFC 6455 section 5.2) itself:
// gorilla's client writer allocates per message.
func (c *Conn) writeFrameLocked(op int, b []byte) error {
	n := len(b)
	w := append(c.wbuf[:0], 0x80|byte(op))
	switch {
	case n < 126:
		w = append(w, 0x80|byte(n))
	case n < 1<<16:
		w = append(w, 0x80|126, byte(n>>8), byte(n))
	default:
		w = append(w, 0x80|127)
		w = binary.BigEndian.AppendUint64(w, uint64(n))
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], rand.Uint32())
	w = append(w, key[:]...)
	start := len(w)
	w = append(w, b...)
	mask(w[start:], key)
	c.wbuf = w
	nc := c.ws.UnderlyingConn()
	nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := nc.Write(w)
	return err
}

// mask XORs p with the repeating key, eight bytes at a time where it can.
func mask(p []byte, key [4]byte) {
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	k |= k << 32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}

// answerPing answers a WebSocket ping (not an Engine.IO one) through the
// frame writer, so control and data frames never interleave.
func (c *Conn) answerPing(data string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return nil
	}
	var b [125]byte
	n := copy(b[:], data)
	if c.server {
		return c.ws.WriteControl(websocket.PongMessage, b[:n], time.Now().Add(time.Second))
	}
	err := c.writeFrameLocked(websocket.PongMessage, b[:n])
	if err != nil {
		c.werr = err
	}
	return nil
}

// Linger makes Read fail when nothing arrives for d, from now on: for a
// goodbye that waits for the peer's answer without hanging.
func (c *Conn) Linger(d time.Duration) {
	c.idle.Store(int64(d))
	c.ws.SetReadDeadline(time.Now().Add(d))
}

// answerClose echoes a server's close frame through the frame writer (the
// default handler would write it past the lock, maybe into a data frame).
func (c *Conn) answerClose(code int, text string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr == nil {
		c.writeFrameLocked(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""))
		c.werr = errors.New("sio: closed by the peer")
	}
	return nil
}

// Close closes the WebSocket without a goodbye; see [Conn.Leave].
func (c *Conn) Close() error { return c.ws.Close() }

// Leave sends DISCONNECT for nsp and an Engine.IO close, then closes.
func (c *Conn) Leave(nsp string) error {
	err := c.WriteRaw(AppendPacket(nil, TypeDisconnect, nsp, -1))
	if err == nil {
		err = c.WriteRaw([]byte{'1'})
	}
	return errors.Join(err, c.ws.Close())
}

// Server reports whether this is the server side.
func (c *Conn) Server() bool { return c.server }

// AppendPacket appends the head of a Socket.IO packet inside an Engine.IO
// message: "4", the type, the namespace and comma unless it is "/", and the
// ack id unless it is negative. The caller appends the JSON data.
func AppendPacket(dst []byte, typ byte, nsp string, id int) []byte {
	dst = append(dst, '4', typ)
	if nsp != "" && nsp != "/" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	if id >= 0 {
		dst = strconv.AppendInt(dst, int64(id), 10)
	}
	return dst
}

// AppendConnect appends a CONNECT packet with an optional payload.
func AppendConnect(dst []byte, nsp string, payload []byte) []byte {
	return append(AppendPacket(dst, TypeConnect, nsp, -1), payload...)
}

// AppendEventHead appends an EVENT packet up to and including its name:
// `42/nsp,ID["name"`. The caller appends `,` and the arguments, then `]`.
// name must be plain ASCII without quotes or backslashes (event names are).
func AppendEventHead(dst []byte, nsp string, id int, name string) []byte {
	dst = AppendPacket(dst, TypeEvent, nsp, id)
	dst = append(dst, '[', '"')
	dst = append(dst, name...)
	return append(dst, '"')
}

// AppendEvent appends a whole EVENT packet with one JSON argument, or none
// when arg is empty.
func AppendEvent(dst []byte, nsp string, id int, name string, arg []byte) []byte {
	dst = AppendEventHead(dst, nsp, id, name)
	if len(arg) > 0 {
		dst = append(dst, ',')
		dst = append(dst, arg...)
	}
	return append(dst, ']')
}

// AppendAck appends an ACK packet whose arguments are args (a JSON array).
func AppendAck(dst []byte, nsp string, id int, args []byte) []byte {
	if len(args) == 0 {
		args = []byte("[]")
	}
	return append(AppendPacket(dst, TypeAck, nsp, id), args...)
}

// Emit writes an EVENT with one argument marshalled by encoding/json (nil
// for none): for control events, off the audio path.
func (c *Conn) Emit(nsp string, id int, name string, arg any) error {
	var a []byte
	if arg != nil {
		var err error
		if a, err = json.Marshal(arg); err != nil {
			return fmt.Errorf("sio: emit %s: %w", name, err)
		}
	}
	return c.WriteRaw(AppendEvent(nil, nsp, id, name, a))
}

// SplitEvent takes an EVENT's data apart: the event name and the raw JSON of
// its first argument (nil when there is none). Neither is copied.
func SplitEvent(data []byte) (name, arg []byte, err error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, nil, fmt.Errorf("sio: event data %.40q: want a JSON array", data)
	}
	i = skipSpace(data, i+1)
	if i >= len(data) || data[i] != '"' {
		return nil, nil, fmt.Errorf("sio: event data %.40q: want the event name first", data)
	}
	end := skipString(data, i)
	if end < 0 {
		return nil, nil, fmt.Errorf("sio: event data %.40q: bad event name", data)
	}
	name = data[i+1 : end-1]
	if bytes.IndexByte(name, '\\') >= 0 {
		return nil, nil, fmt.Errorf("sio: event name %q: escapes are not supported", name)
	}
	i = skipSpace(data, end)
	if i < len(data) && data[i] == ']' {
		return name, nil, nil
	}
	if i >= len(data) || data[i] != ',' {
		return nil, nil, fmt.Errorf("sio: event %s: bad argument list", name)
	}
	i = skipSpace(data, i+1)
	j := skipValue(data, i)
	if j < 0 {
		return nil, nil, fmt.Errorf("sio: event %s: bad argument", name)
	}
	return name, data[i:j], nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the JSON string starting at b[i], or -1.
// It jumps from quote to quote: audio strings are long.
func skipString(b []byte, i int) int {
	start := i + 1
	for i = start; ; {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		k := i + j
		n := 0 // backslashes right before the quote
		for p := k - 1; p >= start && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return k + 1
		}
		i = k + 1
	}
}

// skipValue returns the index after the JSON value starting at b[i], or -1.
// It checks nesting and strings only; the value's own decoder checks the rest.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		var open [64]byte // closers expected, innermost last
		depth := 0
		for ; i < len(b); i++ {
			switch c := b[i]; c {
			case '"':
				j := skipString(b, i)
				if j < 0 {
					return -1
				}
				i = j - 1
			case '{', '[':
				if depth == len(open) {
					return -1
				}
				open[depth] = c + 2 // '{'+2 = '}', '['+2 = ']'
				depth++
			case '}', ']':
				if depth == 0 || open[depth-1] != c {
					return -1
				}
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != ']' && b[j] != '}' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

// Field returns the raw JSON value of key at the top level of the object
// obj, or nil. It does not allocate: the audio fast paths use it.
func Field(obj []byte, key string) []byte {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return nil
		}
		end := skipString(obj, i)
		if end < 0 {
			return nil
		}
		k := obj[i+1 : end-1]
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil
		}
		i = skipSpace(obj, i+1)
		j := skipValue(obj, i)
		if j < 0 {
			return nil
		}
		if string(k) == key {
			return obj[i:j]
		}
		i = skipSpace(obj, j)
		if i >= len(obj) || obj[i] != ',' {
			return nil
		}
		i++
	}
}

// Str returns the contents of a raw JSON string without escapes; ok is
// false for anything else (decode those with encoding/json).
func Str(raw []byte) (s []byte, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || bytes.IndexByte(raw, '\\') >= 0 {
		return nil, false
	}
	return raw[1 : len(raw)-1], true
}
