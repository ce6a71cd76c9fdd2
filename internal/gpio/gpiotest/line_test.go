package gpiotest

import (
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
	pgpio "periph.io/x/conn/v3/gpio"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestLine(t *testing.T) {
	c := clocktest.NewClock(t0)
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
