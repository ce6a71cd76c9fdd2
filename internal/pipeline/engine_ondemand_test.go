package pipeline_test

import (
	"errors"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/pipeline/pipelinetest"
)

// onDemand is a harness whose engine connects at a wake and hangs up when idle.
func onDemand(t *testing.T, mode pipeline.Mode) *harness {
	return newHarness(t, func(c *pipeline.EngineConfig) {
		c.Mode, c.IdleHangup = mode, time.Minute
		c.Connector = &pipelinetest.Connector{Log: c.Conn.(*pipelinetest.Conn).Log}
	})
}

func TestOnDemandPushToTalk(t *testing.T) {
	h := onDemand(t, pipeline.ModePushToTalk)
	h.button(pipeline.ButtonPress)
	// The gate opens at once: the audio path buffers until the session is up.
	h.expect("press in idle", []string{"connecting"}, []string{"stream on", "earcon listen-start", "dial"})
	h.speech(true)
	h.advance(time.Second)
	h.button(pipeline.ButtonRelease) // released before the session was up
	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnecting})
	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnected, SessionID: "sess_1"})
	// No input_audio_buffer.clear: the fresh buffer holds what was said meanwhile.
	h.expect("connected", []string{"connected", "listening", "processing"},
		[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})

	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeResponseCreated, ResponseID: "resp_1"})
	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeResponseDone, ResponseID: "resp_1", Status: "completed"})
	h.expect("reply", []string{"connected"}, nil)
	h.advance(59 * time.Second)
	h.expect("not idle long enough", nil, nil)
	h.advance(time.Second)
	h.expect("idle", []string{"idle"}, []string{"hangup"})
	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeDisconnected, Err: errors.New("closed by client")})
	h.expect("expected disconnect", nil, nil)
	if s := h.e.Status(); s.Errors != 0 || s.SessionID != "" {
		t.Errorf("Status after hang-up = %+v, want no error, no session", s)
	}

	h.button(pipeline.ButtonPress)
	h.expect("next press", []string{"connecting"}, []string{"stream on", "earcon listen-start", "dial"})
}

func TestOnDemandVoiceWake(t *testing.T) {
	h := onDemand(t, pipeline.ModeContinuous)
	h.speech(true)
	h.expect("onset in idle", []string{"connecting"}, []string{"stream on", "dial"})
	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnecting})
	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnected, SessionID: "sess_1"})
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
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeDisconnected, Err: errors.New("dial tcp: no route to host")})
		}, []string{"stream off", "earcon error", "player stop"}},
		{"connect timeout", func(h *harness) { h.advance(pipeline.DefaultConnectTimeout) },
			[]string{"stream off", "earcon error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := onDemand(t, pipeline.ModeBoth)
			h.button(pipeline.ButtonPress)
			h.log.Take()
			h.takeStates()
			tc.fail(h)
			h.expect("failed", []string{"disconnected"}, tc.calls)
			var msgs []string
			for _, ev := range h.history {
				if ev.Kind == pipeline.EventError {
					msgs = append(msgs, ev.Message)
				}
			}
			if len(msgs) == 0 || msgs[0] != "could not connect: the turn was dropped" {
				t.Errorf("error events = %q, want the dropped turn first", msgs)
			}
			h.button(pipeline.ButtonRelease)
			h.expect("release", nil, nil)
		})
	}
}

func TestOnDemandCancelWhileConnecting(t *testing.T) {
	h := onDemand(t, pipeline.ModeBoth)
	if err := h.control(pipeline.ActionStartListening); err != nil {
		t.Fatalf("start_listening in idle: %v", err)
	}
	if err := h.control(pipeline.ActionStartListening); err == nil {
		t.Errorf("second start_listening while connecting = nil, want refused")
	}
	if err := h.control(pipeline.ActionStopListening); err != nil {
		t.Fatalf("stop_listening while connecting: %v", err)
	}
	h.expect("cancelled", []string{"connecting"}, []string{"stream on", "earcon listen-start", "dial", "stream off", "earcon listen-end"})
	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnected, SessionID: "s"})
	h.expect("connected", []string{"connected"}, nil)
}
