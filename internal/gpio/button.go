package gpio

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiced-project/voiced/internal/clock"
	pgpio "periph.io/x/conn/v3/gpio"
)

// EventKind says what the button did.
type EventKind int

const (
	Press       EventKind = iota + 1 // went down and stayed down for the debounce window
	Release                          // came up; always follows a Press
	LongPress                        // still down after ButtonConfig.LongPress; Release follows later
	DoublePress                      // sent right after the Press that began within DoublePress of the last short press's release
)

func (k EventKind) String() string {
	switch k {
	case Press:
		return "press"
	case Release:
		return "release"
	case LongPress:
		return "long-press"
	case DoublePress:
		return "double-press"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one button event.
type Event struct {
	Kind EventKind
	Time time.Time     // when it was recognised (the Clock's time)
	Held time.Duration // Release and LongPress: how long the button has been down
}

// Bias is the pull resistor to ask for. The zero value leaves it as the board set
// it (device tree, config.txt), which is what a config file that says nothing means.
type Bias int

const (
	BiasAsIs Bias = iota // leave the bias alone
	BiasUp               // pull-up: for a button to ground (active low)
	BiasDown             // pull-down: for a button to 3V3
	BiasOff              // no pull: for a button with its own resistor
)

var biasNames = [...]string{BiasAsIs: "as-is", BiasUp: "up", BiasDown: "down", BiasOff: "off"}

func (b Bias) String() string {
	if b < 0 || int(b) >= len(biasNames) {
		return fmt.Sprintf("Bias(%d)", int(b))
	}
	return biasNames[b]
}

// pull is b in periph's terms.
func (b Bias) pull() pgpio.Pull {
	switch b {
	case BiasUp:
		return pgpio.PullUp
	case BiasDown:
		return pgpio.PullDown
	case BiasOff:
		return pgpio.Float
	}
	return pgpio.PullNoChange
}

// ParseBias reads a bias as written in the config or on the command line: "up",
// "down", "off" (or "none"), and "" or "as-is" for no change.
func ParseBias(s string) (Bias, error) {
	switch s {
	case "", "as-is":
		return BiasAsIs, nil
	case "up", "pull-up":
		return BiasUp, nil
	case "down", "pull-down":
		return BiasDown, nil
	case "off", "none", "float":
		return BiasOff, nil
	}
	return BiasAsIs, fmt.Errorf("gpio: unknown bias %q (want up, down, off or as-is)", s)
}

// ButtonConfig says how the button is wired and how presses are recognised.
type ButtonConfig struct {
	ActiveLow   bool          // pressed pulls the line low (button to ground, pull-up)
	Bias        Bias          // pull resistor to request; BiasAsIs leaves it alone
	Debounce    time.Duration // how long a new level must hold; 0 means DefaultDebounce, negative means none
	LongPress   time.Duration // hold time for LongPress; 0 means DefaultLongPress, negative disables
	DoublePress time.Duration // max release-to-press gap for DoublePress; 0 means DefaultDoublePress, negative disables
	// KernelDebounce, if positive, also asks the kernel to debounce the line (the GPIO
	// v2 debounce attribute: in the GPIO block where it can, else in the kernel's
	// software), so bounces never reach user space. OpenButton only.
	KernelDebounce time.Duration
	Clock          Clock        // nil means the system clock
	Log            *slog.Logger // nil discards
}

// Defaults for ButtonConfig's zero durations.
const (
	DefaultDebounce    = 10 * time.Millisecond
	DefaultLongPress   = 1500 * time.Millisecond
	DefaultDoublePress = 400 * time.Millisecond
)

// withDefaults resolves zero and negative durations.
func (c ButtonConfig) withDefaults() ButtonConfig {
	pick := func(v, def time.Duration) time.Duration {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	c.Debounce = pick(c.Debounce, DefaultDebounce)
	c.LongPress = pick(c.LongPress, DefaultLongPress)
	c.DoublePress = pick(c.DoublePress, DefaultDoublePress)
	if c.Clock == nil {
		c.Clock = &clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// edgePoll bounds each wait for an edge, so Close returns promptly even where Halt
// cannot interrupt the wait.
const edgePoll = 100 * time.Millisecond

// maxQueued bounds events waiting for a slow reader. A person cannot press a button
// this often; reaching it means nobody reads Events, and the oldest are dropped.
const maxQueued = 256

// Button reports presses of a push button on an input line.
type Button struct {
	line      pgpio.PinIn
	activeLow bool
	clock     Clock
	log       *slog.Logger
	d         *debouncer

	events  chan Event
	edges   chan struct{} // edge reader -> loop
	stop    chan struct{} // closed on Close
	wg      sync.WaitGroup
	once    sync.Once
	dropped atomic.Uint64

	hook func() // test hook: called after each loop iteration
}

// NewButton configures line as an input with edge detection and starts reporting.
// The button may be down already: that press is not reported, nor its release.
func NewButton(line pgpio.PinIn, c ButtonConfig) (*Button, error) {
	return newButton(line, c, nil)
}

func newButton(line pgpio.PinIn, c ButtonConfig, hook func()) (*Button, error) {
	if line == nil {
		return nil, errors.New("gpio: new button: nil line")
	}
	c = c.withDefaults()
	if c.Bias < BiasAsIs || c.Bias > BiasOff {
		closeLines([]pgpio.PinIn{line})
		return nil, fmt.Errorf("gpio: new button %s: invalid bias %v", line.Name(), c.Bias)
	}
	if err := line.In(c.Bias.pull(), pgpio.BothEdges); err != nil {
		closeLines([]pgpio.PinIn{line})
		if Unavailable(err) {
			return nil, err
		}
		return nil, lineError("request input", "", line.Name(), "", err)
	}
	// Drain the edges the setup itself may have queued, then take the level. This is
	// also the first WaitForEdge call, which periph uses to set up the wait; doing it
	// here keeps it ordered before any Halt from Close.
	for i := 0; i < 64 && line.WaitForEdge(time.Millisecond); i++ {
	}
	b := &Button{
		line:      line,
		activeLow: c.ActiveLow,
		clock:     c.Clock,
		log:       c.Log,
		events:    make(chan Event, 16),
		edges:     make(chan struct{}, 1),
		stop:      make(chan struct{}),
		hook:      hook,
	}
	b.d = newDebouncer(c, b.clock.Now(), b.pressed())
	b.wg.Add(2)
	go b.readEdges()
	go b.loop()
	return b, nil
}

// Events delivers button events in order. It is closed after Close.
func (b *Button) Events() <-chan Event { return b.events }

// Dropped counts events dropped because nobody read Events for a long time.
func (b *Button) Dropped() uint64 { return b.dropped.Load() }

// pressed reads the line now and says whether that level means pressed.
func (b *Button) pressed() bool { return bool(b.line.Read()) != b.activeLow }

// Close stops reporting, closes Events and releases the line.
func (b *Button) Close() error {
	first := false
	b.once.Do(func() {
		first = true
		close(b.stop)
	})
	if !first {
		return nil
	}
	err := b.line.Halt()
	b.wg.Wait()
	close(b.events)
	if errs := closeLines([]pgpio.PinIn{b.line}); len(errs) > 0 {
		err = errors.Join(append(errs, err)...)
	}
	if err != nil {
		return fmt.Errorf("gpio: close button %s: %w", b.line.Name(), err)
	}
	return nil
}

// flush moves new events to the queue and as many as fit into Events, so a reader
// sees an event as soon as it is recognised.
func (b *Button) flush(queue []Event) []Event {
	queue = append(queue, b.d.out...)
	b.d.out = b.d.out[:0]
flushing:
	for len(queue) > 0 {
		select {
		case b.events <- queue[0]:
			queue = queue[1:]
		default:
			break flushing
		}
	}
	if n := len(queue) - maxQueued; n > 0 {
		b.dropped.Add(uint64(n))
		b.log.Warn("gpio: button events dropped, nobody reads them", "dropped", n)
		queue = queue[n:]
	}
	return queue
}

// readEdges turns blocking edge waits into coalesced signals for the loop; the loop
// reads the level itself, so a signal stands for "the line may have changed".
func (b *Button) readEdges() {
	defer b.wg.Done()
	for {
		select {
		case <-b.stop:
			return
		default:
		}
		if !b.line.WaitForEdge(edgePoll) {
			continue
		}
		select {
		case b.edges <- struct{}{}:
		case <-b.stop:
			return
		}
	}
}

func (b *Button) loop() {
	defer b.wg.Done()
	var (
		queue   []Event
		timer   clock.Timer
		timerC  <-chan time.Time
		timerAt time.Time
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		var out chan Event
		var head Event
		if len(queue) > 0 {
			out, head = b.events, queue[0]
		}
		select {
		case <-b.stop:
			return
		case out <- head:
			queue = queue[1:]
			continue
		case <-b.edges:
			b.d.edge(b.clock.Now(), b.pressed())
		case t := <-timerC:
			timer, timerC, timerAt = nil, nil, time.Time{}
			b.d.expire(t, b.pressed())
		}
		queue = b.flush(queue)
		if at, ok := b.d.next(); ok && !at.Equal(timerAt) {
			if timer != nil {
				timer.Stop()
			}
			timer = b.clock.NewTimer(at.Sub(b.clock.Now()))
			timerC, timerAt = timer.C(), at
		} else if !ok && timer != nil {
			timer.Stop()
			timer, timerC, timerAt = nil, nil, time.Time{}
		}
		if b.hook != nil {
			b.hook()
		}
	}
}
