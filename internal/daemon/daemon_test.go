package daemon

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/httpapi"
	"github.com/voiced-project/voiced/internal/realtime"
)

func TestTranslate(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		in   realtime.Event
		want engine.RealtimeEvent
		ok   bool
	}{
		{&realtime.Connected{SessionID: "s1"}, engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "s1"}, true},
		{&realtime.Disconnected{Err: boom}, engine.RealtimeEvent{Kind: engine.RealtimeDisconnected, Err: boom}, true},
		{&realtime.AudioCommitted{ItemID: "i1"}, engine.RealtimeEvent{Kind: engine.RealtimeCommitted, ItemID: "i1"}, true},
		{&realtime.TimeoutTriggered{ItemID: "i2"}, engine.RealtimeEvent{Kind: engine.RealtimeCommitted, ItemID: "i2"}, true},
		{&realtime.ResponseDone{Response: realtime.Response{ID: "r1", Status: "cancelled"}}, engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "r1", Status: "cancelled"}, true},
		{&realtime.InputTranscriptionCompleted{ItemID: "i1", Transcript: "hi"}, engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: engine.RoleUser, ItemID: "i1", Text: "hi", Final: true}, true},
		{&realtime.AudioTranscriptDelta{ItemID: "i3", Delta: "he"}, engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: engine.RoleAssistant, ItemID: "i3", Text: "he"}, true},
		{&realtime.ServerError{Error: realtime.APIError{Code: "x", Message: "y"}}, engine.RealtimeEvent{Kind: engine.RealtimeError, Code: "x", Message: "y"}, true},
		{&realtime.RateLimitsUpdated{}, engine.RealtimeEvent{}, false},
	}
	for _, tt := range tests {
		got, ok := translate(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("translate(%T) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSessionFor(t *testing.T) {
	c := config.Default()
	c.Mode = "continuous"
	c.Realtime.TurnDetection.Type = "server_vad"
	s := sessionFor(c)
	if s.TurnDetection == nil || s.TurnDetection.Type != realtime.ServerVAD || s.TurnDetection.SilenceDurationMs != 600 {
		t.Errorf("continuous + server_vad: turn detection %+v", s.TurnDetection)
	}
	c.Mode = "push_to_talk"
	if s := sessionFor(c); s.TurnDetection != nil {
		t.Errorf("push_to_talk: turn detection %+v, want nil (the device commits)", s.TurnDetection)
	}
	c.Mode, c.Realtime.TurnDetection.Type = "continuous", "local"
	if s := sessionFor(c); s.TurnDetection != nil {
		t.Errorf("local end of turn: turn detection %+v, want nil", s.TurnDetection)
	}
	if err := sessionFor(config.Default()).Validate(); err != nil {
		t.Errorf("default session invalid: %v", err)
	}
}

func TestWithoutLive(t *testing.T) {
	a := config.Default()
	b := a.Clone()
	b.Realtime.Voice, b.Audio.Playback.Volume, b.Mode = "cedar", 10, "push_to_talk"
	if !equalConfig(withoutLive(a), withoutLive(b)) {
		t.Errorf("voice, volume and mode changes are not live")
	}
	b.Audio.Capture.Device = "hw:1,0"
	if equalConfig(withoutLive(a), withoutLive(b)) {
		t.Errorf("a device change counted as live")
	}
}

func equalConfig(a, b config.Config) bool {
	ja, _ := a.JSON()
	jb, _ := b.JSON()
	return string(ja) == string(jb)
}

func TestCommitLatencyMetric(t *testing.T) {
	d := New(Options{Config: config.Default()})
	m := d.metrics
	m.written("input_audio_buffer.commit", 40) // no release pending: not counted
	m.released()
	time.Sleep(time.Millisecond)
	m.written("input_audio_buffer.append", 100)
	m.written("input_audio_buffer.commit", 40)
	if n := m.commit.Count(); n != 1 {
		t.Fatalf("commit latency observations = %d, want 1", n)
	}
	var b strings.Builder
	d.WriteMetrics(&b)
	if !strings.Contains(b.String(), "voiced_commit_latency_seconds_count 1\n") {
		t.Errorf("metrics lack the commit latency:\n%s", b.String())
	}
}

func TestHub(t *testing.T) {
	h := newHub()
	a, cancelA := h.Subscribe()
	b, cancelB := h.Subscribe()
	cancelB()
	cancelB()                  // twice is fine
	for i := 0; i < 100; i++ { // more than a subscriber's buffer: the rest is dropped, nothing blocks
		h.publish(eventOf("state"))
	}
	if len(a) != cap(a) {
		t.Errorf("subscriber holds %d events, want its buffer full (%d)", len(a), cap(a))
	}
	if _, ok := <-b; ok {
		t.Errorf("cancelled subscription still open")
	}
	h.close()
	for range a {
	}
	cancelA()
	c, _ := h.Subscribe()
	if _, ok := <-c; ok {
		t.Errorf("subscription after close is open")
	}
}

func eventOf(kind string) httpapi.Event { return httpapi.Event{Type: kind} }

func TestGoneProblem(t *testing.T) {
	for _, tc := range []struct {
		mic, spk bool
		want     string
	}{
		{false, false, ""},
		{true, false, "the microphone hw:1,0 disappeared (unplugged?); voiced picks it up again when it returns"},
		{true, true, "the microphone hw:1,0 and the speaker hw:2,0 disappeared (unplugged?); voiced picks it up again when it returns"},
		{false, true, "the speaker hw:2,0 disappeared (unplugged?); voiced picks it up again when it returns"},
	} {
		if got := goneProblem("hw:1,0", "hw:2,0", tc.mic, tc.spk); got != tc.want {
			t.Errorf("goneProblem(%v, %v) = %q, want %q", tc.mic, tc.spk, got, tc.want)
		}
	}
}

func TestStatusClipsLongURL(t *testing.T) {
	cfg := config.Default()
	cfg.Realtime.URL = "wss://example.com/v1/realtime?x=" + strings.Repeat("a", 200<<10)
	d := New(Options{Config: cfg})
	b, err := json.Marshal(d.Status())
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 4<<10 {
		t.Errorf("status with a 200 KB URL is %d bytes, want under 4 KiB", len(b))
	}
	if !strings.Contains(string(b), "wss://example.com/v1/realtime?x=aaa") {
		t.Errorf("status lost the URL's start: %.300s", b)
	}
}
