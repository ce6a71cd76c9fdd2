package gpio_test

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
	"github.com/voiced-project/voiced/internal/gpio"
	"github.com/voiced-project/voiced/internal/gpio/gpiotest"
	pgpio "periph.io/x/conn/v3/gpio"
)

const ledTick = 25 * time.Millisecond

// ledRig runs an LED on fake lines and a fake clock.
type ledRig struct {
	t     *testing.T
	clk   *clocktest.Clock
	lines []*gpiotest.Line
	led   *gpio.LED
	hook  <-chan struct{}
}

func newLEDRig(t *testing.T, activeLow bool, names ...string) *ledRig {
	clk := clocktest.NewClock(t0)
	r := &ledRig{t: t, clk: clk}
	var outs []pgpio.PinOut
	for _, n := range names {
		ln := gpiotest.NewLine(n, clk, pgpio.Low)
		r.lines = append(r.lines, ln)
		outs = append(outs, ln)
	}
	led, hook, err := gpio.NewLEDHooked(gpio.LEDConfig{ActiveLow: activeLow, Clock: clk}, outs...)
	if err != nil {
		t.Fatal(err)
	}
	r.led, r.hook = led, hook
	t.Cleanup(func() { led.Close() })
	return r
}

func (r *ledRig) set(p gpio.Pattern) {
	r.led.SetPattern(p)
	wait(r.t, r.hook, 1)
}

// run advances the clock by d, one tick at a time, letting the LED handle each.
func (r *ledRig) run(d time.Duration) {
	for end := r.clk.Now().Add(d); r.clk.Now().Before(end); {
		wait(r.t, r.hook, r.clk.Advance(ledTick))
	}
}

// transitions renders the samples of line i from offset from on as "level@offset".
func (r *ledRig) transitions(i int, from time.Time) []string {
	var out []string
	for _, s := range r.lines[i].Samples() {
		if s.Time.Before(from) {
			continue
		}
		v := "off"
		if s.Level {
			v = "on"
		}
		out = append(out, fmt.Sprintf("%s@%v", v, s.Time.Sub(from)))
	}
	return out
}

// blink expands one period of a pattern, given as (on ms, off ms, ...) pairs, into
// its transitions up to and including window.
func blink(window time.Duration, periodSteps ...int) []string {
	var out []string
	at := time.Duration(0)
	for at <= window {
		for i, n := range periodSteps {
			v := "on"
			if i%2 == 1 {
				v = "off"
			}
			if at <= window {
				out = append(out, fmt.Sprintf("%s@%v", v, at))
			}
			at += time.Duration(n) * time.Millisecond
		}
	}
	return out
}

func TestLEDPatternTiming(t *testing.T) {
	const window = 6100 * time.Millisecond
	tests := []struct {
		p    gpio.Pattern
		want []string
	}{
		{gpio.Off, []string{"off@0s"}},
		{gpio.Connecting, blink(window, 500, 500)},
		{gpio.Connected, []string{"off@0s"}},
		{gpio.Listening, []string{"on@0s"}},
		{gpio.Processing, blink(window, 125, 125)},
		{gpio.Speaking, blink(window, 100, 100, 100, 700)},
		{gpio.Disconnected, blink(window, 75, 150, 75, 1700)},
		{gpio.Muted, blink(window, 50, 2950)},
		{gpio.Error, blink(window, 100, 100, 100, 100, 100, 1000)},
	}
	if len(tests) != len(gpio.Patterns()) {
		t.Fatalf("%d patterns tested, %d exist", len(tests), len(gpio.Patterns()))
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			r := newLEDRig(t, false, "LED")
			r.run(300 * time.Millisecond) // start mid-way through a tick grid
			start := r.clk.Now()
			r.set(tt.p)
			r.run(window)
			got := r.transitions(0, start)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("%v: transitions = %q\nwant %q", tt.p, got, tt.want)
			}
		})
	}
}

// TestLEDNoDrift runs a blinking pattern for ten minutes of fake time: every change
// still falls exactly on the pattern's grid.
func TestLEDNoDrift(t *testing.T) {
	r := newLEDRig(t, false, "LED")
	start := r.clk.Now()
	r.set(gpio.Processing)
	r.run(10 * time.Minute)
	samples := r.lines[0].Samples()
	if want := 600*4*2 + 1; len(samples) < want { // +1: the write when the LED was created
		t.Fatalf("%d level changes in ten minutes at 4 Hz, want %d", len(samples), want)
	}
	for i, s := range samples[len(samples)-8:] {
		off := s.Time.Sub(start)
		if off%(125*time.Millisecond) != 0 || bool(s.Level) != (off/(125*time.Millisecond)%2 == 0) {
			t.Fatalf("change %d at %v to %v: off the 125 ms grid", i, off, s.Level)
		}
	}
}

func TestLEDInstantSwitch(t *testing.T) {
	r := newLEDRig(t, false, "LED")
	r.set(gpio.Connecting)
	r.run(200 * time.Millisecond) // lit, mid-step
	at := r.clk.Now()
	r.set(gpio.Off)
	got := r.transitions(0, at)
	if want := []string{"off@0s"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after switching to off: %q, want %q", got, want)
	}
	// A new blinking pattern starts at the beginning of its cycle.
	r.run(60 * time.Millisecond)
	at = r.clk.Now()
	r.set(gpio.Speaking)
	r.run(250 * time.Millisecond)
	got = r.transitions(0, at)
	if want := []string{"on@0s", "off@100ms", "on@200ms"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after switching to speaking: %q, want %q", got, want)
	}
	if p := r.led.Pattern(); p != gpio.Speaking {
		t.Errorf("Pattern() = %v, want %v", p, gpio.Speaking)
	}
}

func TestLEDActiveLowAndClose(t *testing.T) {
	r := newLEDRig(t, true, "LED")
	r.set(gpio.Listening)
	if lv := r.lines[0].Level(); lv != pgpio.Low {
		t.Errorf("active-low LED lit: line = %v, want Low", lv)
	}
	if err := r.led.Close(); err != nil {
		t.Fatal(err)
	}
	if lv := r.lines[0].Level(); lv != pgpio.High {
		t.Errorf("active-low LED after Close: line = %v, want High (dark)", lv)
	}
	if !r.lines[0].Closed() {
		t.Error("line not released after Close")
	}
	if n := r.clk.Pending(); n != 0 {
		t.Errorf("%d timers left running after Close", n)
	}
	r.led.SetPattern(gpio.Error) // after Close: must not block or write
	if s := r.lines[0].Samples(); s[len(s)-1].Level != pgpio.High {
		t.Error("SetPattern after Close changed the line")
	}
}

func TestLEDOffOnCloseWhileLit(t *testing.T) {
	r := newLEDRig(t, false, "LED")
	r.set(gpio.Listening)
	if err := r.led.Close(); err != nil {
		t.Fatal(err)
	}
	if lv := r.lines[0].Level(); lv != pgpio.Low {
		t.Errorf("LED after Close: line = %v, want Low (dark)", lv)
	}
}

func TestRGBLEDColors(t *testing.T) {
	r := newLEDRig(t, false, "R", "G", "B")
	for _, p := range gpio.Patterns() {
		r.set(p)
		lit := false
		for _, ln := range r.lines {
			lit = lit || bool(ln.Level())
		}
		for i, ln := range r.lines {
			want := p.Color()&(1<<i) != 0 && lit
			if bool(ln.Level()) != want {
				t.Errorf("%v: line %s = %v, want %v", p, ln.Name(), ln.Level(), want)
			}
		}
		if steadyOn := p == gpio.Listening; steadyOn && !lit {
			t.Errorf("%v: no colour lit", p)
		}
	}
	// Listening and Processing both start lit: the colour must still change.
	r.set(gpio.Listening)
	r.set(gpio.Processing)
	if !r.lines[1].Level() || !r.lines[2].Level() || r.lines[0].Level() {
		t.Errorf("processing: R,G,B = %v,%v,%v, want off,on,on", r.lines[0].Level(), r.lines[1].Level(), r.lines[2].Level())
	}
}

func TestLEDErrors(t *testing.T) {
	clk := clocktest.NewClock(t0)
	line := gpiotest.NewLine("LED", clk, pgpio.Low)
	line.FailOut(errors.New(syscall.EBUSY.Error()))
	_, err := gpio.NewLED(line, gpio.LEDConfig{Clock: clk})
	if !errors.Is(err, gpio.ErrBusy) || !gpio.Unavailable(err) || !strings.Contains(err.Error(), "LED") {
		t.Errorf("NewLED on a busy line = %v, want an ErrBusy naming the line", err)
	}
	if _, err := gpio.NewLED(nil, gpio.LEDConfig{}); err == nil {
		t.Error("NewLED(nil) = nil error")
	}

	// A line that fails later is retried on the next change, and the LED carries on.
	line = gpiotest.NewLine("LED", clk, pgpio.Low)
	led, hook, err := gpio.NewLEDHooked(gpio.LEDConfig{Clock: clk}, line)
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	line.FailOut(syscall.EIO)
	led.SetPattern(gpio.Listening)
	wait(t, hook, 1)
	line.FailOut(nil)
	led.SetPattern(gpio.Processing)
	wait(t, hook, 1)
	if !line.Level() {
		t.Error("LED dark after the line recovered and a lit pattern was set")
	}
}

func TestParsePattern(t *testing.T) {
	for _, p := range gpio.Patterns() {
		got, err := gpio.ParsePattern(strings.ToUpper(p.String()))
		if err != nil || got != p {
			t.Errorf("ParsePattern(%q) = %v, %v, want %v", strings.ToUpper(p.String()), got, err, p)
		}
	}
	if _, err := gpio.ParsePattern("disco"); err == nil || !strings.Contains(err.Error(), `"disco"`) {
		t.Errorf("ParsePattern(disco) = %v, want an error naming it", err)
	}
}
