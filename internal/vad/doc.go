// Package vad decides, frame by frame, whether the microphone hears speech,
// and turns those decisions into turns.
//
// # Detector
//
// Detector decides for each 10 ms frame (FrameMs) whether it holds speech,
// from band energies against an adaptive noise floor, spectral flatness and
// pitch, fed to a small fixed network whose weights vadfit fits offline,
// with a short hangover. While the device speaks, the echo guard measures the
// bands against the echo's level, so that the reply does not wake it. Without
// an echo canceller that is the level NoteReference reports (what is played)
// times a coupling learnt from echo-only frames, or without it a follower of
// the microphone and a raised threshold; behind a canceller it is the echo left
// that NoteResidual reports, the guard's only input then.
//
// # Neural
//
// Neural (vad.engine silero, the daemon's default) decides with Silero VAD
// (package silero) on 32 ms steps of 16 kHz audio, resampled from the frames,
// with Silero's hysteresis (on at 0.5, off at 0.35): it hears people and not
// music, TV or running water, where Detector is fooled. A Detector runs beside
// it as the echo guard (while the device speaks both must hear speech) and,
// with vad.gate, as a first stage that lets the network sleep while it hears
// nothing, keeping 256 ms of 16 kHz audio for the network to catch up on when
// it wakes. Its decisions lag the audio by up to one step; vad-eval scores it
// with that step as its stated lookahead (see vadeval.StepHeld).
//
// # Endpointer
//
// Endpointer turns frame decisions into turns: onset after min_speech_ms,
// end after silence_ms.
//
// # Evaluation
//
// The vadeval package scores either detector on labeled recordings and
// measures end of turn (`voiced vad-eval`; test/vad/make-devset.sh builds a
// development set); vadfit fits Detector's weights; vadtest makes synthetic
// test signals.
package vad
