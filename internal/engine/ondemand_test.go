package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/engine/enginetest"
)

// onDemand is a harness whose engine connects at a wake and hangs up when idle.
func onDemand(t *testing.T, mode engine.Mode) *harness {
	return newHarness(t, func(c *engine.Config) {
		c.Mode, c.IdleHangup = mode, time.Minute
		c.Connector = &enginetest.Connector{Log: c.Conn.(*enginetest.Conn).Log}
	})
}

func TestOnDemandPushToTalk(t *testing.T) {
	h := onDemand(t, engine.ModePushToTalk)
	h.button(engine.ButtonPress)
	// The gate opens at once: the audio path buffers until the session is up.
	h.expect("press in idle", []string{"connecting"}, []string{"stream on", "earcon listen-start", "dial"})
	h.speech(true)
	h.advance(time.Second)
	h.button(engine.ButtonRelease) // released before the session was up
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "sess_1"})
	// No input_audio_buffer.clear: the fresh buffer holds what was said meanwhile.
	h.expect("connected", []string{"connected", "listening", "processing"},
		[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})

	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_1"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_1", Status: "completed"})
	h.expect("reply", []string{"connected"}, nil)
	h.advance(59 * time.Second)
	h.expect("not idle long enough", nil, nil)
	h.advance(time.Second)
	h.expect("idle", []string{"idle"}, []string{"hangup"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeDisconnected, Err: errors.New("closed by client")})
	h.expect("expected disconnect", nil, nil)
	if s := h.e.Status(); s.Errors != 0 || s.SessionID != "" {
		t.Errorf("Status after hang-up = %+v, want no error, no session", s)
	}

	h.button(engine.ButtonPress)
	h.expect("next press", []string{"connecting"}, []string{"stream on", "earcon listen-start", "dial"})
}

func TestOnDemandVoiceWake(t *testing.T) {
	h := onDemand(t, engine.ModeContinuous)
	h.speech(true)
	h.expect("onset in idle", []string{"connecting"}, []string{"stream on", "dial"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "sess_1"})
	h.expect("connected", []string{"connected", "listening"}, nil)
	h.advance(10 * time.Second) // speech was heard: no listening timeout
	h.speech(false)
	h.expect("end", []string{"processing"},
		[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})
}

func TestOnDemandConnectFails(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fail  func(h *harness)
		calls []string
	}{
		{"disconnected", func(h *harness) {
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeDisconnected, Err: errors.New("dial tcp: no route to host")})
		}, []string{"stream off", "earcon error", "player stop"}},
		{"connect timeout", func(h *harness) { h.advance(engine.DefaultConnectTimeout) },
			[]string{"stream off", "earcon error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := onDemand(t, engine.ModeBoth)
			h.button(engine.ButtonPress)
			h.log.Take()
			h.takeStates()
			tc.fail(h)
			h.expect("failed", []string{"disconnected"}, tc.calls)
			var msgs []string
			for _, ev := range h.history {
				if ev.Kind == engine.EventError {
					msgs = append(msgs, ev.Message)
				}
			}
			if len(msgs) == 0 || msgs[0] != "could not connect: the turn was dropped" {
				t.Errorf("error events = %q, want the dropped turn first", msgs)
			}
			h.button(engine.ButtonRelease)
			h.expect("release", nil, nil)
		})
	}
}

func TestOnDemandCancelWhileConnecting(t *testing.T) {
	h := onDemand(t, engine.ModeBoth)
	if err := h.control(engine.ActionListen); err != nil {
		t.Fatalf("listen in idle: %v", err)
	}
	if err := h.control(engine.ActionListen); err == nil {
		t.Errorf("second listen while connecting = nil, want refused")
	}
	if err := h.control(engine.ActionPTTStop); err != nil {
		t.Fatalf("ptt_stop while connecting: %v", err)
	}
	h.expect("cancelled", []string{"connecting"}, []string{"stream on", "earcon listen-start", "dial", "stream off", "earcon listen-end"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "s"})
	h.expect("connected", []string{"connected"}, nil)
}
