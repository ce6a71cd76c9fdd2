package gpio

import "time"

// debouncer turns raw levels into button events. It is a plain state machine, fed
// from one goroutine: edge for every edge event, expire when next() comes due.
//
// A change counts once the line has kept its new level for the debounce window:
// every edge restarts the window, and when it closes the line is sampled again. So a
// burst of bounces yields exactly one event, a glitch shorter than the window none
// (a held push-to-talk button that chatters does not end the turn), and the level
// the line settles at always wins, even if an edge was lost.
type debouncer struct {
	debounce time.Duration
	long     time.Duration // 0: no LongPress
	double   time.Duration // 0: no DoublePress

	pressed  bool      // the debounced state
	settleAt time.Time // end of the debounce window; zero when the line agrees with pressed
	silent   bool      // pressed at start: its release is not reported

	pressAt     time.Time // start of the current press
	longDone    bool      // LongPress already sent for the current press
	lastRelease time.Time // end of the previous press
	lastShort   bool      // the previous press may start a double press

	out []Event // appended to; the owner drains it
}

func newDebouncer(c ButtonConfig, now time.Time, pressed bool) *debouncer {
	return &debouncer{
		debounce: c.Debounce, long: c.LongPress, double: c.DoublePress,
		pressed: pressed, silent: pressed, pressAt: now, longDone: true,
	}
}

// edge handles an edge after which the line reads pressed.
func (d *debouncer) edge(now time.Time, pressed bool) {
	switch {
	case pressed == d.pressed:
		d.settleAt = time.Time{} // a glitch, over
	case d.debounce <= 0:
		d.accept(now, pressed)
	default:
		d.settleAt = now.Add(d.debounce)
	}
}

// expire handles the deadline from next; pressed is the line sampled now.
func (d *debouncer) expire(now time.Time, pressed bool) {
	if !d.settleAt.IsZero() && !now.Before(d.settleAt) {
		d.settleAt = time.Time{}
		if pressed != d.pressed {
			d.accept(now, pressed)
		}
	}
	if d.pressed && !d.longDone && d.long > 0 && !now.Before(d.pressAt.Add(d.long)) {
		d.longDone = true
		d.out = append(d.out, Event{Kind: LongPress, Time: now, Held: now.Sub(d.pressAt)})
	}
}

// next returns when expire must be called, if at all.
func (d *debouncer) next() (time.Time, bool) {
	var t time.Time
	if !d.settleAt.IsZero() {
		t = d.settleAt
	}
	if d.pressed && !d.longDone && d.long > 0 {
		if at := d.pressAt.Add(d.long); t.IsZero() || at.Before(t) {
			t = at
		}
	}
	return t, !t.IsZero()
}

func (d *debouncer) accept(now time.Time, pressed bool) {
	d.pressed = pressed
	if pressed {
		isDouble := d.double > 0 && d.lastShort && now.Sub(d.lastRelease) <= d.double
		d.pressAt, d.longDone = now, false
		d.out = append(d.out, Event{Kind: Press, Time: now})
		if isDouble {
			d.out = append(d.out, Event{Kind: DoublePress, Time: now})
		}
		// A double press does not start another one: a triple tap is double + single.
		d.lastShort = !isDouble
		return
	}
	held := now.Sub(d.pressAt)
	d.lastRelease = now
	d.lastShort = d.lastShort && !d.longDone && (d.long == 0 || held < d.long)
	if d.silent {
		d.silent, d.lastShort = false, false
		return
	}
	d.out = append(d.out, Event{Kind: Release, Time: now, Held: held})
}
