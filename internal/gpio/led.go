package gpio

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/clock"
	pgpio "periph.io/x/conn/v3/gpio"
)

// LEDConfig says how the LED is wired. The zero value is an LED lit by a high level,
// driven by the system clock, logging nowhere.
type LEDConfig struct {
	ActiveLow bool         // lit when the line is low (LED between 3V3 and the pin)
	Clock     Clock        // nil means the system clock
	Log       *slog.Logger // nil discards
}

// LED shows a Pattern on one line, or in colour on three (red, green, blue).
// Create it with NewLED or NewRGBLED; stop it with Close, which leaves it dark.
type LED struct {
	lines     []pgpio.PinOut
	activeLow bool
	clock     Clock
	log       *slog.Logger

	change chan struct{} // 1-buffered: "want changed", coalesced
	stop   chan struct{} // closed on Close
	wg     sync.WaitGroup
	once   sync.Once

	hook func() // test hook: called after each loop iteration

	// Owned by the loop goroutine (and by Close once the loop has ended).
	cur      Pattern
	start    time.Time // when cur started
	lit      bool      // what is on the lines now
	writeErr bool      // the last write failed (logged once until it works again)

	mu   sync.Mutex // guards following fields
	want Pattern
}

// NewLED drives a single-colour LED on line. It starts dark.
func NewLED(line pgpio.PinOut, c LEDConfig) (*LED, error) {
	if line == nil {
		return nil, errors.New("gpio: new led: nil line")
	}
	return newLED([]pgpio.PinOut{line}, c, nil)
}

// NewRGBLED drives an RGB LED on three lines, showing each pattern in its colour.
func NewRGBLED(r, g, b pgpio.PinOut, c LEDConfig) (*LED, error) {
	if r == nil || g == nil || b == nil {
		return nil, errors.New("gpio: new rgb led: nil line")
	}
	return newLED([]pgpio.PinOut{r, g, b}, c, nil)
}

// newLED checks the lines and starts the driving goroutine; hook (tests only) runs
// after every loop iteration.
func newLED(lines []pgpio.PinOut, c LEDConfig, hook func()) (*LED, error) {
	l := &LED{
		lines:     lines,
		activeLow: c.ActiveLow,
		clock:     c.Clock,
		log:       c.Log,
		change:    make(chan struct{}, 1),
		stop:      make(chan struct{}),
		hook:      hook,
	}
	if l.clock == nil {
		l.clock = &clock.Real{}
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	// The first write requests the lines as outputs: a busy or forbidden line fails here.
	for _, ln := range lines {
		if err := ln.Out(l.level(false)); err != nil {
			closeLines(lines)
			return nil, outError(ln, err)
		}
	}
	l.cur = Off
	l.start = l.clock.Now()
	// The ticker is made (and stopped: Off is steady) before the goroutine starts, so
	// time passing in between can never tick a ticker that is about to be stopped.
	tk := l.clock.NewTicker(tick)
	tk.Stop()
	l.wg.Add(1)
	go l.loop(tk)
	return l, nil
}

// outError classifies a failure to drive line, unless the opener already did.
func outError(ln pgpio.PinOut, err error) error {
	if Unavailable(err) {
		return err
	}
	return lineError("drive", "", ln.Name(), "", err)
}

// SetPattern shows p from now on, starting at the beginning of its cycle. It never
// blocks; only the latest pattern matters.
func (l *LED) SetPattern(p Pattern) {
	if !p.valid() {
		l.log.Warn("gpio: ignoring invalid LED pattern", "pattern", int(p))
		return
	}
	l.mu.Lock()
	l.want = p
	l.mu.Unlock()
	select {
	case l.change <- struct{}{}:
	default:
	}
}

// Pattern returns the pattern last set.
func (l *LED) Pattern() Pattern {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.want
}

// Close stops the LED, turns it off and releases its lines.
func (l *LED) Close() error {
	first := false
	l.once.Do(func() {
		first = true
		close(l.stop)
	})
	if !first {
		return nil
	}
	l.wg.Wait()
	var errs []error
	for _, ln := range l.lines {
		if err := ln.Out(l.level(false)); err != nil {
			errs = append(errs, fmt.Errorf("gpio: led off %s: %w", ln.Name(), err))
		}
	}
	errs = append(errs, closeLines(l.lines)...)
	return errors.Join(errs...)
}

// loop drives the lines. tk runs only for blinking patterns.
func (l *LED) loop(tk clock.Ticker) {
	defer l.wg.Done()
	defer tk.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.change:
			l.mu.Lock()
			p := l.want
			l.mu.Unlock()
			l.cur = p
			l.start = l.clock.Now()
			l.show(p.at(0), true)
			if p.steady() {
				tk.Stop()
			} else {
				tk.Reset(tick) // ticks now fall on the pattern's step boundaries
			}
		case t := <-tk.C():
			// The position comes from the clock, not from counting ticks, so late or
			// dropped ticks never shift the pattern; rounding absorbs timer jitter.
			el := t.Sub(l.start)
			el = (el + tick/2) / tick * tick
			l.show(l.cur.at(el), false)
		}
		if l.hook != nil {
			l.hook()
		}
	}
}

// show lights or darkens the LED, writing only when the level changes (or when
// forced: a new pattern may keep the level but change the colour).
func (l *LED) show(lit, force bool) {
	if lit == l.lit && !l.writeErr && !force {
		return
	}
	var err error
	color := l.cur.Color()
	for i, ln := range l.lines {
		v := lit
		if len(l.lines) == 3 {
			v = lit && color&(1<<i) != 0
		}
		if e := ln.Out(l.level(v)); e != nil && err == nil {
			err = fmt.Errorf("gpio: led %s: %w", ln.Name(), e)
		}
	}
	l.lit = lit
	switch {
	case err != nil && !l.writeErr:
		l.log.Error("gpio: cannot drive LED", "err", err)
	case err == nil && l.writeErr:
		l.log.Info("gpio: LED works again")
	}
	l.writeErr = err != nil
}

// level is the line level that makes the LED lit or dark.
func (l *LED) level(lit bool) pgpio.Level {
	return pgpio.Level(lit != l.activeLow)
}

// closeLines releases lines that can be released (periph's GPIOLine has Close()).
func closeLines[T any](lines []T) []error {
	var errs []error
	for _, ln := range lines {
		switch c := any(ln).(type) {
		case io.Closer:
			if err := c.Close(); err != nil {
				errs = append(errs, err)
			}
		case interface{ Close() }:
			c.Close()
		}
	}
	return errs
}
