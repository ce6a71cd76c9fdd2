package engine_test

import (
	"slices"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/engine/enginetest"
)

// playOut finishes the reply toSpeaking started: response.done, playback drained.
func (h *harness) playOut(transcript string) {
	h.t.Helper()
	if transcript != "" {
		h.rt(engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: engine.RoleAssistant, Text: transcript, Final: true, ItemID: "item_1"})
	}
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_1", Status: "completed"})
	h.player.Finish()
	h.advance(50 * time.Millisecond)
}

func lastLED(h *harness) engine.LEDPattern { p := h.led.Patterns(); return p[len(p)-1] }

// TestFollowUpEveryMode: after a reply the window opens in every mode: the detector
// runs (also in push-to-talk), the LED shows listening, /v1/events says so, and speech
// in it starts a turn without a press or a wake.
func TestFollowUpEveryMode(t *testing.T) {
	for _, mode := range []engine.Mode{engine.ModePushToTalk, engine.ModeContinuous, engine.ModeBoth} {
		t.Run(mode.String(), func(t *testing.T) {
			var g *detectGate
			h := newHarness(t, func(c *engine.Config) {
				c.Mode, c.FollowUp, c.EchoGuard = mode, 4*time.Second, 500*time.Millisecond
				g = &detectGate{Gate: c.Gate.(*enginetest.Gate)}
				c.Gate = g
			})
			_ = g
			h.connect()
			h.toSpeaking()
			h.playOut("Here you are.")
			if s := h.e.Status(); !s.FollowUp || s.State != engine.StateConnected {
				t.Fatalf("after the reply: status %+v, want CONNECTED with the follow-up window open", s)
			}
			if got := lastLED(h); got != engine.LEDListening {
				t.Errorf("LED %v in the follow-up window, want LISTENING's", got)
			}
			if mode == engine.ModePushToTalk {
				if got := g.take(); len(got) == 0 || !got[len(got)-1] {
					t.Errorf("detector switches %v, want it on in the window", got)
				}
			}
			ev, ok := findEvent(h.takeEvents(), engine.EventFlags)
			if !ok || !ev.FollowUp || ev.Reason != "follow-up window open" {
				t.Errorf("flags event %+v (found %v), want the window open", ev, ok)
			}
			h.advance(time.Second) // echo guard over
			h.log.Take()
			h.speech(true)
			var reason string
			for _, ev := range h.got {
				if ev.Kind == engine.EventState {
					reason = ev.Reason
				}
			}
			h.expect("speech in the window", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on"})
			if reason != "follow-up" {
				t.Errorf("the turn's reason %q, want follow-up", reason)
			}
			if s := h.e.Status(); s.FollowUp {
				t.Errorf("the window stays open in a turn")
			}
		})
	}
}

// TestFollowUpClosesQuietly: nothing said, the window closes with the listen-end
// earcon; push-to-talk needs the button again and its detector goes off.
func TestFollowUpClosesQuietly(t *testing.T) {
	var g *detectGate
	h := newHarness(t, func(c *engine.Config) {
		c.Mode, c.FollowUp, c.EchoGuard = engine.ModePushToTalk, 4*time.Second, 500*time.Millisecond
		g = &detectGate{Gate: c.Gate.(*enginetest.Gate)}
		c.Gate = g
	})
	h.connect()
	h.toSpeaking()
	h.playOut("")
	h.takeEvents()
	h.log.Take()
	g.take()
	h.advance(4500 * time.Millisecond)
	h.expect("window over", nil, []string{"echo guard off", "earcon listen-end"})
	if got := g.take(); !slices.Equal(got, []bool{false}) {
		t.Errorf("detector switches %v at the end of the window, want [false]", got)
	}
	if got := lastLED(h); got != engine.LEDConnected {
		t.Errorf("LED %v after the window, want CONNECTED's", got)
	}
	flags := slices.DeleteFunc(slices.Clone(h.history), func(ev engine.Event) bool { return ev.Kind != engine.EventFlags })
	if n := len(flags); n == 0 || flags[n-1].FollowUp || flags[n-1].Reason != "nothing said in the follow-up window" {
		t.Errorf("flags events %+v, want the window closed last", flags)
	}
	h.speech(true)
	h.expect("after the window", nil, nil)
}

// TestContinueConversation: a reply that asks something opens the next turn by
// itself after the echo guard, with the listen-start earcon, when Continue is on.
func TestContinueConversation(t *testing.T) {
	for _, tc := range []struct {
		name       string
		continueOn bool
		transcript string
		tool       bool
		want       bool
	}{
		{"question", true, "Shall I set a timer?", false, true},
		{"question in quotes", true, "Did you say “tea?”", false, true},
		{"fullwidth", true, "お茶にしますか？", false, true},
		{"statement", true, "The kettle is on.", false, false},
		{"tool said so", true, "The kettle is on.", true, true},
		{"off", false, "Shall I set a timer?", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *engine.Config) {
				c.Mode, c.EchoGuard, c.Continue = engine.ModePushToTalk, 500*time.Millisecond, tc.continueOn
			})
			h.connect()
			h.toSpeaking()
			if tc.tool {
				h.e.ExpectAnswer()
			}
			h.playOut(tc.transcript)
			h.expect("played", []string{"connected"}, nil)
			h.advance(600 * time.Millisecond)
			states := h.takeStates()
			if got := slices.Equal(states, []string{"listening"}); got != tc.want {
				t.Fatalf("states after the echo guard %v, want a turn opened: %v", states, tc.want)
			}
			if !tc.want {
				return
			}
			if calls := h.log.Take(); !slices.Contains(calls, "earcon listen-start") || !slices.Contains(calls, "stream on") {
				t.Errorf("calls %q, want the stream on and the listen-start earcon", calls)
			}
			// Nothing said: the listening timeout ends it quietly, and the next reply
			// without a question does not reopen it.
			h.advance(8 * time.Second)
			h.expect("no answer", []string{"connected"}, []string{"stream off", "input_audio_buffer.clear", "earcon listen-end"})
		})
	}
}

// TestPauseListening: stop_listening (pause_listening) turns voice detection off and
// keeps the session; start_listening (resume_listening) turns it on again.
func TestPauseListening(t *testing.T) {
	for _, names := range [][2]engine.Action{
		{engine.ActionStopListening, engine.ActionStartListening},
		{engine.ActionPauseListening, engine.ActionResumeListening},
	} {
		t.Run(string(names[0]), func(t *testing.T) {
			var g *detectGate
			h := newHarness(t, func(c *engine.Config) {
				c.Mode = engine.ModeContinuous
				g = &detectGate{Gate: c.Gate.(*enginetest.Gate)}
				c.Gate = g
			})
			h.connect()
			g.take()
			if err := h.control(names[0]); err != nil {
				t.Fatalf("%s: %v", names[0], err)
			}
			if s := h.e.Status(); !s.Paused || s.State != engine.StateConnected {
				t.Errorf("after %s: %+v, want CONNECTED and paused", names[0], s)
			}
			if got := g.take(); !slices.Equal(got, []bool{false}) {
				t.Errorf("detector switches %v, want off", got)
			}
			h.speech(true)
			h.expect("speech while paused", nil, nil)
			h.speech(false)
			if err := h.control(names[0]); err != nil {
				t.Errorf("%s twice = %v, want nil (idempotent)", names[0], err)
			}
			if err := h.control(names[1]); err != nil {
				t.Fatalf("%s: %v", names[1], err)
			}
			if got := g.take(); !slices.Equal(got, []bool{true}) {
				t.Errorf("detector switches %v, want on", got)
			}
			h.speech(true)
			h.expect("speech after resuming", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on"})
		})
	}
}

// TestRolloverMidReply: a session that ends in the middle of a reply leaves what
// arrived to play out, without waiting for a response.done that will never come; a
// reply asked for and not begun is asked of the new session.
func TestRolloverMidReply(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	h.toSpeaking()
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "sess_2"})
	h.expect("rollover while speaking", nil, nil)
	h.player.Finish()
	h.advance(50 * time.Millisecond)
	h.expect("played out", []string{"connected"}, nil) // the echo guard's tail goes on
	if s := h.e.Status(); s.Played != 1 || s.ReplyTimeouts != 0 || s.SessionID != "sess_2" {
		t.Errorf("status %+v, want 1 played, no reply timeout, session sess_2", s)
	}

	h.button(engine.ButtonPress)
	h.speech(true)
	h.button(engine.ButtonRelease)
	h.expect("turn", []string{"listening", "processing"}, []string{"input_audio_buffer.clear", "echo guard off", "stream on",
		"earcon listen-start", "stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "sess_3"})
	h.expect("rollover while processing", nil, []string{"response.create"})
	h.advance(14 * time.Second)
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_9"})
	h.player.Play()
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item_9"})
	h.expect("reply from the new session", []string{"speaking"}, []string{"echo guard on"})
	if s := h.e.Status(); s.ReplyTimeouts != 0 {
		t.Errorf("reply timeouts %d, want 0: the timer restarted with the new request", s.ReplyTimeouts)
	}
}
