// Package vad decides, frame by frame, whether the microphone hears speech,
// and turns those decisions into turns.
//
// # Detector
//
// Detector decides for each 10 ms frame (FrameMs) whether it holds speech,
// from band energies against an adaptive noise floor, spectral flatness and
// pitch, fed to a small fixed network whose weights vadfit fits offline,
// with a short hangover. While the device speaks, the echo guard measures the
// bands against the echo's level, so that the reply does not wake it: the level
// NoteReference reports (what is played, or the echo canceller's estimate) times
// a coupling learnt from echo-only frames, or without it a follower of the
// microphone and a raised threshold.
//
// # Endpointer
//
// Endpointer turns frame decisions into turns: onset after min_speech_ms,
// end after silence_ms.
//
// # Evaluation
//
// The vadeval package scores the detector on labeled recordings
// (`voiced vad-eval`); vadfit fits its weights; vadtest makes synthetic test
// signals.
package vad
