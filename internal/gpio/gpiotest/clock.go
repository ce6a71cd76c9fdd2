package gpiotest

import (
	"sort"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/gpio"
)

// Clock is a gpio.Clock whose time moves only when Advance is called.
type Clock struct {
	mu     sync.Mutex // guards following fields
	now    time.Time
	timers []*fakeTimer
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

var _ gpio.Clock = (*Clock)(nil)

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires once, d after now.
func (c *Clock) NewTimer(d time.Duration) gpio.Timer { return c.add(d, 0) }

// NewTicker returns a ticker that fires every d, starting d after now.
func (c *Clock) NewTicker(d time.Duration) gpio.Ticker {
	if d <= 0 {
		panic("gpiotest: non-positive ticker period")
	}
	return fakeTicker{c.add(d, d)}
}

func (c *Clock) add(d, period time.Duration) *fakeTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1), when: c.now.Add(d), period: period, active: true}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock forward by d, firing due timers and tickers in time order
// with the clock set to each firing time. Like the real ones, a channel holds one
// value and further firings are dropped. It returns how many values were delivered,
// so a test can wait until the consumer has taken each of them.
func (c *Clock) Advance(d time.Duration) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := c.now.Add(d)
	sent := 0
	for {
		var due []*fakeTimer
		for _, t := range c.timers {
			if t.active && !t.when.After(end) {
				due = append(due, t)
			}
		}
		if len(due) == 0 {
			break
		}
		sort.SliceStable(due, func(i, j int) bool { return due[i].when.Before(due[j].when) })
		t := due[0]
		c.now = t.when
		select {
		case t.ch <- t.when:
			sent++
		default:
		}
		if t.period > 0 {
			t.when = t.when.Add(t.period)
		} else {
			t.active = false
		}
	}
	c.now = end
	c.prune()
	return sent
}

// Pending returns how many timers and tickers are running.
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

// prune forgets stopped timers; tickers stay, they may be Reset.
func (c *Clock) prune() {
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.active || t.period > 0 {
			kept = append(kept, t)
		}
	}
	c.timers = kept
}

type fakeTimer struct {
	c      *Clock
	ch     chan time.Time
	when   time.Time     // guarded by c.mu
	period time.Duration // 0 for a timer; guarded by c.mu
	active bool          // guarded by c.mu
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

// Stop stops the timer and, like time.Timer since Go 1.23, discards an unread value.
func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	t.drainLocked()
	return was
}

// fakeTicker is a fakeTimer with a period, seen through the Ticker interface.
type fakeTicker struct{ t *fakeTimer }

func (t fakeTicker) C() <-chan time.Time   { return t.t.ch }
func (t fakeTicker) Stop()                 { t.t.Stop() }
func (t fakeTicker) Reset(d time.Duration) { t.t.Reset(d) }

// Reset restarts a ticker with period d from now, discarding an unread value.
func (t *fakeTimer) Reset(d time.Duration) {
	if d <= 0 {
		panic("gpiotest: non-positive ticker period")
	}
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.period, t.when, t.active = d, t.c.now.Add(d), true
	t.drainLocked()
}

func (t *fakeTimer) drainLocked() {
	select {
	case <-t.ch:
	default:
	}
}
