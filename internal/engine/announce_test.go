package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
)

func (h *harness) announce(a engine.Announcement) error {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := h.e.Announce(ctx, a)
	h.sync()
	return err
}

// textAnnouncement asks the server for the reply the way the daemon does; the fake
// logs "announce NAME".
func (h *harness) textAnnouncement(name string) engine.Announcement {
	return engine.Announcement{Name: name, Send: func() error { h.log.Add("announce %s", name); return nil }}
}

// wavAnnouncement queues its audio on the fake player.
func (h *harness) wavAnnouncement(name string) engine.Announcement {
	return engine.Announcement{Name: name, LocalItem: engine.LocalItemPrefix + name,
		Send: func() error { h.log.Add("write %s", name); h.player.Play(); return nil }}
}

// TestAnnounceNoReply: the reply to a text announcement never comes. The engine
// gives it up after ReplyTimeout, says so (error event naming it, earcon, count), is
// idle again so the next announcement starts, and cancels the reply if it turns up.
func TestAnnounceNoReply(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	if err := h.announce(h.textAnnouncement("announcement a1")); err != nil {
		t.Fatalf("Announce = %v", err)
	}
	h.expect("asked", []string{"processing"}, []string{"announce announcement a1"})
	if p := h.led.Patterns(); len(p) == 0 || p[len(p)-1] != engine.LEDProcessing {
		t.Errorf("LED patterns %v while waiting for the announcement, want processing last", p)
	}
	h.advance(15*time.Second - time.Millisecond)
	h.expect("waiting", nil, nil)
	h.advance(time.Millisecond)
	evs := h.history
	h.expect("gave up", []string{"connected"}, []string{"earcon error"})
	ev, ok := findEvent(evs, engine.EventError)
	if !ok || ev.Code != "reply_timeout" || ev.Message != "announcement a1: no reply within 15s" {
		t.Errorf("error event = %+v (found %v), want reply_timeout \"announcement a1: no reply within 15s\"", ev, ok)
	}
	st := h.e.Status()
	if st.ReplyTimeouts != 1 || st.State != engine.StateConnected || st.LastError != "reply_timeout: announcement a1: no reply within 15s" {
		t.Errorf("status: ReplyTimeouts %d, state %v, last error %q; want 1, connected, the announcement's timeout", st.ReplyTimeouts, st.State, st.LastError)
	}

	// The reply turns up late: cancelled, not played.
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_late"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item_late"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_late", Status: "cancelled"})
	h.expect("late reply", nil, []string{"response.cancel", "player stop"})

	// The next one starts and plays.
	if err := h.announce(h.textAnnouncement("announcement a2")); err != nil {
		t.Fatalf("second Announce = %v", err)
	}
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_2"})
	h.player.Play()
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item_2"})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "resp_2", Status: "completed"})
	h.player.Finish()
	h.advance(100 * time.Millisecond)
	h.expect("second", []string{"processing", "speaking", "connected"}, []string{"announce announcement a2", "echo guard on"})
	if got := h.e.Status().Played; got != 1 {
		t.Errorf("Played = %d, want 1", got)
	}
}

// TestAnnounceInterruptedByButton: a press stops an announcement as it stops a reply,
// and opens a turn; the WAV played locally is not truncated on the server.
func TestAnnounceInterruptedByButton(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wav   bool
		calls []string // at the press
	}{
		{"text", false, []string{"player stop", "response.cancel", "conversation.item.truncate item_1 0 700",
			"echo guard off", "input_audio_buffer.clear", "stream on", "earcon listen-start"}},
		{"wav", true, []string{"player stop", "echo guard off", "input_audio_buffer.clear", "stream on", "earcon listen-start"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.connect()
			if tc.wav {
				if err := h.announce(h.wavAnnouncement("bell")); err != nil {
					t.Fatalf("Announce = %v", err)
				}
				h.expect("wav", []string{"speaking"}, []string{"write bell", "echo guard on"})
			} else {
				if err := h.announce(h.textAnnouncement("tea")); err != nil {
					t.Fatalf("Announce = %v", err)
				}
				h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_1"})
				h.player.Play()
				h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item_1"})
				h.expect("text", []string{"processing", "speaking"}, []string{"announce tea", "echo guard on"})
			}
			h.player.SetHeard(700)
			h.advance(time.Second) // plays on, past any timeout of a reply
			h.expect("playing", nil, nil)
			h.button(engine.ButtonPress)
			h.expect("press", []string{"listening"}, tc.calls)
			if got := h.e.Status().Interrupts; got != 1 {
				t.Errorf("Interrupts = %d, want 1", got)
			}
			h.speech(true)
			h.button(engine.ButtonRelease)
			h.expect("turn", []string{"processing"}, []string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})
		})
	}
}

// TestAnnounceWAVListen: a WAV plays to its end without a reply from the server, and
// with Listen the microphone opens after it, once the echo guard is over.
func TestAnnounceWAVListen(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) { c.Mode = engine.ModePushToTalk })
	h.connect()
	a := h.wavAnnouncement("bell")
	a.Listen = true
	if err := h.announce(a); err != nil {
		t.Fatalf("Announce = %v", err)
	}
	h.advance(2 * time.Second)
	h.expect("playing", []string{"speaking"}, []string{"write bell", "echo guard on"})
	h.player.Finish()
	h.advance(50 * time.Millisecond)
	h.expect("played", []string{"connected"}, nil)
	h.advance(800 * time.Millisecond)
	h.expect("listen", []string{"listening"}, []string{"echo guard off", "input_audio_buffer.clear", "stream on", "earcon listen-start"})
}

// TestAnnounceRefused: an announcement waits for an idle conversation; Send is not
// called, and the engine carries on.
func TestAnnounceRefused(t *testing.T) {
	h := newHarness(t, nil)
	err := h.announce(h.textAnnouncement("early"))
	var refused *engine.RefusedError
	if !errors.As(err, &refused) || refused.State != engine.StateIdle {
		t.Errorf("Announce while idle = %v, want a *RefusedError in IDLE", err)
	}
	h.connect()
	h.button(engine.ButtonPress)
	h.log.Take()
	h.takeStates()
	if err := h.announce(h.textAnnouncement("busy")); !errors.As(err, &refused) || refused.State != engine.StateListening {
		t.Errorf("Announce while listening = %v, want a *RefusedError in LISTENING", err)
	}
	h.expect("refused", nil, nil)
}

// TestAnnounceSendFails: Send's error comes back, and the engine stays idle.
func TestAnnounceSendFails(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	boom := errors.New("not connected")
	err := h.announce(engine.Announcement{Name: "x", Send: func() error { return boom }})
	if !errors.Is(err, boom) {
		t.Errorf("Announce = %v, want %v", err, boom)
	}
	h.expect("failed", nil, nil)
	if st := h.e.Status(); st.State != engine.StateConnected || st.Errors != 1 {
		t.Errorf("state %v, %d errors; want connected, 1", st.State, st.Errors)
	}
	if err := h.e.Announce(context.Background(), engine.Announcement{Name: "y"}); err == nil {
		t.Error("Announce without Send = nil, want an error")
	}
	if err := h.e.Announce(context.Background(), engine.Announcement{Name: "z", LocalItem: "item_1", Send: func() error { return nil }}); err == nil {
		t.Errorf("Announce of local item %q = nil, want an error (no %q prefix)", "item_1", engine.LocalItemPrefix)
	}
}

// TestAnnounceRollover: a session that ends before the announcement's reply began
// is asked for it again as it was, not for a plain reply.
func TestAnnounceRollover(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	if err := h.announce(h.textAnnouncement("tea")); err != nil {
		t.Fatalf("Announce = %v", err)
	}
	h.advance(10 * time.Second)
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "sess_2"})
	h.expect("rollover", []string{"processing"}, []string{"announce tea", "announce tea"})
	// The reply timeout starts again for the new session.
	h.advance(14 * time.Second)
	h.expect("waiting", nil, nil)
	h.advance(time.Second)
	h.expect("gave up", []string{"connected"}, []string{"earcon error"})
}
