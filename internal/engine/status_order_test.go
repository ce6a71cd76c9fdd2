package engine_test

import (
	"context"
	"testing"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/engine/enginetest"
)

// gateLED holds the engine inside SetPattern until the test lets it go: the engine
// sets the LED right after publishing a state, so while it waits there, a status
// snapshot taken later in the loop would not have been stored yet.
type gateLED struct {
	set chan engine.LEDPattern
	ack chan struct{}
}

func (l *gateLED) SetPattern(p engine.LEDPattern) { l.set <- p; <-l.ack }

// TestStatusStoredBeforeEvent: a subscriber that reads Status when it receives a
// state event sees that state and the counters that go with it (the daemon's --turns
// reads Played on the event that ends SPEAKING). The LED holds the engine just after
// each state event, so a snapshot stored after publishing is missed every time.
func TestStatusStoredBeforeEvent(t *testing.T) {
	log := &enginetest.Log{}
	player := &enginetest.Player{Log: log}
	led := &gateLED{set: make(chan engine.LEDPattern), ack: make(chan struct{})}
	c := baseConfig()
	c.Conn, c.Gate, c.Player = &enginetest.Conn{Log: log}, &enginetest.Gate{Log: log}, player
	c.VAD, c.LED, c.Earcons, c.Clock = &enginetest.VAD{Log: log}, led, &enginetest.Earcons{Log: log}, clocktest.NewClock(epoch)
	e, err := engine.New(c)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := e.Subscribe(1024)
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx) }()

	const turns = 3
	go func() { // the conversation, as fast as the engine takes it
		e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
		e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "sess_1"})
		for range turns {
			e.HandleButton(engine.ButtonPress)
			e.HandleSpeech(engine.SpeechEdge{Start: true})
			e.HandleButton(engine.ButtonRelease)
			e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp"})
			e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item"})
			e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeAudioDone, ItemID: "item"})
			e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp", Status: "completed"})
		}
	}()

	played, states := 0, 0
	for played < turns {
		<-led.set // the engine waits in SetPattern: every event before it is out
	drain:
		for {
			select {
			case ev := <-events:
				if ev.Kind != engine.EventState {
					continue
				}
				states++
				if ev.Prev == engine.StateSpeaking {
					played++
				}
				st := e.Status()
				if st.State != ev.State {
					t.Errorf("event %d: state event %s, Status().State %s", ev.Seq, ev.State, st.State)
				}
				if ev.Prev == engine.StateSpeaking && st.Played != uint64(played) {
					t.Errorf("event %d: reply %d played, Status().Played %d", ev.Seq, played, st.Played)
				}
			default:
				break drain
			}
		}
		led.ack <- struct{}{}
	}
	stop()
	go func() { // let the engine out of the LED on its way down
		for range led.set {
			led.ack <- struct{}{}
		}
	}()
	if err := <-ran; err != nil {
		t.Errorf("Run = %v", err)
	}
	close(led.set)
	if states < 4*turns {
		t.Errorf("saw %d state events, want at least %d", states, 4*turns)
	}
}
