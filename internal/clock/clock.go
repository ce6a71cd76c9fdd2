package clock

import "time"

// Timer is the part of *time.Timer that consumers use. For a timer made by
// AfterFunc, C returns nil, as time.AfterFunc's does.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the firing; it reports false if the timer already fired or
	// was stopped.
	Stop() bool
	// Reset makes the timer fire d from now; it reports whether it was pending.
	Reset(d time.Duration) bool
}

// Ticker is the part of *time.Ticker that consumers use.
type Ticker interface {
	C() <-chan time.Time
	Stop()
	Reset(d time.Duration)
}

// Real is the system clock. Its zero value is ready. Sleep reuses one timer,
// so that pacing does not allocate: one goroutine sleeps on a Real at a time
// (give each sleeper its own).
type Real struct {
	sleep *time.Timer
}

// Now returns time.Now().
func (*Real) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (*Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// NewTimer returns a running time.Timer.
func (*Real) NewTimer(d time.Duration) Timer { return timer{time.NewTimer(d)} }

// AfterFunc calls f in its own goroutine after d, as time.AfterFunc does.
func (*Real) AfterFunc(d time.Duration, f func()) Timer { return timer{time.AfterFunc(d, f)} }

// NewTicker returns a running time.Ticker.
func (*Real) NewTicker(d time.Duration) Ticker { return ticker{time.NewTicker(d)} }

// Sleep waits for d, or until stop is closed, in which case it returns false.
func (c *Real) Sleep(d time.Duration, stop <-chan struct{}) bool {
	if d <= 0 {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	if c.sleep == nil {
		c.sleep = time.NewTimer(d)
	} else {
		c.sleep.Reset(d)
	}
	select {
	case <-c.sleep.C:
		return true
	case <-stop:
		c.sleep.Stop()
		return false
	}
}

type timer struct{ t *time.Timer }

func (t timer) C() <-chan time.Time        { return t.t.C }
func (t timer) Stop() bool                 { return t.t.Stop() }
func (t timer) Reset(d time.Duration) bool { return t.t.Reset(d) }

type ticker struct{ t *time.Ticker }

func (t ticker) C() <-chan time.Time   { return t.t.C }
func (t ticker) Stop()                 { t.t.Stop() }
func (t ticker) Reset(d time.Duration) { t.t.Reset(d) }
