// Package echosim builds echo scenes for developing and testing the echo
// canceller: a reply played through a simulated loudspeaker and room into a
// microphone, with a user speaking over it.
//
// A Room is a synthetic impulse response (a direct path after a delay, then
// exponentially decaying noise with a given RT60 and direct-to-reverberant
// ratio), optionally preceded by a soft-clipping loudspeaker and followed by a
// clock drift between the playback and capture cards (a slowly growing
// resampling offset, windowed-sinc interpolated). Scene mixes the echo with
// near-end speech and noise and keeps every part apart, so the canceller's
// output can be scored against the truth: ERLE where only the echo is present,
// and the distortion of the user's speech during double talk.
package echosim
