package daemon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
	"github.com/voiced-project/voiced/internal/config"
)

// supervisorRig runs superviseRuntime on a fake clock with a build that always
// fails, as it does while the microphone is missing.
type supervisorRig struct {
	d      *Daemon
	clk    *clocktest.Clock
	builds chan time.Time // the clock's time at each build
	cancel context.CancelFunc
	done   chan struct{} // closed when superviseRuntime returned
}

var errNoMic = errors.New(`open capture "plughw:9": no such device`)

func newSupervisorRig(t *testing.T, b backoff) *supervisorRig {
	t.Helper()
	cfg := config.Default()
	cfg.GPIO.Enabled = false
	d := New(Options{Config: cfg, Getenv: func(string) string { return "" }})
	r := &supervisorRig{d: d, clk: clocktest.NewClock(time.Unix(1_800_000_000, 0)), builds: make(chan time.Time, 16), done: make(chan struct{})}
	d.clock, d.backoff = r.clk, b
	d.build = func(context.Context, config.Config, config.Secrets) (*runtime, error) {
		r.builds <- r.clk.Now()
		return nil, errNoMic
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		d.superviseRuntime(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// build waits for the next build and returns the clock's time at it.
func (r *supervisorRig) build(t *testing.T) time.Time {
	t.Helper()
	select {
	case at := <-r.builds:
		return at
	case <-time.After(5 * time.Second):
		t.Fatal("no build within 5 s")
		return time.Time{}
	}
}

// waiting waits until the supervisor waits on the clock, and returns when its wait ends.
func (r *supervisorRig) waiting(t *testing.T) time.Time {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if when, ok := r.clk.Next(); ok {
			return when
		}
	}
	t.Fatal("the supervisor did not wait on its clock within 5 s")
	return time.Time{}
}

func TestSupervisorRetriesWithGrowingBackoff(t *testing.T) {
	r := newSupervisorRig(t, backoff{Min: time.Second, Max: 4 * time.Second})
	last := r.build(t)
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		when := r.waiting(t)
		if got := when.Sub(last); got != want {
			t.Fatalf("wait %d = %v, want %v", i+1, got, want)
		}
		r.clk.Advance(want - time.Millisecond)
		select {
		case <-r.builds:
			t.Fatalf("wait %d: built again %v early", i+1, time.Millisecond)
		case <-time.After(20 * time.Millisecond):
		}
		r.clk.Advance(time.Millisecond)
		if last = r.build(t); !last.Equal(when) {
			t.Fatalf("build %d at %v, want %v", i+2, last, when)
		}
	}
}

func TestSupervisorRestartSkipsBackoff(t *testing.T) {
	r := newSupervisorRig(t, backoff{Min: time.Minute, Max: time.Hour})
	first := r.build(t)
	r.waiting(t)
	r.d.restart <- struct{}{} // a config change while waiting
	if at := r.build(t); !at.Equal(first) {
		t.Errorf("rebuild after a config change at +%v, want at once", at.Sub(first))
	}
}

func TestSupervisorStopsOnCancel(t *testing.T) {
	r := newSupervisorRig(t, backoff{Min: time.Hour, Max: time.Hour})
	r.build(t)
	r.waiting(t)
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		t.Fatal("superviseRuntime still running 5 s after cancel, in an hour-long backoff")
	}
	select {
	case <-r.builds:
		t.Error("built again after cancel")
	default:
	}
}

func TestSupervisorStatusWhileFailing(t *testing.T) {
	r := newSupervisorRig(t, backoff{Min: time.Second, Max: time.Second})
	r.build(t)
	r.waiting(t)
	st, ok := r.d.Status().(map[string]any)
	if !ok {
		t.Fatalf("Status() is %T, want a map", r.d.Status())
	}
	if st["state"] != "WAITING" || st["problem"] != errNoMic.Error() {
		t.Errorf("Status() state %q problem %q, want WAITING and %q", st["state"], st["problem"], errNoMic.Error())
	}
	// Still failing after the next attempt: the status says so, with the same problem.
	r.clk.Advance(time.Second)
	r.build(t)
	r.waiting(t)
	if st := r.d.Status().(map[string]any); st["state"] != "WAITING" || st["problem"] != errNoMic.Error() {
		t.Errorf("after a second failure: state %q problem %q", st["state"], st["problem"])
	}
}

func TestBackoffNext(t *testing.T) {
	b := backoff{Min: time.Second, Max: 30 * time.Second}
	tests := []struct {
		cur, want time.Duration
	}{
		{time.Second, 2 * time.Second},
		{8 * time.Second, 16 * time.Second},
		{16 * time.Second, 30 * time.Second},
		{30 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := b.next(tt.cur); got != tt.want {
			t.Errorf("next(%v) = %v, want %v", tt.cur, got, tt.want)
		}
	}
}
