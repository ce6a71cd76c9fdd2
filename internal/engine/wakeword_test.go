package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
)

func (h *harness) wakeWord(word string) {
	h.e.HandleWakeWord(engine.WakeWord{Word: word, Score: 0.97})
	h.sync()
}

// TestWakeWordTurn: in wake-word-only mode speech alone does nothing; the word opens a
// turn with the earcon, the VAD ends it, and the word is an event.
func TestWakeWordTurn(t *testing.T) {
	for _, mode := range []engine.Mode{engine.ModePushToTalk, engine.ModeContinuous, engine.ModeBoth} {
		t.Run(mode.String(), func(t *testing.T) {
			h := newHarness(t, func(c *engine.Config) { c.Mode, c.WakeWordOnly = mode, true })
			h.connect()
			h.speech(true)
			h.speech(false)
			h.expect("speech without the word", nil, nil)
			h.takeEvents()

			h.wakeWord("okay_nabu")
			evs := h.got
			h.expect("word", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on", "earcon listen-start"})
			ev, ok := findEvent(evs, engine.EventWakeWord)
			if !ok || ev.Word != "okay_nabu" || ev.Score != 0.97 {
				t.Fatalf("events %+v, want a wake_word event for okay_nabu at 0.97", evs)
			}
			js, _ := ev.MarshalJSON()
			if !strings.Contains(string(js), `"type":"wake_word"`) || !strings.Contains(string(js), `"word":"okay_nabu","score":0.970`) {
				t.Errorf("JSON %s, want type wake_word, word okay_nabu, score 0.970", js)
			}
			h.wakeWord("okay_nabu") // said again while listening: nothing new
			h.expect("word again", nil, nil)
			h.speech(true)
			h.advance(time.Second)
			h.speech(false)
			h.expect("end of speech", []string{"processing"},
				[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})
		})
	}
}

// TestWakeWordBargeIn: while the device speaks, its name stops the reply as the button
// does, and listens.
func TestWakeWordBargeIn(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) { c.WakeWordOnly = true })
	h.connect()
	h.toSpeaking()
	h.player.SetHeard(900)
	h.wakeWord("hey_jarvis")
	h.expect("barge-in by name", []string{"listening"}, []string{"player stop", "response.cancel",
		"conversation.item.truncate item_1 0 900", "echo guard off",
		"input_audio_buffer.clear", "stream on", "earcon listen-start"})
	if got := h.e.Status().Interrupts; got != 1 {
		t.Errorf("Interrupts = %d, want 1", got)
	}
}

func TestWakeWordIgnored(t *testing.T) {
	for _, tc := range []struct {
		name  string
		a     engine.Action
		event bool
	}{
		{"muted", engine.ActionMute, false},
		{"paused", engine.ActionPause, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.connect()
			if err := h.control(tc.a); err != nil {
				t.Fatal(err)
			}
			h.log.Take()
			h.takeEvents()
			h.wakeWord("alexa")
			_, ok := findEvent(h.got, engine.EventWakeWord)
			h.expect("word", nil, nil)
			if ok != tc.event {
				t.Errorf("wake_word event published = %v, want %v", ok, tc.event)
			}
		})
	}
}

// TestWakeWordDisconnected: without a session or a way to dial, the word gets the
// error earcon.
func TestWakeWordDisconnected(t *testing.T) {
	h := newHarness(t, nil)
	h.log.Take()
	h.wakeWord("okay_nabu")
	// Without a Connector and without a session, a turn cannot start.
	h.expect("word", nil, []string{"earcon error"})
}
