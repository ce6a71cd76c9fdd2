package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/pipeline/pipelinetest"
)

// numOps is how many different things runOps can do to an engine.
const numOps = 36

// runOps drives an engine with an arbitrary sequence of inputs, checks the invariants
// after each, then lets the world settle (the connection comes back, playback ends,
// time passes) and checks that the engine came back to rest: no state is a dead end.
func runOps(t *testing.T, ops []byte, onDemand bool) {
	h := newHarness(t, func(c *pipeline.EngineConfig) {
		c.Mode = pipeline.Mode(len(ops) % 3)
		c.TurnEnd = pipeline.TurnEnd(len(ops) / 3 % 2)
		c.VoiceBargeIn = len(ops)%5 == 0
		c.FollowUp = 2 * time.Second
		if onDemand {
			c.Connector = &pipelinetest.Connector{Log: c.Conn.(*pipelinetest.Conn).Log}
		}
	})
	ctx := context.Background()
	n := 0
	id := func(p string) string { return fmt.Sprintf("%s_%d", p, n) }
	for i, op := range ops {
		n++
		switch op % numOps {
		case 0:
			h.button(pipeline.ButtonPress)
		case 1:
			h.button(pipeline.ButtonRelease)
		case 2:
			h.button(pipeline.ButtonLongPress)
		case 3:
			h.button(pipeline.ButtonDoublePress)
		case 4:
			h.speech(true)
		case 5:
			h.speech(false)
		case 6:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnecting})
		case 7:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnected, SessionID: id("sess")})
		case 8:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeDisconnected, Err: errors.New("reset")})
		case 9:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeFatal, Err: errors.New("invalid_api_key")})
		case 10:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeSpeechStarted})
		case 11:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeSpeechStopped})
		case 12:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeCommitted, ItemID: id("item")})
		case 13:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeResponseCreated, ResponseID: id("resp")})
		case 14:
			h.player.Play()
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeAudioStarted, ItemID: id("item")})
		case 15:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeAudioDone, ItemID: id("item")})
		case 16:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeResponseDone, Status: "completed"})
		case 17:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeResponseDone, Status: "cancelled"})
		case 18:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeError, Code: "input_audio_buffer_commit_empty"})
		case 19:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeError, Code: "conversation_already_has_active_response"})
		case 20:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeError, Code: "response_cancel_not_active"})
		case 21:
			h.player.Finish()
		case 22:
			h.advance(50 * time.Millisecond)
		case 23:
			h.advance(time.Second)
		case 24:
			h.advance(10 * time.Second)
		case 25:
			h.player.SetHeard(int(op))
		case 26:
			h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeTranscript, Text: "x", Final: op%2 == 0})
		default: // 27..35: the control actions
			err := h.control(pipeline.Actions[int(op%numOps)-27])
			var refused *pipeline.RefusedError
			if err != nil && !errors.As(err, &refused) {
				t.Fatalf("op %d: Control = %v, want nil or a refusal", i, err)
			}
		}
		checkInvariants(t, h, fmt.Sprintf("op %d (%d)", i, op%numOps))
		if t.Failed() {
			t.Fatalf("ops %v", ops[:i+1])
		}
	}

	// Settle: the connection is (re)established, the reply plays out, time passes.
	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnecting})
	h.rt(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnected, SessionID: "final"})
	h.player.Finish()
	h.button(pipeline.ButtonRelease)
	h.advance(3 * time.Minute)
	checkInvariants(t, h, "settled")
	s := h.e.Status()
	want := pipeline.StateConnected
	if onDemand {
		want = pipeline.StateIdle // hung up when idle
	}
	if s.State != want || h.gate.On() || h.vad.On() {
		t.Fatalf("after settling: state %v, gate on %v, echo guard on %v; want %v, both off (ops %v)",
			s.State, h.gate.On(), h.vad.On(), want, ops)
	}
	if err := h.e.Control(ctx, pipeline.ActionStartListening); err != nil && !s.Muted {
		t.Fatalf("start_listening after settling = %v (ops %v)", err, ops)
	}
}

// checkInvariants holds after every input.
func checkInvariants(t *testing.T, h *harness, step string) {
	t.Helper()
	s := h.e.Status()
	gate := h.gate.On()
	switch {
	case s.State == pipeline.StateListening && !gate:
		t.Errorf("%s: listening with the gate closed", step)
	case gate && s.State != pipeline.StateListening && s.State != pipeline.StateConnecting:
		t.Errorf("%s: gate open in state %v", step, s.State)
	case gate && s.Muted:
		t.Errorf("%s: gate open while muted", step)
	case s.State == pipeline.StateListening && h.vad.On():
		t.Errorf("%s: echo guard up while listening", step)
	case s.State == pipeline.StateSpeaking && !h.vad.On():
		t.Errorf("%s: echo guard down while speaking", step)
	}
	if s.State == pipeline.StateSpeaking || s.State == pipeline.StateProcessing || s.State == pipeline.StateListening {
		// Every busy state has a timer that ends it.
		if h.clock.Pending() == 0 {
			t.Errorf("%s: %v with no timer pending", step, s.State)
		}
	}
}

func TestEngineNeverStuck(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		ops := make([]byte, 5+r.IntN(60))
		for j := range ops {
			ops[j] = byte(r.IntN(numOps))
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { runOps(t, ops, i%4 == 3) })
	}
}

func FuzzEngine(f *testing.F) {
	f.Add([]byte{6, 7, 0, 4, 1, 13, 14, 16, 21, 22}, false)
	f.Add([]byte{6, 7, 4, 13, 14, 0, 8, 6, 7, 0, 1}, false)
	f.Add([]byte{0, 4, 5, 7, 14, 21, 24, 24}, true)
	f.Fuzz(func(t *testing.T, ops []byte, onDemand bool) {
		if len(ops) > 200 {
			ops = ops[:200]
		}
		runOps(t, ops, onDemand)
	})
}
