package gpiotest

import (
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
	"github.com/voiced-project/voiced/internal/gpio"
)

// Button is a fake push button for the engine's tests: the test sends events, the
// code under test reads them from Events as it would from a *gpio.Button.
type Button struct {
	clock  gpio.Clock
	events chan gpio.Event
	once   sync.Once
}

// NewButton returns a button whose events are stamped with clock's time.
func NewButton(clock gpio.Clock) *Button {
	return &Button{clock: clock, events: make(chan gpio.Event, 64)}
}

// Events delivers the events sent so far, in order.
func (b *Button) Events() <-chan gpio.Event { return b.events }

// Send delivers events of the given kinds, stamped now. It blocks when 64 events
// are unread, which a test should never reach.
func (b *Button) Send(kinds ...gpio.EventKind) {
	for _, k := range kinds {
		b.events <- gpio.Event{Kind: k, Time: b.clock.Now()}
	}
}

// Hold sends Press, advances the clock by d (when it is a *clocktest.Clock) and sends Release
// with Held set to d.
func (b *Button) Hold(d time.Duration) {
	b.Send(gpio.Press)
	if c, ok := b.clock.(*clocktest.Clock); ok {
		c.Advance(d)
	}
	b.events <- gpio.Event{Kind: gpio.Release, Time: b.clock.Now(), Held: d}
}

// Close closes Events, as (*gpio.Button).Close does.
func (b *Button) Close() error {
	b.once.Do(func() { close(b.events) })
	return nil
}

// PatternAt is a pattern set on an LED and when.
type PatternAt struct {
	Time    time.Time
	Pattern gpio.Pattern
}

// LED is a fake state LED that records every pattern set on it.
type LED struct {
	clock gpio.Clock

	mu  sync.Mutex // guards following fields
	log []PatternAt
}

// NewLED returns an LED stamping patterns with clock's time.
func NewLED(clock gpio.Clock) *LED { return &LED{clock: clock} }

// SetPattern records p.
func (l *LED) SetPattern(p gpio.Pattern) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log = append(l.log, PatternAt{Time: l.clock.Now(), Pattern: p})
}

// Pattern returns the pattern set last (Off if none).
func (l *LED) Pattern() gpio.Pattern {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.log) == 0 {
		return gpio.Off
	}
	return l.log[len(l.log)-1].Pattern
}

// History returns every pattern set, in order.
func (l *LED) History() []PatternAt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]PatternAt(nil), l.log...)
}
