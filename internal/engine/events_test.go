package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/engine/enginetest"
	"github.com/voiced-project/voiced/internal/race"
)

func TestSlowSubscriberDrops(t *testing.T) {
	h := newHarness(t, nil)
	slow, cancel := h.e.Subscribe(2)
	defer cancel()
	for i := 0; i < 5; i++ {
		h.rt(engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Text: "word"})
	}
	// The engine went on although nobody read: Sync returned for every event.
	if got := h.e.Status().DroppedEvents; got != 3 {
		t.Errorf("DroppedEvents = %d, want 3", got)
	}
	first, second := <-slow, <-slow
	if first.Missed != 0 || second.Missed != 0 {
		t.Errorf("Missed of the kept events = %d, %d, want 0, 0", first.Missed, second.Missed)
	}
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Text: "next"})
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
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnecting}) // publishing to nobody is fine
}

func TestEventJSON(t *testing.T) {
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, tc := range []struct {
		name string
		ev   engine.Event
		want string
	}{
		{"state", engine.Event{Kind: engine.EventState, Seq: 3, Time: at, State: engine.StateListening,
			Prev: engine.StateConnected, Reason: "button press"},
			`{"type":"state","seq":3,"time":"2026-05-06T07:08:09Z","state":"listening","prev":"connected","muted":false,"paused":false,"follow_up":false,"reason":"button press"}`},
		{"transcript", engine.Event{Kind: engine.EventTranscript, Seq: 4, Time: at, State: engine.StateSpeaking,
			Role: engine.RoleAssistant, Text: "Hi", Final: true, ItemID: "item_1"},
			`{"type":"transcript","seq":4,"time":"2026-05-06T07:08:09Z","state":"speaking","muted":false,"paused":false,"follow_up":false,"role":"assistant","text":"Hi","final":true,"item_id":"item_1"}`},
		{"error", engine.Event{Kind: engine.EventError, Seq: 5, Time: at, State: engine.StateConnected, Muted: true,
			Code: "reply_timeout", Message: "no reply within 15s"},
			`{"type":"error","seq":5,"time":"2026-05-06T07:08:09Z","state":"connected","muted":true,"paused":false,"follow_up":false,"code":"reply_timeout","message":"no reply within 15s"}`},
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
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	// An engine that does not run: nothing else allocates meanwhile, and the queue
	// fills, so both the queued and the dropped path are measured.
	e := idleEngine(t)
	edge := engine.SpeechEdge{Start: true, Length: 200 * time.Millisecond}
	if n := testing.AllocsPerRun(1000, func() { e.HandleSpeech(edge) }); n != 0 {
		t.Errorf("HandleSpeech allocates %v times per call, want 0", n)
	}
	if got := e.Status().DroppedInputs; got == 0 || got > 1001 {
		t.Errorf("DroppedInputs = %d, want the calls beyond the queue", got)
	}
}

// idleEngine returns an engine that is not running.
func idleEngine(t *testing.T) *engine.Engine {
	t.Helper()
	log := &enginetest.Log{}
	e, err := engine.New(engine.Config{Conn: &enginetest.Conn{Log: log}, Gate: nopGate{},
		Player: &enginetest.Player{Log: log}, Clock: clocktest.NewClock(epoch)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestSubscriptionsCloseWithRun(t *testing.T) {
	e, err := engine.New(engine.Config{Conn: &enginetest.Conn{Log: &enginetest.Log{}}, Gate: nopGate{},
		Player: &enginetest.Player{Log: &enginetest.Log{}}, Clock: clocktest.NewClock(epoch)})
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := e.Subscribe(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
	if ev := <-ch; ev.Kind != engine.EventState || ev.State != engine.StateConnecting {
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

// refEventJSON is /v1/events' encoding written the plain way, with encoding/json:
// the reference AppendJSON must match byte for byte.
func refEventJSON(e engine.Event) ([]byte, error) {
	type wire struct {
		Type       engine.EventKind `json:"type"`
		Seq        uint64           `json:"seq"`
		Time       time.Time        `json:"time"`
		Missed     uint64           `json:"missed,omitempty"`
		State      engine.State     `json:"state"`
		Prev       *engine.State    `json:"prev,omitempty"`
		Muted      bool             `json:"muted"`
		Paused     bool             `json:"paused"`
		FollowUp   bool             `json:"follow_up"`
		Reason     string           `json:"reason,omitempty"`
		Source     string           `json:"source,omitempty"`
		LengthMs   int64            `json:"length_ms,omitempty"`
		Role       *engine.Role     `json:"role,omitempty"`
		Text       *string          `json:"text,omitempty"`
		Final      *bool            `json:"final,omitempty"`
		ItemID     string           `json:"item_id,omitempty"`
		ResponseID string           `json:"response_id,omitempty"`
		Status     string           `json:"status,omitempty"`
		Code       string           `json:"code,omitempty"`
		Message    string           `json:"message,omitempty"`
	}
	w := wire{Type: e.Kind, Seq: e.Seq, Time: e.Time, Missed: e.Missed, State: e.State, Muted: e.Muted,
		Paused: e.Paused, FollowUp: e.FollowUp, Reason: e.Reason, Source: e.Source, LengthMs: e.Length.Milliseconds(), ItemID: e.ItemID,
		ResponseID: e.ResponseID, Status: e.Status, Code: e.Code, Message: e.Message}
	switch e.Kind {
	case engine.EventState:
		w.Prev = &e.Prev
	case engine.EventTranscript:
		w.Role, w.Text, w.Final = &e.Role, &e.Text, &e.Final
	}
	return json.Marshal(w)
}

func TestEventAppendJSONMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 21, 19, 30, 1, 123456789, time.UTC)
	tricky := "quote \" backslash \\ <b>&amp;</b> tab\t nl\n cr\r bell\x07 del\x7f é 漢 \u2028\u2029 bad\xff\xfe end"
	events := []engine.Event{
		{Kind: engine.EventState, Seq: 1, Time: at, State: engine.StateListening, Prev: engine.StateConnected, Reason: "button press"},
		{Kind: engine.EventFlags, Seq: 2, Time: at.In(time.FixedZone("x", 3600)), Muted: true, Reason: "long press", Missed: 3},
		{Kind: engine.EventSpeechStarted, Seq: 3, Time: at, Source: "local", Length: 250 * time.Millisecond, State: engine.StateListening},
		{Kind: engine.EventTranscript, Seq: 4, Time: at, Role: engine.RoleAssistant, Text: tricky, Final: true, ItemID: "item_1"},
		{Kind: engine.EventTranscript, Seq: 5, Time: at, Role: engine.RoleUser, Text: ""},
		{Kind: engine.EventResponseDone, Seq: 6, Time: at, ResponseID: "resp_1", Status: "cancelled"},
		{Kind: engine.EventError, Seq: 7, Time: at, Code: "invalid_api_key", Message: tricky},
		{Kind: engine.EventFault, Seq: 8, Time: at, Message: "the microphone hw:1,0 disappeared"},
		{Kind: engine.EventFault, Seq: 9, Time: at},
		{Kind: engine.EventFlags, Seq: 11, Time: at, State: engine.StateConnected, FollowUp: true, Reason: "follow-up window open"},
		{Kind: engine.EventState, Seq: 10, Time: time.Time{}, State: engine.StateIdle},
	}
	buf := make([]byte, 0, 4096)
	for _, e := range events {
		want, err := refEventJSON(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.AppendJSON(buf[:0]); string(got) != string(want) {
			t.Errorf("%v event:\n got %s\nwant %s", e.Kind, got, want)
		}
		if got, _ := json.Marshal(e); string(got) != string(want) {
			t.Errorf("%v event, json.Marshal:\n got %s\nwant %s", e.Kind, got, want)
		}
	}
	if race.Enabled {
		return
	}
	e := events[3]
	if a := testing.AllocsPerRun(100, func() { buf = e.AppendJSON(buf[:0]) }); a != 0 {
		t.Errorf("AppendJSON allocates %v times with room in the buffer, want 0", a)
	}
}
