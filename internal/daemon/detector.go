package daemon

import (
	"fmt"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/vad"
)

// voiceDetector is the capture loop's voice detector as the daemon wires it:
// frames to decisions on the capture goroutine, the echo guard from the
// engine's.
type voiceDetector interface {
	Process(frame []int16) bool
	SetEchoGuard(on bool)
	// NoteReference takes the level of what the speaker played (the echo
	// guard's floor follows it); safe from the playback goroutine.
	NoteReference(meanSquare float64)
}

var (
	_ voiceDetector = (*vad.Detector)(nil)
	_ voiceDetector = (*vad.Neural)(nil)
)

// newVoiceDetector builds the detector vad.engine names for frames at the
// capture rate.
func newVoiceDetector(c config.VAD) (voiceDetector, error) {
	classic := vad.Config{SampleRate: pipeline.CaptureRate, Sensitivity: c.Sensitivity}
	switch c.Engine {
	case vad.EngineClassic:
		return vad.New(classic)
	case vad.EngineSilero, "":
		return vad.NewNeural(vad.NeuralConfig{SampleRate: pipeline.CaptureRate, Gate: c.Gate, Classic: classic})
	}
	return nil, fmt.Errorf("vad.engine %q: want silero or classic", c.Engine)
}
