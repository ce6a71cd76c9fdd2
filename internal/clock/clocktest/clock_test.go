package clocktest

import (
	"strings"
	"testing"
	"time"
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

func TestClockAfterFuncOrderAndReset(t *testing.T) {
	c := NewClock(t0)
	var got []string
	a := c.AfterFunc(20*time.Millisecond, func() { got = append(got, "a@"+c.Now().Sub(t0).String()) })
	c.AfterFunc(20*time.Millisecond, func() { got = append(got, "b@"+c.Now().Sub(t0).String()) })
	c.AfterFunc(10*time.Millisecond, func() { got = append(got, "c@"+c.Now().Sub(t0).String()) })
	if a.C() != nil {
		t.Error("an AfterFunc timer has a channel")
	}
	if n := c.Advance(time.Second); n != 3 {
		t.Errorf("Advance ran %d callbacks, want 3", n)
	}
	if want := "c@10ms a@20ms b@20ms"; strings.Join(got, " ") != want {
		t.Errorf("callbacks ran %q, want %q", strings.Join(got, " "), want)
	}
	if a.Stop() {
		t.Error("Stop of a fired timer = true, want false")
	}
	if a.Reset(5 * time.Millisecond) {
		t.Error("Reset of a fired timer = true, want false")
	}
	if when, ok := c.Next(); !ok || !when.Equal(t0.Add(time.Second+5*time.Millisecond)) {
		t.Errorf("Next() = %v, %v; want the reset timer at 1.005s", when, ok)
	}
	if c.Pending() != 1 {
		t.Errorf("Pending() = %d, want 1", c.Pending())
	}
	got = nil
	c.Advance(5 * time.Millisecond)
	if len(got) != 1 || got[0] != "a@1.005s" {
		t.Errorf("after Reset the callback ran %q, want a@1.005s", got)
	}
}

func TestClockSleepAndAfter(t *testing.T) {
	c := NewClock(t0)
	ch := c.After(15 * time.Millisecond)
	calls := 0
	c.OnSleep(func() { calls++ })
	for range 2 {
		if !c.Sleep(10*time.Millisecond, nil) {
			t.Fatal("Sleep without stop returned false")
		}
	}
	if v, ok := recv(ch); !ok || !v.Equal(t0.Add(15*time.Millisecond)) {
		t.Errorf("After(15ms) across two 10 ms sleeps gave %v, %v", v, ok)
	}
	stop := make(chan struct{})
	close(stop)
	if c.Sleep(time.Hour, stop) {
		t.Error("Sleep with stop closed returned true")
	}
	if got := c.Slept(); len(got) != 2 || calls != 2 || !c.Now().Equal(t0.Add(20*time.Millisecond)) {
		t.Errorf("Slept() = %v, %d hook calls, now %v; want two 10 ms sleeps, 2 calls, 20 ms", got, calls, c.Now().Sub(t0))
	}
}
