package gpiotest

import (
	"testing"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func recv(c <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-c:
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestClockTimersFireInOrder(t *testing.T) {
	c := NewClock(t0)
	late := c.NewTimer(30 * time.Millisecond)
	early := c.NewTimer(10 * time.Millisecond)
	if n := c.Advance(9 * time.Millisecond); n != 0 {
		t.Fatalf("Advance(9ms) fired %d, want 0", n)
	}
	if n := c.Advance(time.Second); n != 2 {
		t.Fatalf("Advance(1s) fired %d, want 2", n)
	}
	if v, ok := recv(early.C()); !ok || !v.Equal(t0.Add(10*time.Millisecond)) {
		t.Errorf("early timer sent %v, %v, want %v", v, ok, t0.Add(10*time.Millisecond))
	}
	if v, ok := recv(late.C()); !ok || !v.Equal(t0.Add(30*time.Millisecond)) {
		t.Errorf("late timer sent %v, %v, want %v", v, ok, t0.Add(30*time.Millisecond))
	}
	if got := c.Now(); !got.Equal(t0.Add(1009 * time.Millisecond)) {
		t.Errorf("Now() = %v, want %v", got, t0.Add(1009*time.Millisecond))
	}
	if early.Stop() {
		t.Error("Stop() on a fired timer = true")
	}
	if c.Pending() != 0 {
		t.Errorf("Pending() = %d after both fired", c.Pending())
	}
}

func TestClockTicker(t *testing.T) {
	c := NewClock(t0)
	tk := c.NewTicker(25 * time.Millisecond)
	if n := c.Advance(100 * time.Millisecond); n != 1 {
		t.Fatalf("Advance(100ms) delivered %d ticks to an unread channel, want 1 (the rest dropped)", n)
	}
	if v, _ := recv(tk.C()); !v.Equal(t0.Add(25 * time.Millisecond)) {
		t.Errorf("first tick at %v, want %v", v, t0.Add(25*time.Millisecond))
	}
	c.Advance(10 * time.Millisecond) // 110: tick at 125 not due yet
	tk.Reset(50 * time.Millisecond)  // next at 160
	if n := c.Advance(49 * time.Millisecond); n != 0 {
		t.Fatalf("ticked %d times before the reset period", n)
	}
	c.Advance(time.Millisecond)
	if v, ok := recv(tk.C()); !ok || !v.Equal(t0.Add(160*time.Millisecond)) {
		t.Errorf("tick after Reset at %v, %v, want %v", v, ok, t0.Add(160*time.Millisecond))
	}
	c.Advance(50 * time.Millisecond) // a tick waits unread
	tk.Stop()
	if _, ok := recv(tk.C()); ok {
		t.Error("a tick was left in the channel after Stop")
	}
	if n := c.Advance(time.Second); n != 0 {
		t.Errorf("stopped ticker ticked %d times", n)
	}
}

func TestLine(t *testing.T) {
	c := NewClock(t0)
	l := NewLine("X", c, pgpio.Low)
	l.Edge(pgpio.High)
	if l.Read() != pgpio.Low {
		t.Error("level changed before WaitForEdge took the edge")
	}
	if !l.WaitForEdge(time.Second) || l.Read() != pgpio.High {
		t.Error("WaitForEdge did not take the queued edge")
	}
	l.Halt()
	if l.WaitForEdge(time.Minute) {
		t.Error("WaitForEdge after Halt reported an edge")
	}
	c.Advance(time.Second)
	if err := l.Out(pgpio.Low); err != nil {
		t.Fatal(err)
	}
	if s := l.Samples(); len(s) != 1 || !s[0].Time.Equal(t0.Add(time.Second)) || s[0].Level != pgpio.Low {
		t.Errorf("Samples() = %v, want one Low at %v", s, t0.Add(time.Second))
	}
}
