package pipeline

// The audio path and the VAD are what the engine drives in the daemon.
var (
	_ player        = (*Playback)(nil)
	_ earconPlayer  = (*Playback)(nil)
	_ captureGate   = (*UplinkGate)(nil)
	_ voiceDetector = (*UplinkGate)(nil)
	_ echoGuard     = (*VAD)(nil)
)
