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

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// wait takes n values from ch, failing the test if they do not come.
func wait(t *testing.T, ch <-chan struct{}, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("goroutine did not catch up (%d of %d iterations)", i, n)
		}
	}
}

// buttonRig runs a Button on a fake line and clock, one step at a time.
type buttonRig struct {
	t     *testing.T
	clk   *clocktest.Clock
	line  *gpiotest.Line
	b     *gpio.Button
	hook  <-chan struct{}
	start time.Time
	got   []string
}

func newButtonRig(t *testing.T, c gpio.ButtonConfig) *buttonRig {
	clk := clocktest.NewClock(t0)
	line := gpiotest.NewLine("BUTTON", clk, pgpio.High) // active low: released reads high
	c.Clock = clk
	c.ActiveLow = true
	b, hook, err := gpio.NewButtonHooked(line, c)
	if err != nil {
		t.Fatal(err)
	}
	r := &buttonRig{t: t, clk: clk, line: line, b: b, hook: hook, start: t0}
	t.Cleanup(func() { b.Close() })
	return r
}

// until advances the clock to offset at in 1 ms steps, letting the button handle each
// timer that fires.
func (r *buttonRig) until(at time.Duration) {
	for {
		now := r.clk.Now().Sub(r.start)
		if now >= at {
			return
		}
		d := min(time.Millisecond, at-now)
		wait(r.t, r.hook, r.clk.Advance(d))
		r.collect()
	}
}

// edge moves the clock to at and makes the line read level.
func (r *buttonRig) edge(at time.Duration, level pgpio.Level) {
	r.until(at)
	r.line.Edge(level)
	wait(r.t, r.hook, 1)
	r.collect()
}

func (r *buttonRig) collect() {
	for {
		select {
		case e := <-r.b.Events():
			r.got = append(r.got, fmt.Sprintf("%s@%v", e.Kind, e.Time.Sub(r.start)))
		default:
			return
		}
	}
}

func TestButtonBounces(t *testing.T) {
	r := newButtonRig(t, gpio.ButtonConfig{Debounce: 10 * time.Millisecond})
	// Press: 10 bounces within 5 ms, settling low.
	level := pgpio.Low
	for i := 0; i <= 10; i++ {
		r.edge(time.Duration(i)*500*time.Microsecond, level)
		level = !level
	}
	// Release at 300 ms, bouncing the same way and settling high.
	level = pgpio.High
	for i := 0; i <= 10; i++ {
		r.edge(300*time.Millisecond+time.Duration(i)*500*time.Microsecond, level)
		level = !level
	}
	r.until(time.Second)
	want := []string{"press@15ms", "release@315ms"}
	if strings.Join(r.got, " ") != strings.Join(want, " ") {
		t.Errorf("events = %q, want %q", r.got, want)
	}
	if pull, edge := r.line.Config(); pull != pgpio.PullNoChange || edge != pgpio.BothEdges {
		t.Errorf("line configured as In(%v, %v), want In(PullNoChange, BothEdges)", pull, edge)
	}
}

func TestButtonLongAndDouble(t *testing.T) {
	r := newButtonRig(t, gpio.ButtonConfig{
		Debounce: 5 * time.Millisecond, LongPress: 800 * time.Millisecond, DoublePress: 250 * time.Millisecond,
		Bias: gpio.BiasUp,
	})
	r.edge(0, pgpio.Low)                      // press, recognised at 5 ms
	r.edge(1000*time.Millisecond, pgpio.High) // long press at 805 ms, release at 1005
	r.edge(2000*time.Millisecond, pgpio.Low)  // tap
	r.edge(2100*time.Millisecond, pgpio.High) //
	r.edge(2300*time.Millisecond, pgpio.Low)  // second tap within 250 ms of the release
	r.edge(2400*time.Millisecond, pgpio.High) //
	r.until(3 * time.Second)
	want := []string{"press@5ms", "long-press@805ms", "release@1.005s",
		"press@2.005s", "release@2.105s", "press@2.305s", "double-press@2.305s", "release@2.405s"}
	if strings.Join(r.got, " ") != strings.Join(want, " ") {
		t.Errorf("events = %q, want %q", r.got, want)
	}
	if p := r.line.Pull(); p != pgpio.PullUp {
		t.Errorf("bias = %v, want %v", p, pgpio.PullUp)
	}
}

// TestButtonSlowReader checks that events wait for a reader that is late, in order.
func TestButtonSlowReader(t *testing.T) {
	clk := clocktest.NewClock(t0)
	line := gpiotest.NewLine("BUTTON", clk, pgpio.Low)
	b, hook, err := gpio.NewButtonHooked(line, gpio.ButtonConfig{Debounce: -1, LongPress: -1, DoublePress: -1, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const taps = 40 // more than the channel holds
	for i := 0; i < taps; i++ {
		line.Edge(pgpio.High)
		wait(t, hook, 1)
		line.Edge(pgpio.Low)
		wait(t, hook, 1)
	}
	for i := 0; i < 2*taps; i++ {
		want := gpio.Press
		if i%2 == 1 {
			want = gpio.Release
		}
		select {
		case e := <-b.Events():
			if e.Kind != want {
				t.Fatalf("event %d = %v, want %v", i, e.Kind, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d did not come", i)
		}
	}
	if n := b.Dropped(); n != 0 {
		t.Errorf("Dropped() = %d, want 0", n)
	}
}

func TestButtonClose(t *testing.T) {
	clk := clocktest.NewClock(t0)
	line := gpiotest.NewLine("BUTTON", clk, pgpio.High)
	b, err := gpio.NewButton(line, gpio.ButtonConfig{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close() = %v", err)
	}
	if _, ok := <-b.Events(); ok {
		t.Error("Events() still open after Close")
	}
	if !line.Closed() {
		t.Error("line not released after Close")
	}
	if n := clk.Pending(); n != 0 {
		t.Errorf("%d timers left running after Close", n)
	}
}

func TestButtonLineErrors(t *testing.T) {
	tests := []struct {
		name  string
		err   error // as periph reports it: errno flattened to text
		kind  error
		errno syscall.Errno
		hint  string
	}{
		{"busy", fmt.Errorf("line_request ioctl: %w", errors.New(syscall.EBUSY.Error())), gpio.ErrBusy, syscall.EBUSY, "gpioinfo"},
		{"permission", errors.New(syscall.EACCES.Error()), gpio.ErrPermission, syscall.EACCES, "group gpio"},
		{"errno kept", fmt.Errorf("line_request ioctl: %w", syscall.EPERM), gpio.ErrPermission, syscall.EPERM, "group gpio"},
		{"refused", errors.New(syscall.EINVAL.Error()), gpio.ErrRefused, syscall.EINVAL, "bias"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktest.NewClock(t0)
			line := gpiotest.NewLine("GPIO17", clk, pgpio.High)
			line.FailIn(tt.err)
			_, err := gpio.NewButton(line, gpio.ButtonConfig{Clock: clk})
			if !errors.Is(err, tt.kind) || !errors.Is(err, tt.errno) {
				t.Fatalf("NewButton() = %v, want errors.Is %v and %v", err, tt.kind, tt.errno)
			}
			if !gpio.Unavailable(err) {
				t.Errorf("Unavailable(%v) = false, want true", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "GPIO17") || !strings.Contains(msg, tt.hint) {
				t.Errorf("error %q does not name the line and say %q", msg, tt.hint)
			}
			if !line.Closed() {
				t.Error("line not released after a failed NewButton")
			}
		})
	}
}

func TestButtonConfigErrors(t *testing.T) {
	if _, err := gpio.NewButton(nil, gpio.ButtonConfig{}); err == nil {
		t.Error("NewButton(nil) = nil error")
	}
	for _, s := range []string{"sideways", "UP "} {
		if _, err := gpio.ParseBias(s); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
			t.Errorf("ParseBias(%q) = %v, want an error naming it", s, err)
		}
	}
	for s, want := range map[string]gpio.Bias{"": gpio.BiasAsIs, "as-is": gpio.BiasAsIs, "up": gpio.BiasUp, "down": gpio.BiasDown, "off": gpio.BiasOff, "none": gpio.BiasOff} {
		if got, err := gpio.ParseBias(s); err != nil || got != want {
			t.Errorf("ParseBias(%q) = %v, %v, want %v", s, got, err, want)
		}
		if got, _ := gpio.ParseBias(want.String()); got != want {
			t.Errorf("ParseBias(%v.String()) = %v", want, got)
		}
	}
	clk := clocktest.NewClock(t0)
	if _, err := gpio.NewButton(gpiotest.NewLine("B", clk, pgpio.High), gpio.ButtonConfig{Bias: 7, Clock: clk}); err == nil || !strings.Contains(err.Error(), "Bias(7)") {
		t.Errorf("NewButton(bias 7) = %v, want an error naming the bias", err)
	}
}
