package daemon

import (
	"testing"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/vad"
)

func TestEchoParts(t *testing.T) {
	det, err := vad.New(vad.Config{SampleRate: pipeline.CaptureRate})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                      string
		aec                       config.AEC
		canceller, level, trusted bool
	}{
		{"software", config.AEC{Enabled: true, Mode: "software", TailMs: 256}, true, false, false},
		{"hardware", config.AEC{Enabled: true, Mode: "hardware", TailMs: 128}, false, false, true},
		{"off", config.AEC{Enabled: false, Mode: "software", TailMs: 128}, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			c.AEC = tc.aec
			var pc pipeline.PlaybackConfig
			a, err := echoParts(&c, det, &pc)
			if err != nil {
				t.Fatal(err)
			}
			if got := a != nil && pc.Echo != nil; got != tc.canceller {
				t.Errorf("canceller = %v, want %v", got, tc.canceller)
			}
			if a != nil && a.Config().TailMs != tc.aec.TailMs {
				t.Errorf("tail = %d ms, want %d", a.Config().TailMs, tc.aec.TailMs)
			}
			if got := pc.OnLevel != nil; got != tc.level {
				t.Errorf("reference level to the guard = %v, want %v", got, tc.level)
			}
			_, trusted := echoGuardFor(&c, det).(trustedEcho)
			if trusted != tc.trusted {
				t.Errorf("guard trusted = %v, want %v", trusted, tc.trusted)
			}
		})
	}
}
