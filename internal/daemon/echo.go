package daemon

import (
	"fmt"

	"github.com/voiced-project/voiced/internal/aec"
	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/vad"
)

// echoParts sets up echo handling for aec.*: in software mode a canceller fed
// by the playback loop (returned, for the capture loop); with it off, the
// playback loop's level for the echo guard, whose floor then follows what is
// played; in hardware mode nothing, the codec having cancelled already.
func echoParts(c *config.Config, det voiceDetector, pc *pipeline.PlaybackConfig) (*aec.Canceller, error) {
	switch {
	case c.AEC.Enabled && c.AEC.Mode == "hardware":
		return nil, nil
	case c.AEC.Enabled:
		a, err := aec.New(aec.Config{
			SampleRate: pipeline.CaptureRate,
			FrameSize:  pipeline.CaptureRate * vad.FrameMs / 1000,
			TailMs:     c.AEC.TailMs,
		})
		if err != nil {
			return nil, fmt.Errorf("echo canceller: %w", err)
		}
		pc.Echo = a
		return a, nil
	default:
		pc.OnLevel = det.NoteReference
		return nil, nil
	}
}

// echoGuardFor is the echo guard the engine drives: the detector's, except
// where a hardware canceller is trusted to have left no echo.
func echoGuardFor(c *config.Config, det voiceDetector) interface{ SetEchoGuard(bool) } {
	if c.AEC.Enabled && c.AEC.Mode == "hardware" {
		return trustedEcho{}
	}
	return det
}

// trustedEcho is the echo guard of a board whose codec cancels the echo: none.
type trustedEcho struct{}

func (trustedEcho) SetEchoGuard(bool) {}
