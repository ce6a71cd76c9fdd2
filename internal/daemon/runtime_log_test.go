package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/realtime"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newLogRuntime is a runtime with only what noteRealtime and the status need.
func newLogRuntime(buf *lockedBuffer) *runtime {
	log := slog.New(slog.NewTextHandler(buf, nil))
	d := New(Options{Config: config.Default(), Log: log})
	return &runtime{d: d, log: log, rlog: serverLogger(log)}
}

// 10,000 malformed server messages cost at most 100 lines, the client's and
// the runtime's together.
func TestMalformedMessagesThrottled(t *testing.T) {
	var buf lockedBuffer
	rt := newLogRuntime(&buf)
	client := rt.rlog.With("part", "realtime") // what build gives the client
	for i := range 10000 {
		err := fmt.Errorf("realtime: message %q: not JSON", fmt.Sprint("garbage ", i))
		client.Warn("realtime bad message", "err", err, "count", i+1)
		rt.noteRealtime(&realtime.ProtocolError{Err: err})
	}
	lines := strings.Count(buf.String(), "\n")
	if lines > 100 || lines == 0 {
		t.Errorf("10,000 malformed messages gave %d log lines, want 1 to 100", lines)
	}
	if !strings.Contains(buf.String(), "server message not understood") {
		t.Errorf("the log does not say messages were ignored:\n%s", buf.String())
	}
}

// A huge value (a 200 KB realtime.url in an error) makes no huge line.
func TestServerLogClipped(t *testing.T) {
	var buf lockedBuffer
	rt := newLogRuntime(&buf)
	url := "ws://" + strings.Repeat("h", 200<<10)
	rt.noteRealtime(&realtime.Disconnected{Err: errors.New("dial " + url + ": refused"), RetryIn: time.Second})
	for l := range strings.SplitSeq(buf.String(), "\n") {
		if len(l) > 4<<10 {
			t.Errorf("a log line of %d bytes", len(l))
		}
	}
	s := engine.Status{}
	rt.withConnError(&s)
	if len(s.LastError) > 2<<10 {
		t.Errorf("last_error is %d bytes", len(s.LastError))
	}
}

// last_error says why reconnects fail even when no session was ever lost
// (the engine records only lost sessions), and a newer engine error wins.
func TestLastErrorFromFailedAttempts(t *testing.T) {
	var buf lockedBuffer
	rt := newLogRuntime(&buf)
	old := engine.Status{LastError: "disconnected: connection lost", LastErrorAt: time.Now().Add(-time.Minute)}
	why := &realtime.DialError{Host: "api.example", Status: 500, Reason: "the server answered HTTP 500 Internal Server Error instead of opening a WebSocket"}
	rt.noteRealtime(&realtime.Disconnected{Err: why, RetryIn: time.Second})
	s := old
	rt.withConnError(&s)
	if !strings.Contains(s.LastError, "HTTP 500") {
		t.Errorf("last_error = %q, want the failed attempt's HTTP 500", s.LastError)
	}
	newer := engine.Status{LastError: "reply_timeout: no reply", LastErrorAt: time.Now().Add(time.Minute)}
	s = newer
	rt.withConnError(&s)
	if s.LastError != newer.LastError {
		t.Errorf("last_error = %q, want the newer engine error %q", s.LastError, newer.LastError)
	}
	// A hang-up (on_demand) is not an error.
	rt = newLogRuntime(&buf)
	rt.noteRealtime(&realtime.Disconnected{Err: realtime.ErrHangup})
	s = engine.Status{}
	rt.withConnError(&s)
	if s.LastError != "" {
		t.Errorf("last_error after a hang-up = %q, want none", s.LastError)
	}
}
