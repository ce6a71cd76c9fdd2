package realtime

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// rawServer is a WebSocket server on loopback written by hand, so a test
// decides exactly what goes on the wire and in which write.
type rawServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex // guards following fields
	conns []net.Conn
}

// startRawServer answers each upgrade with the 101 response followed by
// first in one write, then hands the socket to serve (on its own
// goroutine, ended by the test's cleanup).
func startRawServer(t testing.TB, first []byte, serve func(net.Conn)) (wsURL string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				h := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
				resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
					"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n"
				if _, err := c.Write(append([]byte(resp), first...)); err != nil {
					return
				}
				if serve != nil {
					serve(c)
				}
				_, _ = io.Copy(io.Discard, c) // the client's frames, until it closes
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/v1/realtime"
}

const sessionCreatedJSON = `{"type":"session.created","event_id":"event_1","session":{"id":"sess_1","model":"gpt-realtime","expires_at":0}}`

// The server writes the 101 and its first frames in one write: gorilla's
// reader holds them after the handshake, and the frame reader reads them
// first.
func TestHandshakeLeftover(t *testing.T) {
	first := cat(serverFrame(true, opText, []byte(sessionCreatedJSON)), serverFrame(true, opPing, []byte("p")),
		serverFrame(true, opText, []byte(`{"type":"brand.new"}`)))
	u := startRawServer(t, first, nil)
	dl := dialFrameReader(t, Options{URL: u})
	// One write on loopback arrives in one read: gorilla holds at least
	// the start of the frames.
	if len(dl.pending) == 0 || !strings.HasPrefix(string(first), string(dl.pending)) {
		t.Fatalf("pending = %q, want a prefix of the frames sent with the 101", dl.pending)
	}
	f := newFrameReader(dl.raw, dl.pending, 1<<20)
	var pings int
	f.onPing = func([]byte) { pings++ }
	_ = dl.raw.SetReadDeadline(time.Now().Add(waitForTest))
	for _, want := range []string{sessionCreatedJSON, `{"type":"brand.new"}`} {
		op, msg, err := f.readMessage(nil)
		if err != nil || op != opText || string(msg) != want {
			t.Fatalf("readMessage = %d %q, %v; want text %q", op, msg, err, want)
		}
	}
	if pings != 1 {
		t.Errorf("pings = %d, want 1", pings)
	}
}

// waitForTest bounds waits in these tests; they finish far sooner.
const waitForTest = 10 * time.Second

// dialFrameReader dials with o and fails the test unless the connection is read by
// our frame reader (not gorilla's fallback); the connection closes when the test ends.
func dialFrameReader(t testing.TB, o Options) downlink {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	conn, dl, _, err := c.dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if dl.raw == nil {
		t.Fatal("dial fell back to gorilla's reader, want the frame reader")
	}
	return dl
}

// runClient runs c until the test ends; its events are drained then.
func runClient(t testing.TB, c *Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range c.Events() {
		}
		<-done
	})
}

// waitConnected reads c's events up to Connected.
func waitConnected(t testing.TB, c *Client) {
	t.Helper()
	deadline := time.After(waitForTest)
	for {
		select {
		case ev := <-c.Events():
			if _, ok := ev.(*Connected); ok {
				return
			}
		case <-deadline:
			t.Fatal("no Connected event")
		}
	}
}

// The whole client on the frame reader: session.created from the
// handshake's write makes Connected, and a server ping is answered.
func TestClientFrameReaderPing(t *testing.T) {
	pongs := make(chan string, 1)
	first := serverFrame(true, opText, []byte(sessionCreatedJSON))
	u := startRawServer(t, first, func(c net.Conn) {
		if _, err := c.Write(serverFrame(true, opPing, []byte("hello"))); err != nil {
			return
		}
		// Find the pong among the client's (masked) frames.
		br := bufio.NewReader(c)
		for {
			var h [2]byte
			if _, err := io.ReadFull(br, h[:]); err != nil {
				return
			}
			n := int(h[1] & 0x7F)
			switch n {
			case 126:
				var l [2]byte
				_, _ = io.ReadFull(br, l[:])
				n = int(l[0])<<8 | int(l[1])
			case 127:
				return // the client sends nothing that large here
			}
			var key [4]byte
			_, _ = io.ReadFull(br, key[:])
			p := make([]byte, n)
			if _, err := io.ReadFull(br, p); err != nil {
				return
			}
			maskBytes(p, key)
			if h[0]&0x0F == opPong {
				pongs <- string(p)
				return
			}
		}
	})
	c, err := New(Options{URL: u, Audio: func(string, []int16) {}})
	if err != nil {
		t.Fatal(err)
	}
	runClient(t, c)
	waitConnected(t, c)
	deadline := time.After(waitForTest)
	select {
	case p := <-pongs:
		if p != "hello" {
			t.Errorf("pong payload %q, want %q", p, "hello")
		}
	case <-deadline:
		t.Fatal("the ping was not answered")
	}
}

// wss: the client does TLS itself (so the recording is plain text) and
// checks the server's certificate for the URL's host.
func TestHandshakeTLS(t *testing.T) {
	up := websocket.Upgrader{}
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(sessionCreatedJSON))
		_, _, _ = ws.NextReader() // until the client goes
	}))
	hs.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake of "untrusted"
	hs.StartTLS()
	defer hs.Close()
	u := "wss" + strings.TrimPrefix(hs.URL, "https")
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())

	t.Run("trusted", func(t *testing.T) {
		d := &websocket.Dialer{Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{RootCAs: pool}}
		dl := dialFrameReader(t, Options{URL: u, Dialer: d})
		if d.NetDialTLSContext != nil || d.NetDialContext != nil {
			t.Error("the caller's Dialer was changed")
		}
		_ = dl.raw.SetReadDeadline(time.Now().Add(waitForTest))
		f := newFrameReader(dl.raw, dl.pending, 1<<20)
		if _, msg, err := f.readMessage(nil); err != nil || string(msg) != sessionCreatedJSON {
			t.Errorf("readMessage = %q, %v; want session.created", msg, err)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		c, err := New(Options{URL: u, DialTimeout: waitForTest})
		if err != nil {
			t.Fatal(err)
		}
		conn, _, _, err := c.dial(context.Background())
		if err == nil {
			conn.Close()
			t.Fatal("dial to a server with an unknown certificate succeeded")
		}
		var ue x509.UnknownAuthorityError
		if !errors.As(err, &ue) && !strings.Contains(err.Error(), "certificate") {
			t.Errorf("dial error = %v, want a certificate error", err)
		}
	})
}

// When a proxy applies to a wss URL, gorilla runs TLS above any dialler:
// the handshake cannot be recorded in plain text, and gorilla's reader is
// used. A ws URL through a proxy is recorded after the CONNECT.
func TestHandshakeFallback(t *testing.T) {
	proxy := func(*http.Request) (*url.URL, error) { return url.Parse("http://127.0.0.1:1") }
	h := newHandshake(&websocket.Dialer{Proxy: proxy}, "wss://api.example.com/v1/realtime")
	if h.noRecord == "" {
		t.Error("wss through a proxy: noRecord empty, want the reason for the fallback")
	}
	if _, _, why := h.done(nil); why == "" {
		t.Error("done: no reason given for the fallback")
	}
	if h := newHandshake(&websocket.Dialer{Proxy: proxy}, "ws://api.example.com/v1/realtime"); h.noRecord != "" {
		t.Errorf("ws through a proxy: noRecord %q, want recording", h.noRecord)
	}
	none := func(*http.Request) (*url.URL, error) { return nil, nil }
	if h := newHandshake(&websocket.Dialer{Proxy: none}, "wss://api.example.com/v1/realtime"); h.noRecord != "" {
		t.Errorf("wss without a proxy: noRecord %q, want recording", h.noRecord)
	}
}

// A ws URL through an HTTP proxy: the CONNECT response is read through the
// recording socket too, and must not be taken for the upgrade response.
func TestHandshakeThroughProxy(t *testing.T) {
	first := serverFrame(true, opText, []byte(sessionCreatedJSON))
	target := startRawServer(t, first, nil)
	proxyURL := startConnectProxy(t, strings.TrimSuffix(strings.TrimPrefix(target, "ws://"), "/v1/realtime"))
	dl := dialFrameReader(t, Options{URL: target, Dialer: &websocket.Dialer{Proxy: http.ProxyURL(proxyURL)}})
	_ = dl.raw.SetReadDeadline(time.Now().Add(waitForTest))
	f := newFrameReader(dl.raw, dl.pending, 1<<20)
	if _, msg, err := f.readMessage(nil); err != nil || string(msg) != sessionCreatedJSON {
		t.Errorf("readMessage = %q, %v; want session.created", msg, err)
	}
}

func TestAfterResponse(t *testing.T) {
	cases := []struct {
		name, rec, want string
		ok              bool
	}{
		{"crlf", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi", "\x81\x02hi", true},
		{"nothing after", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", "", true},
		{"bare lf", "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n\x81\x00", "\x81\x00", true},
		{"header end in the payload", "HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x04\r\n\r\n", "\x81\x04\r\n\r\n", true},
		{"not 101", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "", false},
		{"cut short", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: webs", "", false},
		{"not http", "\x81\x02hi", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := afterResponse([]byte(tc.rec))
			if ok != tc.ok || string(got) != tc.want {
				t.Errorf("afterResponse = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// startConnectProxy runs an HTTP CONNECT proxy on loopback that tunnels one
// connection to target.
func startConnectProxy(t *testing.T, target string) *url.URL {
	t.Helper()
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		pl.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := pl.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil || req.Method != http.MethodConnect || req.Host != target {
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer up.Close()
		mu.Lock()
		conns = append(conns, c, up)
		mu.Unlock()
		if _, err := c.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
			return
		}
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = io.Copy(up, br); up.Close() }()
		_, _ = io.Copy(c, up)
	}()
	u, _ := url.Parse("http://" + pl.Addr().String())
	return u
}

// syncBuffer is a log destination for a test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wss through a proxy: the client reads through gorilla (and says so at
// debug level); audio and the server's pings work as on the
// frame reader.
func TestClientFallbackThroughProxy(t *testing.T) {
	frame, samples := audioDeltaFrame()
	delta := frame[4:] // the message without its 16-bit-length header
	pongs := make(chan string, 1)
	up := websocket.Upgrader{}
	hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.SetPongHandler(func(p string) error { pongs <- p; return nil })
		_ = ws.WriteMessage(websocket.TextMessage, []byte(sessionCreatedJSON))
		_ = ws.WriteMessage(websocket.TextMessage, delta)
		_ = ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second))
		for { // reading runs the pong handler
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}))
	defer hs.Close()
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	var logs syncBuffer
	got := make(chan int, 4)
	c, err := New(Options{
		URL:    "wss" + strings.TrimPrefix(hs.URL, "https"),
		Dialer: &websocket.Dialer{Proxy: http.ProxyURL(startConnectProxy(t, hs.Listener.Addr().String())), TLSClientConfig: &tls.Config{RootCAs: pool}},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Audio:  func(_ string, pcm []int16) { got <- len(pcm) },
	})
	if err != nil {
		t.Fatal(err)
	}
	runClient(t, c)
	deadline := time.After(waitForTest)
	select {
	case n := <-got:
		if n != samples {
			t.Errorf("sink got %d samples, want %d", n, samples)
		}
	case <-deadline:
		t.Fatal("no audio through the proxy")
	}
	select {
	case p := <-pongs:
		if p != "hi" {
			t.Errorf("pong %q, want %q", p, "hi")
		}
	case <-deadline:
		t.Fatal("the server's ping was not answered")
	}
	if !strings.Contains(logs.String(), "wss through a proxy") {
		t.Errorf("log %q does not say why gorilla reads", logs.String())
	}
}
