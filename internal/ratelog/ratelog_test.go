package ratelog_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/ratelog"
)

// fakeNow is a clock the test moves.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeNow) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func lines(b *bytes.Buffer) []string {
	s := strings.TrimSuffix(b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestThrottle(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1e9, 0)}
	var buf bytes.Buffer
	h := ratelog.New(slog.NewTextHandler(&buf, nil), ratelog.Options{Burst: 3, Every: 10 * time.Second, Now: clk.now})
	log := slog.New(h)
	part := log.With("part", "realtime") // shares the buckets

	// 10,001 bad messages over 10 s, logged by two parts under one message.
	for i := range 10001 {
		if i > 0 {
			clk.add(time.Millisecond)
		}
		if i%2 == 0 {
			log.Warn("bad message", "n", i)
		} else {
			part.Warn("bad message", "n", i)
		}
	}
	got := lines(&buf)
	// The burst, then one per 10 s of the 10 s that passed.
	if len(got) != 4 {
		t.Fatalf("10,001 lines of one kind over 10 s gave %d lines, want 4:\n%s", len(got), buf.String())
	}
	if !strings.Contains(got[3], "suppressed=") {
		t.Errorf("line after a drop = %q, want suppressed=N", got[3])
	}

	// Another kind is not held back by the first.
	buf.Reset()
	log.Warn("other")
	log.Info("bad message") // another level is another kind
	if n := len(lines(&buf)); n != 2 {
		t.Errorf("other kinds gave %d lines, want 2:\n%s", n, buf.String())
	}

	// A quiet while refills the burst.
	buf.Reset()
	clk.add(time.Minute)
	for range 5 {
		log.Warn("bad message")
	}
	if n := len(lines(&buf)); n != 3 {
		t.Errorf("after a quiet minute, 5 lines gave %d, want the burst of 3", n)
	}
}

func TestClip(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(ratelog.New(slog.NewTextHandler(&buf, nil), ratelog.Options{MaxValue: 100}))
	huge := "ws://" + strings.Repeat("a", 200<<10)
	log.With("url", huge).Warn("dial", "err", errors.New("dial "+huge+": refused"), "g", slog.GroupValue(slog.String("u", huge)))
	log.Warn(huge)
	for i, l := range lines(&buf) {
		if len(l) > 1000 {
			t.Errorf("line %d is %d bytes, want under 1000: %.200s", i, len(l), l)
		}
		if !strings.Contains(l, "more bytes)") {
			t.Errorf("line %d = %.300s, want it to say what was left out", i, l)
		}
	}
	if n := len(lines(&buf)); n != 2 {
		t.Errorf("%d lines, want 2", n)
	}
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…(3 more bytes)"},
		{"aé", 2, "a…(2 more bytes)"}, // é is two bytes: not cut in half
	} {
		if got := ratelog.Clip(tc.in, tc.n); got != tc.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestWrapShares(t *testing.T) {
	var buf bytes.Buffer
	l := ratelog.Wrap(slog.New(slog.NewTextHandler(&buf, nil)), ratelog.Options{Burst: 2})
	if ratelog.Wrap(l, ratelog.Options{}) != l {
		t.Errorf("Wrap of a throttled logger made another: two sets of buckets")
	}
}
