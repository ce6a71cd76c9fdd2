package engine_test

import (
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/vad"
)

// The audio path and the VAD are what the engine drives in the daemon.
var (
	_ = engine.Config{
		Gate:    (*pipeline.UplinkGate)(nil),
		Player:  (*pipeline.Playback)(nil),
		Earcons: (*pipeline.Playback)(nil),
		VAD:     (*vad.Detector)(nil),
	}
	// The engine runs the detector only while it is needed when the gate can switch it.
	_ interface{ SetDetecting(on bool) } = (*pipeline.UplinkGate)(nil)
)
