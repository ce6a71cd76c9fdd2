package engine_test

import (
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/race"
	"github.com/voiced-project/voiced/internal/vad"
)

func TestVoiceEdges(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) { c.Mode = engine.ModeContinuous })
	h.connect()
	ep, err := vad.NewEndpointer(vad.EndpointerConfig{FrameMs: 10, MinSpeechMs: 100, SilenceMs: 300})
	if err != nil {
		t.Fatal(err)
	}
	onVoice := h.e.VoiceEdges(ep, 10*time.Millisecond)
	feed := func(speech bool, frames int) {
		for range frames {
			onVoice(vad.Decision{Speech: speech})
		}
		h.sync()
	}
	feed(false, 50)
	feed(true, 9)
	h.expect("short of min speech", nil, nil)
	feed(true, 1)
	h.expect("onset", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on"})
	feed(true, 90)
	feed(false, 29)
	h.expect("pause shorter than silence", nil, nil)
	feed(false, 1)
	h.expect("end", []string{"processing"},
		[]string{"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end"})

	var lengths []time.Duration
	for _, ev := range h.history {
		if ev.Kind == engine.EventSpeechStarted || ev.Kind == engine.EventSpeechEnded {
			lengths = append(lengths, ev.Length)
		}
	}
	// Onset: 10 frames of speech. End: those, the 90 after, and 30 of silence.
	if len(lengths) != 2 || lengths[0] != 100*time.Millisecond || lengths[1] != 1300*time.Millisecond {
		t.Errorf("speech event lengths = %v, want [100ms 1.3s]", lengths)
	}
}

func TestVoiceEdgesAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	e := idleEngine(t)
	ep, err := vad.NewEndpointer(vad.EndpointerConfig{FrameMs: 10, MinSpeechMs: 20, SilenceMs: 20})
	if err != nil {
		t.Fatal(err)
	}
	onVoice := e.VoiceEdges(ep, 10*time.Millisecond)
	i := 0
	// Alternating runs of two frames: an edge every other call.
	if n := testing.AllocsPerRun(1000, func() {
		onVoice(vad.Decision{Speech: i/2%2 == 0})
		i++
	}); n != 0 {
		t.Errorf("OnVoice callback allocates %v times per frame, want 0", n)
	}
	if e.Status().DroppedInputs == 0 {
		t.Errorf("no edge dropped: the test did not cover a full queue")
	}
}
