package sio

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/websocket"
)

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
