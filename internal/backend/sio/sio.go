package sio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
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
