package engine_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/engine/enginetest"
)

// numOps is how many different things runOps can do to an engine.
const numOps = 27 + 12 // the last 12: the control actions

// runOps drives an engine with an arbitrary sequence of inputs, checks the invariants
// after each, then lets the world settle (the connection comes back, playback ends,
// time passes) and checks that the engine came back to rest: no state is a dead end.
func runOps(t *testing.T, ops []byte, onDemand bool) {
	h := newHarness(t, func(c *engine.Config) {
		c.Mode = engine.Mode(len(ops) % 3)
		c.TurnEnd = engine.TurnEnd(len(ops) / 3 % 2)
		c.VoiceBargeIn = len(ops)%5 == 0
		c.FollowUp = 2 * time.Second
		if onDemand {
			c.Connector = &enginetest.Connector{Log: c.Conn.(*enginetest.Conn).Log}
		}
	})
	ctx := context.Background()
	n := 0
	id := func(p string) string { return fmt.Sprintf("%s_%d", p, n) }
	for i, op := range ops {
		n++
		switch op % numOps {
		case 0:
			h.button(engine.ButtonPress)
		case 1:
			h.button(engine.ButtonRelease)
		case 2:
			h.button(engine.ButtonLongPress)
		case 3:
			h.button(engine.ButtonDoublePress)
		case 4:
			h.speech(true)
		case 5:
			h.speech(false)
		case 6:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
		case 7:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: id("sess")})
		case 8:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeDisconnected, Err: errors.New("reset")})
		case 9:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeFatal, Err: errors.New("invalid_api_key")})
		case 10:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeSpeechStarted})
		case 11:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeSpeechStopped})
		case 12:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeCommitted, ItemID: id("item")})
		case 13:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: id("resp")})
		case 14:
			h.player.Play()
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: id("item")})
		case 15:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioDone, ItemID: id("item")})
		case 16:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, Status: "completed"})
		case 17:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, Status: "cancelled"})
		case 18:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeError, Code: "input_audio_buffer_commit_empty"})
		case 19:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeError, Code: "conversation_already_has_active_response"})
		case 20:
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeError, Code: "response_cancel_not_active"})
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
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Text: "x", Final: op%2 == 0})
		default: // 27..38: the control actions
			err := h.control(engine.Actions[int(op%numOps)-27])
			var refused *engine.RefusedError
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
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "final"})
	h.player.Finish()
	h.button(engine.ButtonRelease)
	h.advance(3 * time.Minute)
	checkInvariants(t, h, "settled")
	s := h.e.Status()
	want := engine.StateConnected
	if onDemand {
		want = engine.StateIdle // hung up when idle
	}
	if s.State != want || h.gate.On() || h.vad.On() {
		t.Fatalf("after settling: state %v, gate on %v, echo guard on %v; want %v, both off (ops %v)",
			s.State, h.gate.On(), h.vad.On(), want, ops)
	}
	if err := h.e.Control(ctx, engine.ActionListen); err != nil && !s.Muted {
		t.Fatalf("listen after settling = %v (ops %v)", err, ops)
	}
}

// checkInvariants holds after every input.
func checkInvariants(t *testing.T, h *harness, step string) {
	t.Helper()
	s := h.e.Status()
	gate := h.gate.On()
	switch {
	case s.State == engine.StateListening && !gate:
		t.Errorf("%s: listening with the gate closed", step)
	case gate && s.State != engine.StateListening && s.State != engine.StateConnecting:
		t.Errorf("%s: gate open in state %v", step, s.State)
	case gate && s.Muted:
		t.Errorf("%s: gate open while muted", step)
	case s.State == engine.StateListening && h.vad.On():
		t.Errorf("%s: echo guard up while listening", step)
	case s.State == engine.StateSpeaking && !h.vad.On():
		t.Errorf("%s: echo guard down while speaking", step)
	}
	if s.State == engine.StateSpeaking || s.State == engine.StateProcessing || s.State == engine.StateListening {
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
