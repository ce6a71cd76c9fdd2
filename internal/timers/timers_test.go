package timers

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

var epoch = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC) // in the past, for the real-clock Run test

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90s", 90 * time.Second, true},
		{" 5m ", 5 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"300", 300 * time.Second, true},
		{"2.5", 2500 * time.Millisecond, true},
		{"0", 0, false},
		{"-5m", 0, false},
		{"25h", 0, false},
		{"NaN", 0, false},
		{"1e30", 0, false},
		{"five minutes", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestSetCancelPersist(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeNow{t: epoch}
	s, err := Open(Options{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	tea, err := s.Set(5*time.Minute, "tea")
	if err != nil {
		t.Fatal(err)
	}
	eggs, err := s.Set(time.Minute, " Eggs ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set(time.Minute, string([]byte{0xff})); err == nil {
		t.Errorf("Set with a label that is not UTF-8 = nil error")
	}
	if _, err := s.Set(0, "x"); err == nil {
		t.Errorf("Set(0) = nil error")
	}
	if got := ids(s.List()); got != "t2 t1" {
		t.Errorf("List() = %s, want t2 t1 (soonest first)", got)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("file mode = %v, want 0600", m)
	}

	// A restart: the list comes back as it was, and ids go on.
	s2, err := Open(Options{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	got := s2.List()
	if len(got) != 2 || got[0] != eggs || got[1] != tea {
		t.Errorf("after reopening: %+v, want %+v and %+v", got, eggs, tea)
	}
	if _, err := s2.Cancel("EGGS"); err != nil {
		t.Errorf("Cancel by label: %v", err)
	}
	if _, err := s2.Cancel("t9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Cancel(t9) = %v, want ErrNotFound", err)
	}
	n, _ := s2.Set(time.Hour, "")
	if n.ID != "t3" {
		t.Errorf("id after reopening = %s, want t3", n.ID)
	}
	s3, _ := Open(Options{Dir: dir, Now: clk.Now})
	if got := ids(s3.List()); got != "t1 t3" {
		t.Errorf("after cancel and reopen: %s, want t1 t3", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d files, want only %s (no temporary left)", len(entries), FileName)
	}
}

func TestLimit(t *testing.T) {
	s, _ := Open(Options{})
	for i := range MaxTimers {
		if _, err := s.Set(time.Minute, ""); err != nil {
			t.Fatalf("Set %d: %v", i, err)
		}
	}
	if _, err := s.Set(time.Minute, ""); err == nil {
		t.Errorf("Set beyond %d timers = nil error", MaxTimers)
	}
}

func TestBadFileSetAside(t *testing.T) {
	for _, tc := range []struct{ name, content string }{
		{"not json", "{"},
		{"wrong version", `{"version":7,"timers":[]}`},
		{"repeated id", `{"version":1,"timers":[{"id":"t1","ends_at":"2026-12-07T20:00:00Z"},{"id":"t1","ends_at":"2026-12-07T20:00:00Z"}]}`},
		{"no end", `{"version":1,"timers":[{"id":"t1"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, FileName)
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(Options{Dir: dir})
			if err == nil {
				t.Fatalf("Open of a bad file = nil error")
			}
			if s == nil || len(s.List()) != 0 {
				t.Fatalf("Open of a bad file: store %v, want an empty usable one", s)
			}
			if b, rerr := os.ReadFile(p + ".bad"); rerr != nil || string(b) != tc.content {
				t.Errorf("bad file not set aside: %v", rerr)
			}
			if _, err := s.Set(time.Minute, "new"); err != nil {
				t.Errorf("Set after a bad file: %v", err)
			}
		})
	}
}

func TestFireAndDismiss(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeNow{t: epoch}
	s, _ := Open(Options{Dir: dir, Now: clk.Now})
	s.Set(time.Minute, "a")
	s.Set(2*time.Minute, "b")
	if got := s.fire(); len(got) != 0 {
		t.Errorf("fire before due = %v", got)
	}
	clk.add(time.Minute)
	got := s.fire()
	if len(got) != 1 || got[0].Label != "a" || !got[0].Ringing {
		t.Fatalf("fire at 1 min = %+v, want a ringing", got)
	}
	if got := s.fire(); len(got) != 0 {
		t.Errorf("a ringing timer fired again: %v", got)
	}
	if !s.Ringing() {
		t.Errorf("Ringing() = false with a ringing")
	}
	// Ringing is kept across a restart: not dismissed, it still rings.
	s2, _ := Open(Options{Dir: dir, Now: clk.Now})
	if !s2.Ringing() {
		t.Errorf("ringing state lost by reopening")
	}
	gone, err := s.Dismiss()
	if err != nil || len(gone) != 1 || gone[0].Label != "a" {
		t.Errorf("Dismiss() = %v, %v; want a", gone, err)
	}
	if s.Ringing() || ids(s.List()) != "t2" {
		t.Errorf("after Dismiss: ringing %v, list %s", s.Ringing(), ids(s.List()))
	}
	if gone, _ := s.Dismiss(); gone != nil {
		t.Errorf("Dismiss with nothing ringing = %v", gone)
	}
}

// A timer due while voiced was down rings as soon as Run starts, and one set
// while Run waits rings when due.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeNow{t: epoch}
	s, _ := Open(Options{Dir: dir, Now: clk.Now})
	s.Set(time.Minute, "missed")
	clk.add(time.Hour)
	rang := make(chan Timer, 4)
	s2, err := Open(Options{Dir: dir, Now: time.Now, OnRing: func(t Timer) { rang <- t }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s2.Run(ctx) }()
	if got := wait(t, rang); got.Label != "missed" {
		t.Errorf("first ring = %+v, want missed", got)
	}
	if _, err := s2.Set(time.Second, "soon"); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, rang); got.Label != "soon" {
		t.Errorf("second ring = %+v, want soon", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func wait(t *testing.T, c <-chan Timer) Timer {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second): // a hung Run, not a timing check
		t.Fatal("no ring")
		return Timer{}
	}
}

func TestJSON(t *testing.T) {
	tm := Timer{ID: "t1", Label: "tea", Duration: 90 * time.Second, SetAt: epoch, EndsAt: epoch.Add(90 * time.Second)}
	b, err := json.Marshal(tm)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	if m["duration_s"] != 90.0 || m["id"] != "t1" || m["ringing"] != false {
		t.Errorf("JSON = %s", b)
	}
	var back Timer
	if err := json.Unmarshal(b, &back); err != nil || back != tm {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, tm)
	}
}

func ids(ts []Timer) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += " "
		}
		s += t.ID
	}
	return s
}
