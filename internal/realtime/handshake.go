package realtime

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"

	"github.com/gorilla/websocket"
)

// The handshake stays gorilla's (HTTP upgrade, proxies, TLS), but gorilla
// reads the 101 response through its own buffered reader, which may already
// hold the first frames: a server sends session.created at once. To read
// frames ourselves, the socket gorilla reads from records every byte until
// Dial returns; what follows the response's header block is what gorilla
// buffered, and the frame reader takes it first.

// maxHandshakeRecord bounds the recording: response headers plus at most
// gorilla's read buffer.
const maxHandshakeRecord = 256 << 10

// recordingConn copies what is read from it while recording.
type recordingConn struct {
	net.Conn
	recording bool // set until Dial returns; the writer goroutine starts after
	overflow  bool
	rec       []byte
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if r.recording && n > 0 {
		if len(r.rec)+n > maxHandshakeRecord {
			r.overflow = true
		} else {
			r.rec = append(r.rec, p[:n]...)
		}
	}
	return n, err
}

func (r *recordingConn) Write(p []byte) (int, error) {
	if r.recording {
		// What was read before a request answered an earlier one (a
		// proxy's CONNECT): the upgrade response follows the last write.
		r.rec, r.overflow = r.rec[:0], false
	}
	return r.Conn.Write(p)
}

// handshake is one Dial: a copy of the client's Dialer whose sockets record.
type handshake struct {
	dialer *websocket.Dialer
	conn   *recordingConn // the socket, once dialled
	// noRecord says why the leftover cannot be known, "" when it can.
	noRecord string
}

// newHandshake prepares a dial of rawURL (ws or wss, checked by New) with a
// copy of base; base itself, which may be the caller's, is not changed.
func newHandshake(base *websocket.Dialer, rawURL string) *handshake {
	d := *base
	h := &handshake{dialer: &d}
	u, err := url.Parse(rawURL)
	if err != nil {
		h.noRecord = "the URL does not parse"
		return h
	}
	dial := baseDial(&d)
	record := func(c net.Conn, err error) (net.Conn, error) {
		if err != nil {
			return nil, err
		}
		h.conn = &recordingConn{Conn: c, recording: true}
		return h.conn, nil
	}
	if u.Scheme != "wss" {
		d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return record(dial(ctx, network, addr))
		}
		return h
	}
	if tlsDial := d.NetDialTLSContext; tlsDial != nil {
		// The caller's dialler does TLS: what it returns is plain text.
		d.NetDialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return record(tlsDial(ctx, network, addr))
		}
		return h
	}
	if d.Proxy != nil {
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: u.Host, Path: u.Path},
			Host: u.Host, Header: http.Header{}}
		if p, err := d.Proxy(req); err != nil || p != nil {
			// gorilla then runs CONNECT and TLS itself, above anything a
			// dialler returns: the recording would be cipher text.
			h.noRecord = "wss through a proxy"
			return h
		}
	}
	// TLS here, as gorilla would, so that the recording sits above it.
	d.NetDialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cfg := &tls.Config{}
		if d.TLSClientConfig != nil {
			cfg = d.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		// crypto/tls checks the certificate against ServerName unless
		// InsecureSkipVerify.
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return record(tc, nil)
	}
	return h
}

// baseDial is how d opens a TCP connection.
func baseDial(d *websocket.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	switch {
	case d.NetDialContext != nil:
		return d.NetDialContext
	case d.NetDial != nil:
		nd := d.NetDial
		return func(_ context.Context, network, addr string) (net.Conn, error) { return nd(network, addr) }
	default:
		var nd net.Dialer
		return nd.DialContext
	}
}

// done ends the recording once Dial has returned conn. It returns the
// socket below gorilla and the bytes gorilla read past the 101 response,
// or why they are unknown.
func (h *handshake) done(conn *websocket.Conn) (raw net.Conn, pending []byte, why string) {
	rc := h.conn
	if rc == nil {
		if h.noRecord == "" {
			h.noRecord = "the dialler was not called"
		}
		return nil, nil, h.noRecord
	}
	rc.recording = false
	rec := rc.rec
	rc.rec = nil
	switch {
	case h.noRecord != "":
		return nil, nil, h.noRecord
	case rc.overflow:
		return nil, nil, "the handshake was too long to record"
	case conn.NetConn() != net.Conn(rc):
		return nil, nil, "a proxy dialler wrapped the socket"
	}
	pending, ok := afterResponse(rec)
	if !ok {
		return nil, nil, "the recorded upgrade response does not parse"
	}
	return rc.Conn, pending, ""
}

// afterResponse returns what follows the header block of the HTTP response
// that rec starts with, parsed the way gorilla parsed it (net/http), so the
// two cannot disagree on where the header ends. A 101 response has no body.
func afterResponse(rec []byte) ([]byte, bool) {
	src := bytes.NewReader(rec)
	br := bufio.NewReaderSize(src, len(rec)+16)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, false
	}
	rest := br.Buffered() + src.Len()
	return rec[len(rec)-rest:], true
}
