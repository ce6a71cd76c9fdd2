package daemon

import (
	"log/slog"
	"testing"

	"github.com/voiced-project/voiced/internal/config"
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
	c.Wake.Words = []config.WakeWord{{Word: "/nonexistent/x.tflite"}}
	if _, _, err := rt.buildWake(c); err == nil {
		t.Error("a missing model file: buildWake = nil error")
	}
}
