package clocktest

import (
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/clock"
)

// Clock is a fake clock. Timers, tickers and After channels fire, and AfterFunc
// callbacks run, only inside Advance or Sleep, in time order, with the clock set
// to each firing time. Callbacks run on the caller's goroutine, so a test
// knows they are done when Advance returns. Like the real ones, a timer's
// channel holds one value and further firings are dropped.
type Clock struct {
	mu      sync.Mutex // guards following fields
	now     time.Time
	seq     int
	timers  []*timer
	sleeps  []time.Duration
	onSleep func()
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

type timer struct {
	c      *Clock
	ch     chan time.Time // nil for AfterFunc
	f      func()         // AfterFunc's callback
	when   time.Time      // guarded by c.mu, as are the fields below
	seq    int            // orders timers due at the same time: first set, first fired
	period time.Duration  // 0 for a timer
	active bool
	listed bool // in c.timers
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires once, d after now.
func (c *Clock) NewTimer(d time.Duration) clock.Timer {
	return c.add(&timer{ch: make(chan time.Time, 1)}, d)
}

// After returns a channel that receives the time d after now.
func (c *Clock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).C() }

// AfterFunc schedules f for d after now.
func (c *Clock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return c.add(&timer{f: f}, d)
}

// NewTicker returns a ticker that fires every d, starting d after now.
func (c *Clock) NewTicker(d time.Duration) clock.Ticker {
	if d <= 0 {
		panic("clocktest: non-positive ticker period")
	}
	return ticker{c.add(&timer{ch: make(chan time.Time, 1), period: d}, d)}
}

func (c *Clock) add(t *timer, d time.Duration) *timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t.c = c
	c.seq++
	t.when, t.seq, t.active, t.listed = c.now.Add(d), c.seq, true, true
	c.timers = append(c.timers, t)
	return t
}

// Sleep is what a goroutine that paces itself sees: unless stop is closed, in
// which case it returns false, the clock moves d forward (as Advance) and the
// sleep is recorded (Slept).
func (c *Clock) Sleep(d time.Duration, stop <-chan struct{}) bool {
	select {
	case <-stop:
		return false
	default:
	}
	c.mu.Lock()
	f := c.onSleep
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	if f != nil {
		f()
	}
	c.Advance(d)
	return true
}

// OnSleep sets a function that each Sleep calls first, outside the clock's lock.
func (c *Clock) OnSleep(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onSleep = f
}

// Slept returns the durations passed to Sleep, in order.
func (c *Clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// Advance moves the clock forward by d, firing what falls due at its own time,
// earliest first. It returns how many channel values were delivered and
// callbacks run, so a test can wait until the consumer has taken each of them.
func (c *Clock) Advance(d time.Duration) int {
	c.mu.Lock()
	end := c.now.Add(max(d, 0))
	fired := 0
	for {
		t := c.nextLocked(end)
		if t == nil {
			break
		}
		c.now = t.when
		if t.f != nil {
			t.active = false
			c.mu.Unlock()
			t.f()
			fired++
			c.mu.Lock()
			continue
		}
		select {
		case t.ch <- t.when:
			fired++
		default:
		}
		if t.period > 0 {
			c.seq++
			t.when, t.seq = t.when.Add(t.period), c.seq
		} else {
			t.active = false
		}
	}
	if end.After(c.now) {
		c.now = end
	}
	c.pruneLocked()
	c.mu.Unlock()
	return fired
}

// nextLocked returns the earliest active timer due by end.
func (c *Clock) nextLocked(end time.Time) *timer {
	var next *timer
	for _, t := range c.timers {
		if !t.active || t.when.After(end) {
			continue
		}
		if next == nil || t.when.Before(next.when) || (t.when.Equal(next.when) && t.seq < next.seq) {
			next = t
		}
	}
	return next
}

// pruneLocked forgets timers that are not running; Reset lists them again.
func (c *Clock) pruneLocked() {
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.active {
			kept = append(kept, t)
		} else {
			t.listed = false
		}
	}
	clear(c.timers[len(kept):])
	c.timers = kept
}

// Next returns when the earliest pending timer is due.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.nextLocked(time.Unix(1<<62, 0))
	if t == nil {
		return time.Time{}, false
	}
	return t.when, true
}

// Pending returns how many timers, tickers and callbacks are running.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if t.active {
			n++
		}
	}
	return n
}

func (t *timer) C() <-chan time.Time { return t.ch }

// Stop stops the timer and, like time.Timer since Go 1.23, discards an unread value.
func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	t.drainLocked()
	return was
}

// Reset makes the timer fire d from now, discarding an unread value; it reports
// whether the timer was running.
func (t *timer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.resetLocked(d)
	return was
}

func (t *timer) resetLocked(d time.Duration) {
	c := t.c
	c.seq++
	t.when, t.seq, t.active = c.now.Add(d), c.seq, true
	if !t.listed {
		t.listed = true
		c.timers = append(c.timers, t)
	}
	t.drainLocked()
}

func (t *timer) drainLocked() {
	if t.ch == nil {
		return
	}
	select {
	case <-t.ch:
	default:
	}
}

// ticker is a timer with a period, seen through clock.Ticker.
type ticker struct{ t *timer }

func (k ticker) C() <-chan time.Time { return k.t.ch }
func (k ticker) Stop()               { k.t.Stop() }

// Reset restarts the ticker with period d from now, discarding an unread value.
func (k ticker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clocktest: non-positive ticker period")
	}
	k.t.c.mu.Lock()
	defer k.t.c.mu.Unlock()
	k.t.period = d
	k.t.resetLocked(d)
}
