package pipeline_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/pipeline/pipelinetest"
)

func TestSlowSubscriberDrops(t *testing.T) {
	h := newHarness(t, nil)
	slow, cancel := h.e.Subscribe(2)
	defer cancel()
	for i := 0; i < 5; i++ {
		h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeTranscript, Text: "word"})
	}
	// The engine went on although nobody read: Sync returned for every event.
	if got := h.e.Status().DroppedEvents; got != 3 {
		t.Errorf("DroppedEvents = %d, want 3", got)
	}
	first, second := <-slow, <-slow
	if first.Missed != 0 || second.Missed != 0 {
		t.Errorf("Missed of the kept events = %d, %d, want 0, 0", first.Missed, second.Missed)
	}
	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeTranscript, Text: "next"})
	if ev := <-slow; ev.Missed != 3 || ev.Text != "next" || ev.Seq != second.Seq+4 {
		t.Errorf("event after the loss = %+v, want Missed 3, text next, seq %d", ev, second.Seq+4)
	}
	if got := len(h.takeEvents()); got != 6 {
		t.Errorf("the fast subscriber got %d events, want all 6", got)
	}
}

func TestSubscriptionEnds(t *testing.T) {
	h := newHarness(t, nil)
	ch, cancel := h.e.Subscribe(0)
	cancel()
	cancel() // twice is harmless
	if _, ok := <-ch; ok {
		t.Errorf("channel open after cancel")
	}
	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnecting}) // publishing to nobody is fine
}

func TestEventJSON(t *testing.T) {
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, tc := range []struct {
		name string
		ev   pipeline.Event
		want string
	}{
		{"state", pipeline.Event{Kind: pipeline.EventState, Seq: 3, Time: at, State: pipeline.StateListening,
			Prev: pipeline.StateConnected, Reason: "button press"},
			`{"type":"state","seq":3,"time":"2026-05-06T07:08:09Z","state":"listening","prev":"connected","muted":false,"paused":false,"reason":"button press"}`},
		{"transcript", pipeline.Event{Kind: pipeline.EventTranscript, Seq: 4, Time: at, State: pipeline.StateSpeaking,
			Role: pipeline.RoleAssistant, Text: "Hi", Final: true, ItemID: "item_1"},
			`{"type":"transcript","seq":4,"time":"2026-05-06T07:08:09Z","state":"speaking","muted":false,"paused":false,"role":"assistant","text":"Hi","final":true,"item_id":"item_1"}`},
		{"error", pipeline.Event{Kind: pipeline.EventError, Seq: 5, Time: at, State: pipeline.StateConnected, Muted: true,
			Code: "reply_timeout", Message: "no reply within 15s"},
			`{"type":"error","seq":5,"time":"2026-05-06T07:08:09Z","state":"connected","muted":true,"paused":false,"code":"reply_timeout","message":"no reply within 15s"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("json = %s\nwant   %s", b, tc.want)
			}
		})
	}
}

func TestHandleSpeechAllocs(t *testing.T) {
	if engineRace {
		t.Skip("allocation counts are not meaningful under -race")
	}
	// An engine that does not run: nothing else allocates meanwhile, and the queue
	// fills, so both the queued and the dropped path are measured.
	e := idleEngine(t)
	edge := pipeline.SpeechEdge{Start: true, Length: 200 * time.Millisecond}
	if n := testing.AllocsPerRun(1000, func() { e.HandleSpeech(edge) }); n != 0 {
		t.Errorf("HandleSpeech allocates %v times per call, want 0", n)
	}
	if got := e.Status().DroppedInputs; got == 0 || got > 1001 {
		t.Errorf("DroppedInputs = %d, want the calls beyond the queue", got)
	}
}

// idleEngine returns an engine that is not running.
func idleEngine(t *testing.T) *pipeline.Engine {
	t.Helper()
	log := &pipelinetest.Log{}
	e, err := pipeline.NewEngine(pipeline.EngineConfig{Conn: &pipelinetest.Conn{Log: log}, Gate: nopGate{},
		Player: &pipelinetest.Player{Log: log}, Clock: pipelinetest.NewClock(epoch)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSubscriptionsCloseWithRun(t *testing.T) {
	e, err := pipeline.NewEngine(pipeline.EngineConfig{Conn: &pipelinetest.Conn{Log: &pipelinetest.Log{}}, Gate: nopGate{},
		Player: &pipelinetest.Player{Log: &pipelinetest.Log{}}, Clock: pipelinetest.NewClock(epoch)})
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := e.Subscribe(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	e.HandleRealtime(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnecting})
	if ev := <-ch; ev.Kind != pipeline.EventState || ev.State != pipeline.StateConnecting {
		t.Errorf("first event = %+v, want state connecting", ev)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if _, ok := <-ch; ok {
		t.Errorf("subscription open after Run returned")
	}
	late, _ := e.Subscribe(1)
	if _, ok := <-late; ok {
		t.Errorf("subscription after Run is open")
	}
}

func TestStatusJSON(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	b, err := json.Marshal(h.e.Status())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"state": "connected", "mode": "both", "turn_end": "local",
		"session_id": "sess_1", "connected_since": "2026-01-02T03:04:05Z", "turns": 0.0} {
		if got[k] != want {
			t.Errorf("status %s = %v, want %v (in %s)", k, got[k], want, b)
		}
	}
	if _, ok := got["last_error_at"]; ok {
		t.Errorf("status has last_error_at without an error: %s", b)
	}
}
