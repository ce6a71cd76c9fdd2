package engine

import (
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/clock"
	"github.com/voiced-project/voiced/internal/race"
)

// TestEngineTimerReuse: re-arming a timer whose call has been handled, or which was
// stopped in time, reuses it without allocating (the drain poll re-arms every 50 ms
// of a reply); a timer whose call is on its way is replaced, and that call's post
// carries a stale generation.
func TestEngineTimerReuse(t *testing.T) {
	e := &Engine{clock: &clock.Real{}, in: make(chan input, 8), done: make(chan struct{})}
	fire := func() {
		e.arm(tDrain, 0)
		in := <-e.in
		s := &e.timers[in.timer]
		if in.timer != tDrain || in.gen != s.gen {
			t.Fatalf("post %+v, want tDrain at generation %d", in, s.gen)
		}
		s.spent = true // what handle does with a current post
	}
	fire()
	first := e.timers[tDrain].t
	if a := testing.AllocsPerRun(50, fire); a != 0 && !race.Enabled {
		t.Errorf("re-arming a fired timer allocates %v times, want 0", a)
	}
	if e.timers[tDrain].t != first {
		t.Errorf("a fired, handled timer was replaced instead of reused")
	}

	e.arm(tDrain, time.Hour)
	e.disarm(tDrain)
	e.arm(tDrain, time.Hour)
	if e.timers[tDrain].t != first {
		t.Errorf("a stopped timer was replaced instead of reused")
	}
	e.disarm(tDrain)

	e.arm(tDrain, 0)
	stale := <-e.in // posted, not yet handled: on its way
	e.arm(tDrain, time.Hour)
	if e.timers[tDrain].t == first {
		t.Errorf("a timer whose call was on its way was reused")
	}
	if stale.gen == e.timers[tDrain].gen {
		t.Errorf("the stale post carries the current generation %d", stale.gen)
	}
	e.disarm(tDrain)
	select {
	case in := <-e.in:
		t.Errorf("a stopped timer posted %+v", in)
	case <-time.After(20 * time.Millisecond):
	}
}
