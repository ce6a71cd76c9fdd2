package sio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recHandler records what a Client reports.
type recHandler struct {
	c       *Client
	opens   atomic.Int32
	onOpen  func() error
	onEvent func(name string) error

	mu     sync.Mutex
	closed []time.Duration
	errs   []error
	notify chan struct{}
}

func (h *recHandler) Connecting() {}
func (h *recHandler) Open() error {
	h.opens.Add(1)
	if h.onOpen != nil {
		return h.onOpen()
	}
	return nil
}
func (h *recHandler) Packet(p Packet) error {
	name, _, _ := SplitEvent(p.Data)
	if h.onEvent != nil {
		return h.onEvent(string(name))
	}
	return nil
}
func (h *recHandler) Closed(err error, retryIn time.Duration) {
	h.mu.Lock()
	h.closed = append(h.closed, retryIn)
	h.errs = append(h.errs, err)
	h.mu.Unlock()
	select {
	case h.notify <- struct{}{}:
	default:
	}
}

func (h *recHandler) waitClosed(t *testing.T, n int) ([]time.Duration, []error) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		h.mu.Lock()
		if len(h.closed) >= n {
			defer h.mu.Unlock()
			return append([]time.Duration(nil), h.closed...), append([]error(nil), h.errs...)
		}
		h.mu.Unlock()
		select {
		case <-h.notify:
		case <-deadline:
			t.Fatalf("fewer than %d link ends within 5 s", n)
		}
	}
}

// server accepts, joins any namespace and emits "hello"; refuse makes it
// answer 503 instead.
func server(t *testing.T, refuse *atomic.Bool) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse != nil && refuse.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		c, err := Accept(w, r, ServerOptions{})
		if err != nil {
			return
		}
		defer c.Close()
		for {
			p, err := c.Read()
			if err != nil {
				return
			}
			if p.Type == TypeConnect {
				c.WriteRaw(AppendConnect(nil, string(p.Namespace), []byte(`{"sid":"x"}`)))
				c.Emit(string(p.Namespace), -1, "hello", nil)
			}
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

func run(t *testing.T, o ClientOptions, h *recHandler) (stop func()) {
	t.Helper()
	h.notify = make(chan struct{}, 1)
	c, err := NewClient(o, h)
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	}
}

func TestClientBackoff(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	ts := server(t, &refuse)
	h := &recHandler{}
	stop := run(t, ClientOptions{URL: ts.URL, Namespace: "/n", BackoffMin: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond, Rand: func() float64 { return 1 }}, h)
	defer stop()
	waits, errs := h.waitClosed(t, 4)
	// Doubling from 10 ms, capped at 40 ms; Rand 1 takes the whole jitter.
	want := []time.Duration{10, 20, 40, 40}
	for i, w := range want {
		if waits[i] != w*time.Millisecond {
			t.Errorf("wait %d = %v, want %v", i, waits[i], w*time.Millisecond)
		}
	}
	if !strings.Contains(errs[0].Error(), "HTTP 503") {
		t.Errorf("link error %v, want it to name the HTTP 503", errs[0])
	}
	refuse.Store(false)
	waitOpen(t, h)
}

func waitOpen(t *testing.T, h *recHandler) {
	t.Helper()
	for range 500 {
		if h.opens.Load() > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no link within 5 s")
}

func TestClientStopAndRedial(t *testing.T) {
	ts := server(t, nil)
	h := &recHandler{}
	h.onEvent = func(name string) error {
		h.c.Ready()
		return &StopError{Err: errors.New("go away")}
	}
	stop := run(t, ClientOptions{URL: ts.URL, Namespace: "/n"}, h)
	defer stop()
	waits, _ := h.waitClosed(t, 1)
	if waits[0] != 0 {
		t.Errorf("wait after a StopError without Wait = %v, want 0 (until Redial)", waits[0])
	}
	time.Sleep(100 * time.Millisecond)
	if n := h.opens.Load(); n != 1 {
		t.Fatalf("links = %d before Redial, want 1", n)
	}
	h.c.Redial()
	h.waitClosed(t, 2)
	if n := h.opens.Load(); n != 2 {
		t.Errorf("links = %d after Redial, want 2", n)
	}
}

func TestClientSetupTimeout(t *testing.T) {
	ts := server(t, nil)
	h := &recHandler{} // never calls Ready
	stop := run(t, ClientOptions{URL: ts.URL, Namespace: "/n", SetupTimeout: 50 * time.Millisecond}, h)
	defer stop()
	_, errs := h.waitClosed(t, 1)
	if !errors.Is(errs[0], ErrSetupTimeout) {
		t.Errorf("link error %v, want ErrSetupTimeout", errs[0])
	}
}

func TestClientNoLeaks(t *testing.T) {
	ts := server(t, nil)
	h := &recHandler{}
	h.onEvent = func(string) error { h.c.Ready(); return nil }
	stop := run(t, ClientOptions{URL: ts.URL, Namespace: "/n"}, h)
	waitOpen(t, h)
	if err := h.c.Send(AppendEvent(nil, "/n", -1, "x", nil)); err != nil {
		t.Fatal(err)
	}
	stop()
	for range 100 {
		buf := make([]byte, 1<<20)
		st := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(st, "sio.(*Client)") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("a goroutine of the Client outlived Run")
}

// TestClientBackoffGrowsUntilStable: a session that goes live and ends at once keeps
// the backoff growing, as the Realtime client does; one that stayed up StableAfter
// starts it again from BackoffMin.
func TestClientBackoffGrowsUntilStable(t *testing.T) {
	for _, tc := range []struct {
		stable time.Duration
		want   []time.Duration
	}{
		{time.Hour, []time.Duration{10, 20, 40}},
		{time.Nanosecond, []time.Duration{10, 10, 10}},
	} {
		ts := server(t, nil)
		h := &recHandler{}
		h.onEvent = func(name string) error {
			h.c.Ready() // the session is live...
			time.Sleep(time.Millisecond)
			return errors.New("and gone") // ...and ends at once
		}
		stop := run(t, ClientOptions{URL: ts.URL, Namespace: "/n", BackoffMin: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond,
			StableAfter: tc.stable, Rand: func() float64 { return 1 }}, h)
		waits, _ := h.waitClosed(t, 3)
		stop()
		for i, w := range tc.want {
			if waits[i] != w*time.Millisecond {
				t.Errorf("StableAfter %v: wait %d = %v, want %v", tc.stable, i, waits[i], w*time.Millisecond)
			}
		}
	}
}
