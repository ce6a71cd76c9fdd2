package engine_test

import (
	"sync"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
)

// statusLED records the engine's Status each time the LED turns to the connected
// pattern. The engine sets the LED just after it has published the state event, on its
// own goroutine: what Status says then is what a subscriber reading it on that event
// may find.
type statusLED struct {
	mu   sync.Mutex // guards following fields
	e    *engine.Engine
	seen []engine.Status
}

func (l *statusLED) SetPattern(p engine.LEDPattern) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.e != nil && p == engine.LEDConnected {
		l.seen = append(l.seen, l.e.Status())
	}
}

// TestStatusCurrentOnStateEvent: when a state event is out, Status already tells the
// new state and the counts that came with it. `voiced run --turns N` stops on the event
// that ends the Nth reply played to its end, reading Played from Status; when Status
// lagged, a busy machine let it read the old count and run on until --timeout.
func TestStatusCurrentOnStateEvent(t *testing.T) {
	led := &statusLED{}
	h := newHarness(t, func(c *engine.Config) { c.LED = led })
	led.mu.Lock()
	led.e = h.e
	led.mu.Unlock()
	h.connect()
	h.toSpeaking()
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioDone, ItemID: "item_1"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_1", Status: "completed"})
	h.player.Finish()
	h.advance(50 * time.Millisecond)
	h.expect("played", []string{"connected"}, []string{})

	led.mu.Lock()
	defer led.mu.Unlock()
	if len(led.seen) != 2 {
		t.Fatalf("LED turned to connected %d times, want 2 (connected, reply played)", len(led.seen))
	}
	for i, want := range []uint64{0, 1} {
		if st := led.seen[i]; st.State != engine.StateConnected || st.Played != want {
			t.Errorf("Status when connected event %d was out: state %v, played %d; want connected, %d", i+1, st.State, st.Played, want)
		}
	}
}
