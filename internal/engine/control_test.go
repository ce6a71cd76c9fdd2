package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
)

func TestControlRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(h *harness)
		action engine.Action
		reason string // "" = executed
	}{
		{"interrupt with nothing playing", (*harness).connect, engine.ActionInterrupt, "there is no reply to interrupt"},
		{"interrupt while listening", func(h *harness) { h.connect(); h.button(engine.ButtonPress) },
			engine.ActionInterrupt, "the device is listening, not replying; use ptt_stop"},
		{"listen disconnected", func(*harness) {}, engine.ActionListen, "not connected to the server"},
		{"listen twice", func(h *harness) { h.connect(); h.button(engine.ButtonPress) },
			engine.ActionListen, "already listening"},
		{"ptt_stop when no turn", (*harness).connect, engine.ActionPTTStop, "no turn is open"},
		{"ptt_stop ends a pressed turn", func(h *harness) { h.connect(); h.button(engine.ButtonPress) },
			engine.ActionPTTStop, ""},
		{"stop_listening twice", func(h *harness) { h.connect(); _ = h.control(engine.ActionStopListening) },
			engine.ActionStopListening, ""},
		{"start_listening when not paused", (*harness).connect, engine.ActionStartListening, ""},
		{"resume_listening when not paused", (*harness).connect, engine.ActionResumeListening, ""},
		{"resume when not paused", (*harness).connect, engine.ActionResume, "not paused"},
		{"unmute when not muted", (*harness).connect, engine.ActionUnmute, "not muted"},
		{"pause twice", func(h *harness) { h.connect(); _ = h.control(engine.ActionPause) }, engine.ActionPause, "already paused"},
		{"pause", (*harness).connect, engine.ActionPause, ""},
		{"mute while disconnected", func(*harness) {}, engine.ActionMute, ""},
		{"interrupt speaking", func(h *harness) { h.connect(); h.toSpeaking() }, engine.ActionInterrupt, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			tc.setup(h)
			before := h.e.Status().State
			err := h.control(tc.action)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Control(%s) = %v, want executed", tc.action, err)
				}
				return
			}
			var refused *engine.RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("Control(%s) = %v, want a RefusedError", tc.action, err)
			}
			if refused.Reason != tc.reason || refused.Action != tc.action || refused.State != before {
				t.Errorf("Control(%s) = %+v, want reason %q in state %v", tc.action, refused, tc.reason, before)
			}
			if after := h.e.Status().State; after != before {
				t.Errorf("state after a refusal = %v, want %v unchanged", after, before)
			}
		})
	}
}

func TestControlPushToTalk(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	if err := h.control(engine.ActionPTTStart); err != nil {
		t.Fatalf("ptt_start: %v", err)
	}
	h.speech(true)
	h.speech(false) // held: the pause does not end it
	h.advance(time.Second)
	if err := h.control(engine.ActionPTTStop); err != nil {
		t.Fatalf("ptt_stop: %v", err)
	}
	h.expect("ptt", []string{"listening", "processing"}, []string{"input_audio_buffer.clear", "stream on",
		"earcon listen-start", "stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})

	// ptt_start during the pending reply drops it and listens.
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_1"})
	if err := h.control(engine.ActionPTTStart); err != nil {
		t.Fatalf("ptt_start while processing: %v", err)
	}
	h.expect("ptt over a pending reply", []string{"listening"}, []string{"player stop", "response.cancel",
		"input_audio_buffer.clear", "stream on", "earcon listen-start"})
}

func TestControlPTTStopEndsAnyTurn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		speech bool
		states []string
		calls  []string
	}{
		{"after speech: sent", true, []string{"processing"},
			[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"}},
		{"before speech: dropped", false, []string{"connected"},
			[]string{"stream off", "input_audio_buffer.clear", "earcon listen-end"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.connect()
			if err := h.control(engine.ActionListen); err != nil {
				t.Fatalf("listen: %v", err)
			}
			if tc.speech {
				h.speech(true)
			}
			h.expect("start", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on", "earcon listen-start"})
			if err := h.control(engine.ActionPTTStop); err != nil {
				t.Fatalf("ptt_stop: %v", err)
			}
			h.expect("stop", tc.states, tc.calls)
		})
	}
}

func TestControlInterruptProcessing(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	h.button(engine.ButtonPress)
	h.speech(true)
	h.button(engine.ButtonRelease)
	h.log.Take()
	h.takeStates()
	if err := h.control(engine.ActionInterrupt); err != nil {
		t.Fatalf("interrupt: %v", err)
	}
	// No response yet: the one the server is about to create is cancelled on arrival.
	h.expect("interrupt", []string{"connected"}, []string{"player stop"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_1"})
	h.expect("reply after interrupt", nil, []string{"response.cancel"})
}

func TestControlPauseStopsVoiceTurn(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) { c.Mode = engine.ModeContinuous })
	h.connect()
	h.speech(true)
	if err := h.control(engine.ActionPause); err != nil {
		t.Fatalf("pause: %v", err)
	}
	h.expect("pause", []string{"listening", "connected"}, []string{"input_audio_buffer.clear", "stream on",
		"stream off", "input_audio_buffer.clear"})
	if s := h.e.Status(); !s.Paused || s.Summary() != "connected, paused" {
		t.Errorf("Status = %+v (%q), want paused", s, s.Summary())
	}
	// The button still works while paused.
	h.button(engine.ButtonPress)
	h.expect("press while paused", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on", "earcon listen-start"})
}

func TestControlErrors(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	if err := h.e.Control(ctx, "reboot"); !errors.Is(err, engine.ErrUnknownAction) {
		t.Errorf(`Control("reboot") = %v, want ErrUnknownAction`, err)
	}
	for _, a := range engine.Actions {
		if got, err := engine.ParseAction(string(a)); err != nil || got != a {
			t.Errorf("ParseAction(%q) = %q, %v", a, got, err)
		}
	}

	e, err := engine.New(engine.Config{Conn: h.conn, Gate: nopGate{}, Player: h.player})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.Run(cctx); err != nil {
		t.Fatalf("Run(cancelled) = %v", err)
	}
	if err := e.Control(ctx, engine.ActionMute); !errors.Is(err, engine.ErrNotRunning) {
		t.Errorf("Control after Run = %v, want ErrNotRunning", err)
	}
	if err := e.Run(ctx); err == nil {
		t.Errorf("second Run = nil, want an error")
	}
	e.HandleButton(engine.ButtonPress) // returns: the engine is gone
	e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeConnected})
}

type nopGate struct{}

func (nopGate) SetStreaming(bool) {}
