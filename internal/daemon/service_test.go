package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/race"
)

// fakeBackend records what the adapter calls.
type fakeBackend struct {
	calls   []string
	samples int
	ctlErr  error
}

func (f *fakeBackend) Run(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
func (f *fakeBackend) Events() <-chan backend.Event  { return nil }
func (f *fakeBackend) InputRate() int                { return 16000 }
func (f *fakeBackend) StartTurn() error              { f.calls = append(f.calls, "start"); return nil }
func (f *fakeBackend) EndTurn() error                { f.calls = append(f.calls, "end"); return nil }
func (f *fakeBackend) AppendAudio(pcm []int16) error { f.samples += len(pcm); return nil }
func (f *fakeBackend) Interrupt(id string, ms int) error {
	f.calls = append(f.calls, fmt.Sprintf("interrupt %s %d", id, ms))
	return nil
}
func (f *fakeBackend) PlaybackDone(id string) error {
	f.calls = append(f.calls, "played "+id)
	return nil
}
func (f *fakeBackend) Control(a backend.Action) error {
	f.calls = append(f.calls, "control "+string(a))
	return f.ctlErr
}

func TestServiceMapsTheEngineVerbs(t *testing.T) {
	f := &fakeBackend{}
	s := &service{b: f, log: slog.New(slog.DiscardHandler)}
	s.ClearAudio()
	s.CommitAudio()
	s.CreateResponse()
	s.note(backend.Event{Kind: backend.ReplyStarted, ReplyID: "m1"})
	s.CancelResponse()
	s.TruncateItem("m1", 0, 850) // the same reply: the service heard of it already
	s.note(backend.Event{Kind: backend.ReplyStarted, ReplyID: "m2"})
	s.note(backend.Event{Kind: backend.ReplyDone, ReplyID: "m2"})
	s.TruncateItem("m2", 0, 400) // done sending, still playing: barge-in all the same
	if s.heardReply("m2") {
		t.Error("audio of m2 announced before the engine heard m2 started")
	}
	if !s.replyStarted("m2") || s.heardReply("m2") || s.replyStarted("m2") {
		t.Error("the audio start of m2 is not announced exactly once")
	}
	s.played()
	want := []string{"start", "end", "interrupt m1 -1", "interrupt m2 400", "played m2"}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}
}

func TestServiceForwardsOnlyTheServicesControls(t *testing.T) {
	f := &fakeBackend{}
	s := &service{b: f, log: slog.New(slog.DiscardHandler), forward: map[engine.Action]backend.Action{engine.ActionPause: backend.ActionPause}}
	if err := s.control(engine.ActionMute); err != nil {
		t.Fatal(err)
	}
	if err := s.control(engine.ActionPause); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.calls, []string{"control pause"}) {
		t.Errorf("calls %q, want only control pause", f.calls)
	}
	f.ctlErr = backend.ErrUnsupported
	if err := s.control(engine.ActionPause); err != nil {
		t.Errorf("an unsupported action: %v, want nil (the engine acted alone)", err)
	}
	f.ctlErr = backend.ErrNotConnected
	if err := s.control(engine.ActionPause); !errors.Is(err, backend.ErrNotConnected) {
		t.Errorf("not connected: %v, want ErrNotConnected", err)
	}
}

type kindErr struct{ k backend.ErrorKind }

func (e kindErr) Error() string           { return "quota gone" }
func (e kindErr) Kind() backend.ErrorKind { return e.k }
func (e kindErr) Fatal() bool             { return false }

func TestTranslateBackend(t *testing.T) {
	tests := []struct {
		in   backend.Event
		want []engine.RealtimeEvent
	}{
		{backend.Event{Kind: backend.Connected, SessionID: "s"}, []engine.RealtimeEvent{{Kind: engine.RealtimeConnected, SessionID: "s"}}},
		{backend.Event{Kind: backend.Committed}, []engine.RealtimeEvent{{Kind: engine.RealtimeCommitted}}},
		{backend.Event{Kind: backend.Transcript, Role: backend.Assistant, Text: "hi", Final: true, ReplyID: "m"},
			[]engine.RealtimeEvent{{Kind: engine.RealtimeTranscript, Role: engine.RoleAssistant, Text: "hi", Final: true, ItemID: "m", ResponseID: "m"}}},
		{backend.Event{Kind: backend.ReplyStarted, ReplyID: "m"}, []engine.RealtimeEvent{{Kind: engine.RealtimeResponseCreated, ResponseID: "m"}}},
		{backend.Event{Kind: backend.ReplyDone, ReplyID: "m"}, []engine.RealtimeEvent{
			{Kind: engine.RealtimeAudioDone, ItemID: "m", ResponseID: "m"},
			{Kind: engine.RealtimeResponseDone, ResponseID: "m", Status: "completed"}}},
		{backend.Event{Kind: backend.Interrupted, ReplyID: "m"}, []engine.RealtimeEvent{{Kind: engine.RealtimeResponseDone, ResponseID: "m", Status: "cancelled"}}},
		{backend.Event{Kind: backend.Error, Err: kindErr{backend.KindQuota}}, []engine.RealtimeEvent{{Kind: engine.RealtimeError, Code: "quota_exceeded", Message: "quota gone"}}},
		{backend.Event{Kind: backend.ControlAck, Action: backend.ActionPause}, nil},
	}
	for _, tt := range tests {
		out, n := translateBackend(tt.in)
		if got := out[:n]; !slices.EqualFunc(got, tt.want, func(a, b engine.RealtimeEvent) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
			t.Errorf("%v: got %+v, want %+v", tt.in.Kind, got, tt.want)
		}
	}
}

func TestRateUplinkSendsTheServicesRateWithoutAllocating(t *testing.T) {
	f := &fakeBackend{}
	u, err := newRateUplink(f)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]int16, pipeline.CaptureRate*40/1000) // the uplink's 40 ms
	for i := range 50 {
		if err := u.AppendAudio(chunk); err != nil {
			t.Fatal(i, err)
		}
	}
	// 2 s at 24 kHz is 2 s at 16 kHz, less the filter's delay.
	if got := f.samples; got < 32000-200 || got > 32000 {
		t.Errorf("sent %d samples for 2 s, want about 32000", got)
	}
	if race.Enabled {
		return
	}
	if n := testing.AllocsPerRun(100, func() { u.AppendAudio(chunk) }); n != 0 {
		t.Errorf("%v allocations per chunk, want 0", n)
	}
}

func TestRateSinkConvertsToThePlayersRate(t *testing.T) {
	got := map[string]int{}
	k := &rateSink{rate: 24000, write: func(id string, pcm []int16) { got[id] += len(pcm) }, log: slog.New(slog.DiscardHandler)}
	for range 10 {
		k.sink("a", make([]int16, 1600), 16000) // 100 ms at 16 kHz
	}
	k.sink("b", make([]int16, 2400), 24000)
	k.sink("c", make([]int16, 1000), 11025) // no resampler for it: dropped, said once
	if got["a"] < 24000-200 || got["a"] > 24000 {
		t.Errorf("1 s at 16 kHz became %d samples, want about 24000", got["a"])
	}
	if got["b"] != 2400 || got["c"] != 0 {
		t.Errorf("same rate %d (want 2400), unplayable rate %d (want 0)", got["b"], got["c"])
	}
	if race.Enabled {
		return
	}
	chunk := make([]int16, 1600)
	if n := testing.AllocsPerRun(100, func() { k.sink("a", chunk, 16000) }); n != 0 {
		t.Errorf("%v allocations per chunk, want 0", n)
	}
}

func TestNewServiceFromConfig(t *testing.T) {
	sink := func(string, []int16, int) {}
	for _, p := range []string{"estuary", "selam"} {
		c := config.Default()
		c.Realtime.Profile = p
		c.Realtime.Estuary.CharacterID = "c-1"
		s, err := newService(c, config.Secrets{APIKey: "k"}, sink, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if s.b.InputRate() != 16000 {
			t.Errorf("%s: input rate %d, want 16000", p, s.b.InputRate())
		}
		if (p == "selam") != (len(s.forward) == 4) {
			t.Errorf("%s: forwards %v", p, s.forward)
		}
	}
	c := config.Default()
	if _, err := newService(c, config.Secrets{APIKey: "k"}, sink, nil); err == nil {
		t.Error("newService for profile openai: no error")
	}
}
