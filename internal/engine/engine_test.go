package engine_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
)

func TestPushToTalkTurn(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()

	h.button(engine.ButtonPress)
	h.expect("press", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on", "earcon listen-start"})
	h.speech(true)
	h.advance(2 * time.Second)
	h.speech(false) // a pause while the button is held does not end the turn
	h.expect("speech while held", nil, nil)
	h.button(engine.ButtonRelease)
	h.expect("release", []string{"processing"},
		[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})

	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_1"})
	h.player.Play()
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item_1"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: engine.RoleAssistant, Text: "Hel"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: engine.RoleAssistant, Text: "Hello", Final: true})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioDone, ItemID: "item_1"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_1", Status: "completed"})
	evs := h.takeEvents()
	var kinds []string
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind.String())
	}
	wantKinds := []string{"response_started", "state", "transcript", "transcript", "response_done"}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("events = %q, want %q", kinds, wantKinds)
	}
	if ev, _ := findEvent(evs, engine.EventState); ev.State != engine.StateSpeaking {
		t.Errorf("state after audio = %v, want speaking", ev.State)
	}
	if got := h.log.Take(); !slices.Equal(got, []string{"echo guard on"}) {
		t.Errorf("calls while speaking = %q, want [echo guard on]", got)
	}

	h.advance(200 * time.Millisecond) // still playing what was received
	h.expect("playing out", nil, nil)
	h.player.Finish()
	h.advance(50 * time.Millisecond)
	h.expect("played", []string{"connected"}, nil)
	h.advance(800 * time.Millisecond)
	h.expect("echo tail", nil, []string{"echo guard off"})

	st := h.e.Status()
	if st.State != engine.StateConnected || st.Turns != 1 || st.Replies != 1 || st.Played != 1 || st.SessionID != "sess_1" ||
		st.ResponseActive || !st.ConnectedSince.Equal(epoch) {
		t.Errorf("Status = %+v, want connected since %v, 1 turn, 1 reply played, session sess_1, no active response", st, epoch)
	}
	wantLED := []engine.LEDPattern{engine.LEDOff, engine.LEDConnecting, engine.LEDConnected, engine.LEDListening,
		engine.LEDProcessing, engine.LEDSpeaking, engine.LEDConnected}
	if got := h.led.Patterns(); !slices.Equal(got, wantLED) {
		t.Errorf("LED = %v, want %v", got, wantLED)
	}
}

func TestVADWakeTurn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		turnEnd engine.TurnEnd
		end     func(h *harness)
		calls   []string
	}{
		{"local end", engine.TurnEndLocal, func(h *harness) { h.speech(false) },
			[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"}},
		{"server end", engine.TurnEndServer, func(h *harness) {
			h.speech(false) // the server decides
			h.expect("local end ignored", nil, nil)
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeSpeechStopped, ItemID: "item_u"})
		}, []string{"stream off", "earcon listen-end"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *engine.Config) {
				c.Mode, c.TurnEnd = engine.ModeContinuous, tc.turnEnd
			})
			h.connect()
			h.speech(true)
			// The gate opens on the onset itself, so the pre-roll carries the first syllable.
			h.expect("onset", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on"})
			h.advance(1500 * time.Millisecond)
			tc.end(h)
			h.expect("end of turn", []string{"processing"}, tc.calls)
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_1"})
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_1", Status: "completed"})
			h.expect("reply without audio", []string{"connected"}, nil)
		})
	}
}

func TestVoiceWakeNotAllowed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mode  engine.Mode
		setup func(h *harness)
	}{
		{"push to talk", engine.ModePushToTalk, func(*harness) {}},
		{"paused", engine.ModeContinuous, func(h *harness) {
			if err := h.control(engine.ActionPause); err != nil {
				t.Fatalf("pause: %v", err)
			}
		}},
		{"muted", engine.ModeContinuous, func(h *harness) {
			if err := h.control(engine.ActionMute); err != nil {
				t.Fatalf("mute: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *engine.Config) { c.Mode = tc.mode })
			h.connect()
			tc.setup(h)
			h.log.Take()
			h.speech(true)
			h.speech(false)
			h.expect("onset", nil, nil)
		})
	}
}

func TestFollowUpInPushToTalk(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) {
		c.Mode, c.FollowUp, c.EchoGuard = engine.ModePushToTalk, 3*time.Second, 500*time.Millisecond
	})
	h.connect()
	h.toSpeaking()
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_1", Status: "completed"})
	h.player.Finish()
	h.advance(50 * time.Millisecond)
	h.expect("played", []string{"connected"}, nil)
	h.advance(time.Second)
	h.expect("echo tail", nil, []string{"echo guard off"})
	h.speech(true)
	h.expect("follow-up onset", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on"})
	h.speech(false)
	h.expect("follow-up end", []string{"processing"},
		[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})

	// After the window, push-to-talk needs the button again.
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_2"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_2", Status: "completed"})
	h.expect("text reply", []string{"connected"}, nil)
	h.speech(true)
	h.expect("outside the window", nil, nil)
}

func TestBargeInByButton(t *testing.T) {
	for _, tc := range []struct {
		name     string
		respDone bool // response.done arrived before the press
		heard    int
		calls    []string
	}{
		{"response active", false, 1234, []string{"player stop", "response.cancel",
			"conversation.item.truncate item_1 0 1234", "echo guard off",
			"input_audio_buffer.clear", "stream on", "earcon listen-start"}},
		{"response done", true, 2500, []string{"player stop",
			"conversation.item.truncate item_1 0 2500", "echo guard off",
			"input_audio_buffer.clear", "stream on", "earcon listen-start"}},
		{"nothing heard yet", false, 0, []string{"player stop", "response.cancel", "echo guard off",
			"input_audio_buffer.clear", "stream on", "earcon listen-start"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.connect()
			h.toSpeaking()
			if tc.respDone {
				h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_1", Status: "completed"})
			}
			h.player.SetHeard(tc.heard)
			h.advance(300 * time.Millisecond)
			h.expect("playing", nil, nil)

			h.button(engine.ButtonPress)
			h.expect("barge-in", []string{"listening"}, tc.calls)
			if !h.player.Idle() {
				t.Errorf("player not idle after barge-in")
			}
			if got := h.e.Status().Interrupts; got != 1 {
				t.Errorf("Interrupts = %d, want 1", got)
			}

			// Late audio of the cancelled reply is not played and changes nothing.
			if !tc.respDone {
				h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item_1b"})
				h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_1", Status: "cancelled"})
				h.expect("late audio", nil, []string{"player stop"})
			}
			h.speech(true)
			h.button(engine.ButtonRelease)
			h.expect("new turn", []string{"processing"},
				[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})
		})
	}
}

func TestBargeInByVoice(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) { c.Mode, c.VoiceBargeIn = engine.ModeContinuous, true })
	h.connect()
	h.toSpeaking()
	h.player.SetHeard(700)
	h.speech(true)
	h.expect("voice barge-in", []string{"listening"}, []string{"player stop", "response.cancel",
		"conversation.item.truncate item_1 0 700", "echo guard off", "input_audio_buffer.clear", "stream on"})
	h.speech(false)
	h.expect("end", []string{"processing"},
		[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})
}

func TestEchoGuard(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) {
		c.Mode, c.EchoGuard = engine.ModeContinuous, 800*time.Millisecond
	})
	h.connect()
	h.toSpeaking()

	// The device's own reply reaches the microphone.
	h.speech(true)
	h.speech(false)
	h.expect("onset while speaking", nil, nil)
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_1", Status: "completed"})
	h.player.Finish()
	h.advance(50 * time.Millisecond)
	h.expect("played", []string{"connected"}, nil)

	// Its tail in the room, within echo_guard_ms.
	h.advance(700 * time.Millisecond)
	h.speech(true)
	h.speech(false)
	h.expect("onset in the tail", nil, nil)
	if got := h.e.Status().EchoSuppressed; got != 2 {
		t.Errorf("EchoSuppressed = %d, want 2", got)
	}

	h.advance(100 * time.Millisecond)
	h.expect("tail over", nil, []string{"echo guard off"})
	h.speech(true)
	h.expect("onset after the tail", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on"})
}

func TestListeningTimeout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(h *harness)
	}{
		{"button held", func(h *harness) { h.button(engine.ButtonPress) }},
		{"tap to talk", func(h *harness) {
			h.button(engine.ButtonPress)
			h.advance(100 * time.Millisecond)
			h.button(engine.ButtonRelease)
		}},
		{"listen", func(h *harness) {
			if err := h.control(engine.ActionListen); err != nil {
				h.t.Fatalf("listen: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.connect()
			tc.start(h)
			h.expect("start", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on", "earcon listen-start"})
			h.advance(7500 * time.Millisecond)
			h.expect("before the timeout", nil, nil)
			h.advance(time.Second)
			h.expect("timeout", []string{"connected"}, []string{"stream off", "input_audio_buffer.clear", "earcon listen-end"})
			if got := h.e.Status().ListenTimeouts; got != 1 {
				t.Errorf("ListenTimeouts = %d, want 1", got)
			}
			h.button(engine.ButtonRelease) // a late release changes nothing
			h.expect("release after timeout", nil, nil)
		})
	}
}

func TestSpeechCancelsListeningTimeout(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	h.button(engine.ButtonPress)
	h.advance(time.Second)
	h.speech(true)
	h.advance(20 * time.Second)
	h.expect("long speech", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on", "earcon listen-start"})
	h.advance(10 * time.Second) // 31 s: over the maximum turn length
	h.expect("max turn", []string{"processing"},
		[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})
}

// TestLongHoldWhileSpeaking: a push-to-talk turn held past the long-press time is still a
// turn; only a long hold with nothing said mutes.
func TestLongHoldWhileSpeaking(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	h.button(engine.ButtonPress)
	h.speech(true)
	h.advance(1600 * time.Millisecond)
	h.button(engine.ButtonLongPress)
	h.advance(2 * time.Second)
	h.speech(false)
	h.button(engine.ButtonRelease)
	h.expect("long hold while speaking", []string{"listening", "processing"}, []string{"input_audio_buffer.clear", "stream on",
		"earcon listen-start", "stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})
	if h.e.Status().Muted {
		t.Errorf("muted by holding the button while speaking")
	}
}

func TestMute(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	h.button(engine.ButtonPress)
	h.button(engine.ButtonLongPress)
	h.button(engine.ButtonRelease)
	h.expect("long press", []string{"listening", "connected"}, []string{"input_audio_buffer.clear", "stream on",
		"earcon listen-start", "stream off", "input_audio_buffer.clear", "earcon muted"})
	if st := h.e.Status(); !st.Muted {
		t.Fatalf("Status.Muted = false after a long press")
	}
	if got := h.led.Patterns(); got[len(got)-1] != engine.LEDMuted {
		t.Errorf("LED = %v, want muted last", got)
	}

	h.speech(true)
	h.expect("voice while muted", nil, nil)
	h.button(engine.ButtonPress)
	h.button(engine.ButtonRelease)
	h.expect("press while muted", nil, []string{"earcon muted"})

	var refused *engine.RefusedError
	if err := h.control(engine.ActionMute); !errors.As(err, &refused) || refused.Reason != "already muted" {
		t.Errorf("mute while muted = %v, want refused: already muted", err)
	}
	if err := h.control(engine.ActionListen); !errors.As(err, &refused) || !contains(refused.Reason, "muted") {
		t.Errorf("listen while muted = %v, want refused naming mute", err)
	}
	if err := h.control(engine.ActionUnmute); err != nil {
		t.Fatalf("unmute = %v", err)
	}
	if got := h.led.Patterns(); got[len(got)-1] != engine.LEDConnected {
		t.Errorf("LED = %v, want connected last", got)
	}
	var flags []bool
	for _, ev := range h.history {
		if ev.Kind == engine.EventFlags {
			flags = append(flags, ev.Muted)
		}
	}
	if !slices.Equal(flags, []bool{true, false}) {
		t.Errorf("flag events muted = %v, want [true false]", flags)
	}
	h.button(engine.ButtonPress)
	h.expect("press after unmute", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on", "earcon listen-start"})
}

func TestReconnectMidTurn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
		was   string
		calls []string
	}{
		{"listening", func(h *harness) {
			h.button(engine.ButtonPress)
			h.speech(true)
			h.log.Take()
		}, "listening", []string{"stream off", "player stop"}},
		{"processing", func(h *harness) {
			h.button(engine.ButtonPress)
			h.speech(true)
			h.advance(time.Second)
			h.button(engine.ButtonRelease)
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_1"})
			h.log.Take()
		}, "processing", []string{"stream off", "player stop"}},
		{"speaking", func(h *harness) {
			h.toSpeaking()
		}, "speaking", []string{"stream off", "player stop", "echo guard off"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.connect()
			tc.setup(h)
			h.takeEvents()
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeDisconnected, Err: errors.New("read tcp: connection reset by peer")})
			evs := h.takeEvents()
			errEv, ok := findEvent(evs, engine.EventError)
			if !ok || errEv.Code != "disconnected" || !contains(errEv.Message, tc.was+" turn dropped") ||
				!contains(errEv.Message, "connection reset") {
				t.Errorf("error event = %+v, want code disconnected naming the dropped %s turn and the cause", errEv, tc.was)
			}
			st, _ := findEvent(evs, engine.EventState)
			if st.State != engine.StateDisconnected || st.Prev.String() != tc.was {
				t.Errorf("state event = %v from %v, want disconnected from %s", st.State, st.Prev, tc.was)
			}
			if got := h.log.Take(); !slices.Equal(got, tc.calls) {
				t.Errorf("calls on disconnect = %q, want %q", got, tc.calls)
			}

			// Whatever the old session still delivers changes nothing.
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item_1"})
			h.button(engine.ButtonRelease)
			h.log.Take()
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
			h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "sess_2"})
			evs = h.takeEvents()
			var states []string
			for _, ev := range evs {
				if ev.Kind == engine.EventState {
					states = append(states, ev.State.String()+" ("+ev.Reason+")")
				}
			}
			want := []string{"connecting (connecting)", "connected (reconnected)"}
			if !slices.Equal(states, want) {
				t.Errorf("states = %q, want %q", states, want)
			}
			s := h.e.Status()
			if s.State != engine.StateConnected || s.SessionID != "sess_2" || s.Reconnects != 1 || s.ResponseActive {
				t.Errorf("Status = %+v, want connected to sess_2 after 1 reconnect, no active response", s)
			}
			// No stuck state: the next turn works, and old timers do not fire into it.
			h.button(engine.ButtonPress)
			h.speech(true)
			h.advance(20 * time.Second)
			h.button(engine.ButtonRelease)
			h.expect("next turn", []string{"listening", "processing"}, []string{"input_audio_buffer.clear", "stream on",
				"earcon listen-start", "stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})
		})
	}
}

func TestReplyTimeout(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	h.button(engine.ButtonPress)
	h.speech(true)
	h.advance(time.Second)
	h.button(engine.ButtonRelease)
	h.log.Take()
	h.takeStates()
	h.advance(15 * time.Second)
	h.expect("no reply", []string{"connected"}, []string{"earcon error"})
	// A reply that turns up after all is cancelled, not played.
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_late"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item_late"})
	h.expect("late reply", nil, []string{"response.cancel", "player stop"})
	if got := h.e.Status().ReplyTimeouts; got != 1 {
		t.Errorf("ReplyTimeouts = %d, want 1", got)
	}
}

func TestPlaybackStalled(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	h.toSpeaking()
	h.player.Finish() // the queue ran dry, and no more audio or response.done comes
	h.advance(14 * time.Second)
	h.expect("starved", nil, nil)
	h.advance(1100 * time.Millisecond) // idle since the first check, 50 ms in
	h.expect("gave up", []string{"connected"}, []string{"response.cancel", "earcon error"})
	h.advance(time.Second)
	h.expect("tail", nil, []string{"echo guard off"})
}

func TestServerErrors(t *testing.T) {
	t.Run("commit empty", func(t *testing.T) {
		h := newHarness(t, nil)
		h.connect()
		h.button(engine.ButtonPress)
		h.advance(time.Second)
		h.button(engine.ButtonRelease)
		h.log.Take()
		h.takeStates()
		h.rt(engine.RealtimeEvent{Kind: engine.RealtimeError, Code: "input_audio_buffer_commit_empty",
			Message: "buffer too small"})
		h.expect("commit empty", []string{"connected"}, []string{"earcon error"})
		// The response.create that followed the commit produces a reply to drop.
		h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_x"})
		h.expect("unwanted reply", nil, []string{"response.cancel"})
		if s := h.e.Status(); !contains(s.LastError, "input_audio_buffer_commit_empty") {
			t.Errorf("LastError = %q, want the code", s.LastError)
		}
	})
	t.Run("active response race", func(t *testing.T) {
		h := newHarness(t, nil)
		h.connect()
		h.toSpeaking()
		h.rt(engine.RealtimeEvent{Kind: engine.RealtimeError, Code: "conversation_already_has_active_response"})
		h.expect("race", nil, nil)
		if s := h.e.Status(); s.Errors != 0 || s.State != engine.StateSpeaking {
			t.Errorf("Status = %+v, want no error counted, still speaking", s)
		}
	})
	t.Run("invalid key is fatal", func(t *testing.T) {
		h := newHarness(t, nil)
		h.connect()
		h.button(engine.ButtonPress)
		h.log.Take()
		h.takeStates()
		h.rt(engine.RealtimeEvent{Kind: engine.RealtimeError, Code: "invalid_api_key", Message: "Incorrect API key provided"})
		h.rt(engine.RealtimeEvent{Kind: engine.RealtimeDisconnected, Err: errors.New("closed")})
		h.expect("fatal", []string{"idle"}, []string{"stream off", "player stop"})
		s := h.e.Status()
		if !contains(s.Fatal, "invalid_api_key") || s.Summary() != "idle: "+s.Fatal {
			t.Errorf("Status fatal = %q, summary %q", s.Fatal, s.Summary())
		}
		if got := h.led.Patterns(); got[len(got)-1] != engine.LEDError {
			t.Errorf("LED = %v, want error last", got)
		}
		h.button(engine.ButtonPress)
		h.expect("press", nil, []string{"earcon error"})
	})
	t.Run("commit fails to send", func(t *testing.T) {
		h := newHarness(t, nil)
		h.connect()
		h.conn.Fail("input_audio_buffer.commit", errors.New("realtime: not connected"))
		h.button(engine.ButtonPress)
		h.speech(true)
		h.advance(time.Second)
		h.button(engine.ButtonRelease)
		h.expect("send failure", []string{"listening", "connected"}, []string{"input_audio_buffer.clear", "stream on",
			"earcon listen-start", "stream off", "input_audio_buffer.commit (failed)", "earcon error"})
	})
}

func TestConnectTimeout(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) { c.ConnectTimeout = 10 * time.Second })
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
	h.advance(10 * time.Second)
	h.expect("connect timeout", []string{"connecting", "disconnected"}, nil)
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "s"})
	h.expect("later", []string{"connecting", "connected"}, nil)
}

func TestTapToTalk(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mode   engine.Mode
		states []string
		calls  []string
	}{
		{"both: VAD ends it", engine.ModeBoth, []string{"listening"}, nil},
		{"push to talk: dropped", engine.ModePushToTalk, []string{"listening", "connected"},
			[]string{"stream off", "input_audio_buffer.clear", "earcon listen-end"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *engine.Config) { c.Mode = tc.mode })
			h.connect()
			h.button(engine.ButtonPress)
			h.log.Take()
			h.advance(100 * time.Millisecond)
			h.button(engine.ButtonRelease)
			h.expect("tap", tc.states, tc.calls)
		})
	}
}

func TestHeartbeat(t *testing.T) {
	beats := make(chan struct{}, 100)
	h := newHarness(t, func(c *engine.Config) {
		c.Heartbeat = func() { beats <- struct{}{} }
		c.HeartbeatInterval = time.Second
	})
	h.advance(3500 * time.Millisecond)
	if got := len(beats); got != 4 { // at start, then at 1, 2, 3 s
		t.Errorf("heartbeats after 3.5 s = %d, want 4", got)
	}
}

func TestNewEngineErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    engine.Config
		want []string
	}{
		{"no deps", engine.Config{}, []string{"no Conn", "no Gate", "no Player"}},
		{"bad values", engine.Config{Options: engine.Options{Mode: 7, ListenTimeout: -time.Second}}, []string{"field Mode: 7", "field ListenTimeout: -1s is negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := engine.New(tc.c)
			if err == nil {
				t.Fatalf("NewEngine(%+v) = nil error", tc.c)
			}
			for _, w := range tc.want {
				if !contains(err.Error(), w) {
					t.Errorf("NewEngine error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestServerEndGrace(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) {
		c.Mode, c.TurnEnd, c.ServerEndGrace = engine.ModeContinuous, engine.TurnEndServer, 4*time.Second
	})
	h.connect()
	h.speech(true)
	h.speech(false)
	h.advance(2 * time.Second)
	h.speech(true) // speaking again restarts the wait
	h.speech(false)
	h.advance(3 * time.Second)
	h.expect("server still deciding", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on"})
	h.advance(time.Second)
	h.expect("no server decision", []string{"processing"},
		[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})
}

func TestReconfigure(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) { c.Mode = engine.ModePushToTalk })
	h.connect()
	h.speech(true)
	h.expect("push to talk", nil, nil)

	ctx := context.Background()
	o := baseConfig().Options
	o.Mode = engine.ModeContinuous
	if err := h.e.Reconfigure(ctx, o); err != nil {
		t.Fatalf("Reconfigure: %v", err)
	}
	h.speech(true)
	h.expect("continuous", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on"})
	if s := h.e.Status(); s.Mode != engine.ModeContinuous {
		t.Errorf("Status.Mode = %v, want continuous", s.Mode)
	}

	o.EchoGuard = -time.Second
	err := h.e.Reconfigure(ctx, o)
	if err == nil || !contains(err.Error(), "field EchoGuard") {
		t.Errorf("Reconfigure(negative EchoGuard) = %v, want an error naming the field", err)
	}
}

func TestLateReplyWhileListening(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	h.button(engine.ButtonPress)
	h.log.Take()
	// A reply to an earlier request turns up while the user talks: it is cancelled so
	// that it cannot take the place of this turn's reply.
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_old"})
	h.expect("late reply", []string{"listening"}, []string{"response.cancel"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item_old"})
	h.expect("its audio", nil, []string{"player stop"})
}

func TestSpeechEventTiming(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) { c.Mode = engine.ModeContinuous })
	h.connect()
	onset := epoch.Add(-120 * time.Millisecond)
	h.e.HandleSpeech(engine.SpeechEdge{Start: true, At: onset, Length: 120 * time.Millisecond})
	h.sync()
	ev, ok := findEvent(h.takeEvents(), engine.EventSpeechStarted)
	if !ok || !ev.Time.Equal(onset) || ev.Length != 120*time.Millisecond || ev.Source != "local" {
		t.Errorf("speech_started = %+v, want local at %v with 120ms", ev, onset)
	}
}

// TestServerEndsHeldTurn: with a service that has no commit (ServerEndsHeld), its end of
// the turn and its reply are taken while the button is still held, not cancelled.
func TestServerEndsHeldTurn(t *testing.T) {
	for _, ends := range []bool{false, true} {
		h := newHarness(t, func(c *engine.Config) { c.TurnEnd, c.ServerEndsHeld = engine.TurnEndServer, ends })
		h.connect()
		h.button(engine.ButtonPress)
		h.expect("press", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on", "earcon listen-start"})
		h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_1"})
		if ends {
			h.expect("reply while held", []string{"processing"}, []string{"stream off", "earcon listen-end"})
		} else {
			h.expect("reply while held", nil, []string{"response.cancel"})
		}
	}
}
