package timers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits on what a user (or the model) may set.
const (
	MinDuration = time.Second
	MaxDuration = 24 * time.Hour
	MaxTimers   = 32
	MaxLabel    = 64 // bytes
)

// FileName is the store's file in the state directory.
const FileName = "timers.json"

// ErrNotFound is returned for a timer that does not exist.
var ErrNotFound = errors.New("timers: no such timer")

// Timer is one timer, as listed.
type Timer struct {
	ID       string        `json:"id"`
	Label    string        `json:"label,omitempty"`
	Duration time.Duration `json:"-"`
	SetAt    time.Time     `json:"set_at"`
	EndsAt   time.Time     `json:"ends_at"`
	Ringing  bool          `json:"ringing"`
}

// MarshalJSON adds the duration in seconds, which a JSON reader understands
// better than nanoseconds.
func (t Timer) MarshalJSON() ([]byte, error) {
	type plain Timer
	return json.Marshal(struct {
		plain
		DurationS float64 `json:"duration_s"`
	}{plain(t), t.Duration.Seconds()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Timer) UnmarshalJSON(b []byte) error {
	type plain Timer
	var v struct {
		plain
		DurationS float64 `json:"duration_s"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = Timer(v.plain)
	t.Duration = time.Duration(v.DurationS * float64(time.Second))
	return nil
}

// Remaining is how long until t rings, 0 once due.
func (t Timer) Remaining(now time.Time) time.Duration { return max(t.EndsAt.Sub(now), 0) }

// Options configure a Store.
type Options struct {
	// Dir is the state directory; "" keeps the timers in memory only.
	Dir string
	// OnRing is called from Run's goroutine when a timer falls due. It must
	// not block for long.
	OnRing func(Timer)
	// OnChange, if set, is called after every change of the list (HTTP
	// event stream); from the goroutine making the change.
	OnChange func()
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Store holds the timers. Its methods are safe for concurrent use.
type Store struct {
	opts Options
	wake chan struct{} // 1-buffered: the list changed, Run re-plans

	mu     sync.Mutex // guards following fields
	timers []Timer    // in order of EndsAt
	nextID int
}

// file is the on-disk form.
type file struct {
	Version int     `json:"version"`
	NextID  int     `json:"next_id"`
	Timers  []Timer `json:"timers"`
}

// Open loads the timers kept in o.Dir. A missing file is an empty list. A
// file that cannot be read is set aside as timers.json.bad and reported:
// the store is still returned, empty and usable.
func Open(o Options) (*Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Store{opts: o, wake: make(chan struct{}, 1), nextID: 1}
	if o.Dir == "" {
		return s, nil
	}
	p := filepath.Join(o.Dir, FileName)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("timers: read %s: %w", p, err)
	}
	var f file
	err = json.Unmarshal(b, &f)
	if err == nil {
		err = f.check()
	}
	if err != nil {
		bad := p + ".bad"
		if rerr := os.Rename(p, bad); rerr != nil {
			return s, fmt.Errorf("timers: %s: %w (and set aside: %w)", p, err, rerr)
		}
		return s, fmt.Errorf("timers: %s is not a timer list (%w); set aside as %s", p, err, bad)
	}
	s.timers, s.nextID = f.Timers, max(f.NextID, 1)
	s.sortLocked()
	return s, nil
}

// check validates a loaded file.
func (f *file) check() error {
	if f.Version != 1 {
		return fmt.Errorf("version %d, want 1", f.Version)
	}
	if len(f.Timers) > MaxTimers {
		return fmt.Errorf("%d timers, at most %d", len(f.Timers), MaxTimers)
	}
	seen := map[string]bool{}
	for i, t := range f.Timers {
		switch {
		case t.ID == "" || seen[t.ID]:
			return fmt.Errorf("timer %d: id %q missing or repeated", i, t.ID)
		case t.EndsAt.IsZero():
			return fmt.Errorf("timer %s: no ends_at", t.ID)
		case len(t.Label) > MaxLabel || !utf8.ValidString(t.Label):
			return fmt.Errorf("timer %s: label is not valid UTF-8 of at most %d bytes", t.ID, MaxLabel)
		}
		seen[t.ID] = true
	}
	return nil
}

// ParseDuration reads a timer's length as the model or a user writes it: a
// Go duration ("90s", "5m", "1h30m") or a number of seconds ("300").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, nerr := strconv.ParseFloat(s, 64)
		if nerr != nil || secs != secs { // NaN
			return 0, fmt.Errorf("timers: duration %q: want a number of seconds or a duration like 90s, 5m, 1h30m", s)
		}
		if secs > MaxDuration.Seconds() || secs < 0 {
			return 0, fmt.Errorf("timers: duration %q: must be between %v and %v", s, MinDuration, MaxDuration)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < MinDuration || d > MaxDuration {
		return 0, fmt.Errorf("timers: duration %q: must be between %v and %v", s, MinDuration, MaxDuration)
	}
	return d, nil
}

// Set adds a timer of length d. When the file cannot be written the timer
// is still set, in memory, and the error says so.
func (s *Store) Set(d time.Duration, label string) (Timer, error) {
	label = strings.TrimSpace(label)
	switch {
	case d < MinDuration || d > MaxDuration:
		return Timer{}, fmt.Errorf("timers: duration %v: must be between %v and %v", d, MinDuration, MaxDuration)
	case len(label) > MaxLabel || !utf8.ValidString(label):
		return Timer{}, fmt.Errorf("timers: label %.20q…: must be valid UTF-8 of at most %d bytes", label, MaxLabel)
	}
	s.mu.Lock()
	if len(s.timers) >= MaxTimers {
		s.mu.Unlock()
		return Timer{}, fmt.Errorf("timers: %d timers are set, the most there can be; cancel one first", MaxTimers)
	}
	now := s.opts.Now()
	t := Timer{ID: "t" + strconv.Itoa(s.nextID), Label: label, Duration: d, SetAt: now, EndsAt: now.Add(d)}
	s.nextID++
	s.timers = append(s.timers, t)
	s.sortLocked()
	err := s.saveLocked()
	s.mu.Unlock()
	s.changed()
	return t, err
}

// List returns the timers, soonest first.
func (s *Store) List() []Timer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.timers)
}

// Cancel removes the timer whose ID is key or, failing that, the one whose
// label is key (case-insensitive). It returns the timer removed.
func (s *Store) Cancel(key string) (Timer, error) {
	s.mu.Lock()
	i := slices.IndexFunc(s.timers, func(t Timer) bool { return t.ID == key })
	if i < 0 && key != "" {
		i = slices.IndexFunc(s.timers, func(t Timer) bool { return strings.EqualFold(t.Label, strings.TrimSpace(key)) })
	}
	if i < 0 {
		s.mu.Unlock()
		return Timer{}, fmt.Errorf("cancel %q: %w", key, ErrNotFound)
	}
	t := s.timers[i]
	s.timers = slices.Delete(s.timers, i, i+1)
	err := s.saveLocked()
	s.mu.Unlock()
	s.changed()
	return t, err
}

// Ringing reports whether any timer is ringing.
func (s *Store) Ringing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.timers, func(t Timer) bool { return t.Ringing })
}

// Dismiss removes the ringing timers and returns them (none: nil).
func (s *Store) Dismiss() ([]Timer, error) {
	s.mu.Lock()
	var gone []Timer
	s.timers = slices.DeleteFunc(s.timers, func(t Timer) bool {
		if t.Ringing {
			gone = append(gone, t)
		}
		return t.Ringing
	})
	var err error
	if gone != nil {
		err = s.saveLocked()
	}
	s.mu.Unlock()
	if gone != nil {
		s.changed()
	}
	return gone, err
}

// Run rings timers as they fall due until ctx is done; it returns nil then.
// Ringing does not wait for the file: a save that fails here is retried by
// the next change.
func (s *Store) Run(ctx context.Context) error {
	tm := time.NewTimer(time.Hour)
	defer tm.Stop()
	for {
		for _, t := range s.fire() {
			if s.opts.OnRing != nil {
				s.opts.OnRing(t)
			}
		}
		wait, ok := s.untilNext()
		tm.Stop()
		var due <-chan time.Time
		if ok {
			tm.Reset(wait)
			due = tm.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-due:
		}
	}
}

// fire marks the timers due now as ringing and returns them.
func (s *Store) fire() []Timer {
	s.mu.Lock()
	now := s.opts.Now()
	var rang []Timer
	for i := range s.timers {
		t := &s.timers[i]
		if !t.Ringing && !t.EndsAt.After(now) {
			t.Ringing = true
			rang = append(rang, *t)
		}
	}
	if rang != nil {
		_ = s.saveLocked() // the list is right in memory; the next change retries the file
	}
	s.mu.Unlock()
	if rang != nil {
		s.changed()
	}
	return rang
}

// untilNext is the wait until the next pending timer; ok is false when none is.
func (s *Store) untilNext() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.timers {
		if !t.Ringing {
			return t.Remaining(s.opts.Now()), true
		}
	}
	return 0, false
}

func (s *Store) changed() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
	if s.opts.OnChange != nil {
		s.opts.OnChange()
	}
}

func (s *Store) sortLocked() {
	slices.SortStableFunc(s.timers, func(a, b Timer) int { return a.EndsAt.Compare(b.EndsAt) })
}

// saveLocked replaces the file: a private temporary file beside it, synced,
// then renamed over it.
func (s *Store) saveLocked() error {
	if s.opts.Dir == "" {
		return nil
	}
	b, err := json.MarshalIndent(file{Version: 1, NextID: s.nextID, Timers: s.timers}, "", "  ")
	if err != nil {
		return fmt.Errorf("timers: encode: %w", err)
	}
	p := filepath.Join(s.opts.Dir, FileName)
	f, err := os.CreateTemp(s.opts.Dir, FileName+".*")
	if err != nil {
		return fmt.Errorf("timers: save %s: %w", p, err)
	}
	tmp := f.Name()
	// CreateTemp makes the file 0600 already; Chmod keeps it so under any umask.
	err = errors.Join(f.Chmod(0o600), writeSync(f, append(b, '\n')), f.Close())
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("timers: save %s: %w", p, err)
	}
	return nil
}

func writeSync(f *os.File, b []byte) error {
	if _, err := f.Write(b); err != nil {
		return err
	}
	return f.Sync()
}
