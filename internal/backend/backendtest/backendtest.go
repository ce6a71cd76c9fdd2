package backendtest

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/voiced-project/voiced/internal/backend"
)

// Start runs b until the returned stop is called or the test ends; stop
// checks that Run returned context.Canceled and drains Events. Calling it
// again does nothing.
func Start(t testing.TB, b backend.Backend) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
			for range b.Events() { // closed by Run
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// Wait reads events until one matches, failing after 5 s; it returns the
// events read, the match last.
func Wait(t testing.TB, b backend.Backend, what string, match func(backend.Event) bool) []backend.Event {
	t.Helper()
	var seen []backend.Event
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-b.Events():
			if !ok {
				t.Fatalf("events closed waiting for %s", what)
			}
			seen = append(seen, ev)
			if match(ev) {
				return seen
			}
		case <-timeout:
			var kinds []string
			for _, e := range seen {
				kinds = append(kinds, e.Kind.String())
			}
			t.Fatalf("no %s within 5 s; saw %v", what, kinds)
		}
	}
}

// Harness is a backend under test: the test's own harness embeds it.
type Harness struct {
	T testing.TB
	B backend.Backend
}

// Wait is Wait on h's backend.
func (h Harness) Wait(what string, match func(backend.Event) bool) []backend.Event {
	h.T.Helper()
	return Wait(h.T, h.B, what, match)
}

// Send is Send to h's backend.
func (h Harness) Send(pcm []int16) {
	h.T.Helper()
	Send(h.T, h.B, pcm)
}

// Kind matches the events of kind k.
func Kind(k backend.Kind) func(backend.Event) bool {
	return func(e backend.Event) bool { return e.Kind == k }
}

// Speech is ms of a loud 300 Hz tone at 16 kHz.
func Speech(ms int) []int16 {
	out := make([]int16, 16*ms)
	for i := range out {
		out[i] = int16(6000 * math.Sin(2*math.Pi*300*float64(i)/16000))
	}
	return out
}

// Send streams pcm to b in 100 ms chunks (at 16 kHz), failing on an error.
func Send(t testing.TB, b backend.Backend, pcm []int16) {
	t.Helper()
	for i := 0; i < len(pcm); i += 1600 {
		if err := b.AppendAudio(pcm[i:min(i+1600, len(pcm))]); err != nil {
			t.Fatal(err)
		}
	}
}

// Sink collects reply audio; Audio is its backend.AudioSink.
type Sink struct {
	mu      sync.Mutex // guards following fields
	total   int
	rate    int         // of the last chunk
	rates   map[int]int // samples by rate
	replies map[string]int
}

// Audio counts pcm as reply audio of replyID at rate.
func (s *Sink) Audio(replyID string, pcm []int16, rate int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rates == nil {
		s.rates, s.replies = map[int]int{}, map[string]int{}
	}
	s.total += len(pcm)
	s.rate = rate
	s.rates[rate] += len(pcm)
	s.replies[replyID] += len(pcm)
}

// Total is the number of samples received.
func (s *Sink) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Rate is the rate of the last chunk.
func (s *Sink) Rate() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rate
}

// AtRate is the number of samples received at rate.
func (s *Sink) AtRate(rate int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rates[rate]
}

// Quiet serves a Socket.IO service that follows script, then reads and
// drops everything without allocating (AllocsPerRun counts the whole
// process, and a fake's decoding would count too). Each step of script is
// a frame to send, or "" to read one frame; the open packet is sent first.
// It returns the service's URL.
func Quiet(t testing.TB, script ...string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.WriteMessage(websocket.TextMessage, []byte(`0{"sid":"q","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
		for _, s := range script {
			if s == "" {
				ws.ReadMessage()
				continue
			}
			ws.WriteMessage(websocket.TextMessage, []byte(s))
		}
		io.Copy(io.Discard, ws.UnderlyingConn())
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}
