package gpiotest

import (
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
	"github.com/voiced-project/voiced/internal/gpio"
)

// The fakes stand in for the real types wherever code takes these small interfaces.
var (
	_ interface{ SetPattern(gpio.Pattern) }   = (*gpio.LED)(nil)
	_ interface{ SetPattern(gpio.Pattern) }   = (*LED)(nil)
	_ interface{ Events() <-chan gpio.Event } = (*gpio.Button)(nil)
	_ interface{ Events() <-chan gpio.Event } = (*Button)(nil)
)

func TestFakeButton(t *testing.T) {
	c := clocktest.NewClock(t0)
	b := NewButton(c)
	b.Send(gpio.Press, gpio.DoublePress)
	b.Hold(300 * time.Millisecond)
	b.Close()
	var got []gpio.Event
	for e := range b.Events() {
		got = append(got, e)
	}
	want := []gpio.Event{
		{Kind: gpio.Press, Time: t0},
		{Kind: gpio.DoublePress, Time: t0},
		{Kind: gpio.Press, Time: t0},
		{Kind: gpio.Release, Time: t0.Add(300 * time.Millisecond), Held: 300 * time.Millisecond},
	}
	if len(got) != len(want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestFakeLED(t *testing.T) {
	c := clocktest.NewClock(t0)
	l := NewLED(c)
	if l.Pattern() != gpio.Off {
		t.Errorf("new LED shows %v, want off", l.Pattern())
	}
	l.SetPattern(gpio.Connecting)
	c.Advance(time.Second)
	l.SetPattern(gpio.Listening)
	h := l.History()
	if len(h) != 2 || h[1] != (PatternAt{t0.Add(time.Second), gpio.Listening}) || l.Pattern() != gpio.Listening {
		t.Errorf("History() = %v, Pattern() = %v", h, l.Pattern())
	}
}
