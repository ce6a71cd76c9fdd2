package daemon

import (
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/engine"
)

func TestWakeModeOptions(t *testing.T) {
	for _, tc := range []struct {
		mode string
		only bool
	}{{"vad", false}, {"both", false}, {"word", true}} {
		c := config.Default()
		c.Wake.Mode = tc.mode
		o, err := engineOptions(c)
		if err != nil {
			t.Fatal(err)
		}
		if o.WakeWordOnly != tc.only {
			t.Errorf("wake.mode %s: WakeWordOnly = %v, want %v", tc.mode, o.WakeWordOnly, tc.only)
		}
	}
}

// TestBuildWake: no listener unless the word wakes; with one, the capture loop holds
// enough audio for the word and the engine's delay.
func TestBuildWake(t *testing.T) {
	rt := &runtime{log: slog.New(slog.DiscardHandler)}
	c := config.Default()
	if f, keep, err := rt.buildWake(c); f != nil || keep != 0 || err != nil {
		t.Errorf("wake.mode vad: buildWake = %v, %d, %v; want nothing", f != nil, keep, err)
	}
	c.Wake.Mode = "both"
	c.Wake.Words = []config.WakeWord{{Word: "okay_nabu"}, {Word: "alexa", Cutoff: 0.8}}
	f, keep, err := rt.buildWake(c)
	if f == nil || keep < wakeWordMs || err != nil {
		t.Errorf("wake.mode both: buildWake = %v, %d, %v; want a listener holding at least %d ms", f != nil, keep, err, wakeWordMs)
	}
	want := []wakeWordStatus{{"okay_nabu", "Okay Nabu", "built in", 0.97}, {"alexa", "Alexa", "built in", 0.8}}
	if !slices.Equal(rt.wakeWords, want) {
		t.Errorf("the words listened for %+v, want %+v", rt.wakeWords, want)
	}
	c.Wake.Words = []config.WakeWord{{Word: "/nonexistent/x.tflite"}}
	if _, _, err := rt.buildWake(c); err == nil {
		t.Error("a missing model file: buildWake = nil error")
	}
}

// TestWakeStatus: /v1/status says how the device wakes, which words it listens for
// (name, model file, threshold), how many it heard and the last one.
func TestWakeStatus(t *testing.T) {
	cfg := config.Default()
	d := New(Options{Config: cfg})
	get := func() map[string]any {
		t.Helper()
		b, err := json.Marshal(d.Status().(map[string]any)["wake"])
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if w := get(); w["mode"] != "vad" || w["detections"] != float64(0) || w["last"] != nil || len(w["words"].([]any)) != 0 {
		t.Errorf("wake status with wake.mode vad = %v, want mode vad, no words, nothing heard", w)
	}

	cfg.Wake.Mode = "word"
	cfg.Wake.Words = []config.WakeWord{{Word: "hey_jarvis", Cutoff: 0.9}}
	rt := &runtime{log: slog.New(slog.DiscardHandler)}
	if _, _, err := rt.buildWake(cfg); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.cfg, d.rt = cfg, rt
	d.mu.Unlock()
	at := time.Date(2026, 12, 7, 10, 11, 12, 0, time.UTC)
	for i, score := range []float64{0.93, 0.97} {
		d.onEngineEvent(engine.Event{Kind: engine.EventWakeWord, Word: "hey_jarvis", Score: score, Time: at.Add(time.Duration(i) * time.Minute)})
	}
	d.onEngineEvent(engine.Event{Kind: engine.EventSpeechStarted, Time: at.Add(time.Hour)}) // not a word
	// rt has no engine: the status reads only what is set.
	w := wakeOf(t, d, rt)
	want := `{"mode":"word","words":[{"word":"hey_jarvis","phrase":"Hey Jarvis","model":"built in","threshold":0.9}],"detections":2,"last":{"word":"hey_jarvis","time":"2026-12-07T10:12:12Z","score":0.97}}`
	if w != want {
		t.Errorf("wake status = %s\nwant %s", w, want)
	}
}

// wakeOf is the wake part of the status of d running rt, as JSON.
func wakeOf(t *testing.T, d *Daemon, rt *runtime) string {
	t.Helper()
	d.mu.Lock()
	mode := d.cfg.Wake.Mode
	d.mu.Unlock()
	b, err := json.Marshal(d.wake.status(mode, rt))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
