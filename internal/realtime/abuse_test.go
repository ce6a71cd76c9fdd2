package realtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/voiced-project/voiced/internal/realtime"
)

// Servers that misbehave on purpose: what each costs voiced in connection
// attempts, log lines and memory (issue 20).

const sessionCreated = `{"type":"session.created","event_id":"event_1","session":{"id":"sess_1","object":"realtime.session","model":"gpt-realtime"}}`

// jumpClock is a fake clock in which time passes only by waiting: After(d)
// moves it on by d and fires at once. A minute of backoff takes no time.
type jumpClock struct {
	mu sync.Mutex
	t  time.Time
}

func newJumpClock() *jumpClock { return &jumpClock{t: time.Unix(1.8e9, 0)} }

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *jumpClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.t = c.t.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	c.mu.Unlock()
	return ch
}

func (c *jumpClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// wsServer runs f for every upgraded connection; n counts the upgrades.
func wsServer(t *testing.T, f func(n int, ws *websocket.Conn)) string {
	t.Helper()
	var n atomic.Int64
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		f(int(n.Add(1)), ws)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/v1/realtime"
}

// runClient runs a client until stop says so or the test times out, and
// returns every event it gave.
func runClient(t *testing.T, o realtime.Options, stop func(realtime.Event) bool) []realtime.Event {
	t.Helper()
	c, err := realtime.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var evs []realtime.Event
	for ev := range c.Events() {
		evs = append(evs, ev)
		if stop(ev) {
			cancel()
		}
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled (the test timed out?)", err)
	}
	return evs
}

// A server that ends every connection at once, however it does it, gets
// at most 20 attempts in the first minute: the backoff grows until a
// connection has stayed up, whatever the server said first.
func TestAttemptsAgainstAClosingServer(t *testing.T) {
	ok200 := func(n int, ws *websocket.Conn) { _ = ws.WriteMessage(websocket.TextMessage, []byte(sessionCreated)) }
	cases := []struct {
		name    string
		serve   func(n int, ws *websocket.Conn)
		handler http.HandlerFunc // instead of upgrading
	}{
		{name: "close at once", serve: func(int, *websocket.Conn) {}},
		{name: "close after session.created", serve: ok200},
		{name: "session_expired at once", serve: func(n int, ws *websocket.Conn) {
			ok200(n, ws)
			_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"error","event_id":"event_2","error":{"type":"invalid_request_error","code":"session_expired","message":"Your session hit the maximum duration."}}`))
		}},
		{name: "oversize frame at once", serve: func(n int, ws *websocket.Conn) {
			ok200(n, ws)
			_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"conversation.item.added","pad":"`+strings.Repeat("x", 1<<20)+`"}`))
		}},
		{name: "HTTP 500", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusInternalServerError)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var url string
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				defer srv.Close()
				url = "ws" + strings.TrimPrefix(srv.URL, "http")
			} else {
				url = wsServer(t, tc.serve)
			}
			clk := newJumpClock()
			start := clk.Now()
			attempts := 0
			runClient(t, realtime.Options{
				URL: url, Clock: clk,
				Rand: func() float64 { return 0 }, // the shortest waits: the worst case
			}, func(ev realtime.Event) bool {
				if _, ok := ev.(*realtime.Connecting); ok && clk.Now().Sub(start) < time.Minute {
					attempts++
				}
				return clk.Now().Sub(start) >= time.Minute || attempts > 100
			})
			t.Logf("%d connection attempts in the first minute", attempts)
			if attempts > 20 {
				t.Errorf("%d connection attempts in the first minute, want at most 20", attempts)
			}
			if attempts < 5 {
				t.Errorf("%d connection attempts in the first minute: the client gave up?", attempts)
			}
		})
	}
}

// A connection that stays up for StableAfter starts the backoff again from
// its minimum: after it, voiced is back within a fraction of a second.
func TestStableConnectionResetsBackoff(t *testing.T) {
	clk := newJumpClock()
	const stableAt = 8
	url := wsServer(t, func(n int, ws *websocket.Conn) {
		_ = ws.WriteMessage(websocket.TextMessage, []byte(sessionCreated))
		if n == stableAt {
			_, _, _ = ws.ReadMessage() // session.update: the client has counted the connection up
			clk.add(31 * time.Second)  // and it stays up
		}
	})
	var waits []time.Duration
	runClient(t, realtime.Options{URL: url, Clock: clk, Rand: func() float64 { return 0.999 }}, func(ev realtime.Event) bool {
		if d, ok := ev.(*realtime.Disconnected); ok {
			waits = append(waits, d.RetryIn)
		}
		return len(waits) == stableAt+1
	})
	if len(waits) != stableAt+1 {
		t.Fatalf("waits %v, want %d", waits, stableAt+1)
	}
	if w := waits[stableAt-2]; w < time.Second {
		t.Errorf("wait after %d short connections = %v, want it grown past 1 s (waits %v)", stableAt-1, w, waits)
	}
	if w := waits[stableAt-1]; w > 100*time.Millisecond {
		t.Errorf("wait after a connection that stayed up = %v, want at most BackoffMin (waits %v)", w, waits)
	}
}

// A frame larger than the protocol needs is refused from its header, with
// an error naming the limit, and leaves the heap as it was: neither the
// frame nor buffers grown for it stay behind. Accepted large deltas do not
// keep their buffers either (see TestTrimBuffers).
func TestHugeDeltaRefused(t *testing.T) {
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// 16 MB of base64 (a whole number of samples) in one delta: what the
	// old 16 MiB limit let through.
	pre := []byte(`{"type":"response.output_audio.delta","event_id":"e","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"`)
	huge := append(pre, bytes.Repeat([]byte("AAAA"), 16e6/4-2)...)
	var toSend atomic.Pointer[[]byte] // dropped before the heap is measured
	wrote := make(chan struct{})
	toSend.Store(new(append(huge, `"}`...)))
	huge = nil
	url := wsServer(t, func(n int, ws *websocket.Conn) {
		_ = ws.WriteMessage(websocket.TextMessage, []byte(sessionCreated))
		if m := toSend.Swap(nil); m != nil {
			_ = ws.WriteMessage(websocket.TextMessage, *m)
			close(wrote) // the server holds the delta no longer
		}
		_, _, _ = ws.ReadMessage() // hold until the client goes
	})
	got := 0
	c, err := realtime.New(realtime.Options{URL: url, BackoffMin: time.Millisecond, Audio: func(string, []int16) { got++ }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var lost error
	for ev := range c.Events() {
		if d, ok := ev.(*realtime.Disconnected); ok && lost == nil {
			lost = d.Err
		}
		if _, ok := ev.(*realtime.Connected); ok && lost != nil {
			break // connected again after the delta: measure the running client
		}
	}
	select {
	case <-wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("the server is still writing the delta")
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	cancel()
	for range c.Events() {
	}
	<-done
	if !errors.Is(lost, websocket.ErrReadLimit) || !strings.Contains(lost.Error(), "limit") {
		t.Errorf("Disconnected(%v), want the read limit named", lost)
	}
	if got != 0 {
		t.Errorf("the sink got %d deltas, want the huge one refused", got)
	}
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("live heap %d KiB before, %d KiB after a 16 MB delta", before.HeapAlloc>>10, after.HeapAlloc>>10)
	if grown > 2<<20 {
		t.Errorf("live heap grew by %d KiB after a 16 MB delta, want under 2 MiB", grown>>10)
	}
}

// 10,000 malformed messages cost at most 100 log lines.
func TestMalformedFloodLogsLittle(t *testing.T) {
	const flood = 10000
	url := wsServer(t, func(n int, ws *websocket.Conn) {
		_ = ws.WriteMessage(websocket.TextMessage, []byte(sessionCreated))
		for i := range flood {
			_ = ws.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "not json %d {", i))
		}
		_, _, _ = ws.ReadMessage()
	})
	var buf syncBuffer
	bad := 0
	runClient(t, realtime.Options{URL: url, Logger: slog.New(slog.NewTextHandler(&buf, nil))}, func(ev realtime.Event) bool {
		if _, ok := ev.(*realtime.ProtocolError); ok {
			bad++
		}
		return bad == flood
	})
	lines := strings.Count(buf.String(), "\n")
	t.Logf("%d malformed messages, %d log lines", bad, lines)
	if lines > 100 {
		t.Errorf("%d malformed messages gave %d log lines, want at most 100", bad, lines)
	}
	if !strings.Contains(buf.String(), "realtime bad message") {
		t.Errorf("no line says there were bad messages:\n%s", buf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// Failed connection attempts say why in plain words, and a huge URL does
// not make huge errors or log lines.
func TestDialErrorsInPlainWords(t *testing.T) {
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	// A port that accepts and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var held sync.WaitGroup
	held.Add(1)
	go func() {
		defer held.Done()
		var conns []net.Conn
		for {
			c, err := silent.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	defer held.Wait()
	defer silent.Close()
	s500 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer s500.Close()
	noDNS := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}}
	long := "/v1/realtime?pad=" + strings.Repeat("p", 200<<10)
	cases := []struct {
		name, url string
		dialer    *websocket.Dialer
		want      string
	}{
		{"HTTP 500", "ws" + strings.TrimPrefix(s500.URL, "http") + long, nil, "HTTP 500 Internal Server Error"},
		{"dial timeout", "ws://" + silent.Addr().String() + long, nil, "no answer within 300ms (dial timeout)"},
		{"refused", "ws://" + closed + long, nil, "refused"},
		{"DNS", "wss://api.example.invalid" + long, noDNS, "api.example.invalid was not found (DNS)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuffer
			var lost error
			timeout := 10 * time.Second // a loaded machine under -race is slow
			if tc.name == "dial timeout" {
				timeout = 300 * time.Millisecond
			}
			runClient(t, realtime.Options{URL: tc.url, Dialer: tc.dialer, DialTimeout: timeout,
				Logger: slog.New(slog.NewTextHandler(&buf, nil))}, func(ev realtime.Event) bool {
				if d, ok := ev.(*realtime.Disconnected); ok {
					lost = d.Err
				}
				return lost != nil
			})
			var de *realtime.DialError
			if !errors.As(lost, &de) || !strings.Contains(lost.Error(), tc.want) {
				t.Errorf("Disconnected(%v), want a DialError saying %q", lost, tc.want)
			}
			if len(lost.Error()) > 500 {
				t.Errorf("the error is %d bytes long, want the URL left out", len(lost.Error()))
			}
			for l := range strings.SplitSeq(buf.String(), "\n") {
				if len(l) > 4<<10 {
					t.Errorf("a log line of %d bytes: %.300s", len(l), l)
				}
			}
		})
	}
}
