// Package vadeval scores a voice detector against labeled recordings, as
// `voiced vad-eval` prints it.
//
// The rule is the one of the project's VAD evaluation set: a 10 ms frame
// grid; frame i is speech in the truth when start_ms/10 <= i < end_ms/10 for
// a labeled segment; the detector's decision for frame i is the one it held
// at the frame's centre (i*10+5 ms); counts are pooled over files. Echo files
// are scored with the echo guard driven by the reference's segments and, when
// echo_ref.wav (what the device played) is beside them, its level; then also
// with the echo canceller (internal/aec) ahead of the detector.
package vadeval
