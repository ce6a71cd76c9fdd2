// Package realtimetest is a local server of the Realtime protocol: the
// engine of voiced-sim and the peer of voiced's protocol tests.
//
// It behaves like the real service where a voice device can tell: session
// created with expires_at, session.update applied and echoed, energy-based
// server VAD (speech_started/stopped, committed), a transcription event,
// responses with output items, content parts, audio and transcript deltas
// and response.done with usage, cancellation by response.cancel and by
// speech when interrupt_response is set, idle_timeout_ms
// (input_audio_buffer.timeout_triggered, then a response), truncation
// checked against the
// audio actually sent, and the real error codes for a commit under 100 ms,
// a cancel with nothing active, a second response while one is active and
// malformed events.
//
// It cannot understand speech: the transcription is a placeholder that
// describes the audio's length, and the reply is the user's own committed
// audio ("parrot"), a tone or a WAV file, with a placeholder transcript.
package realtimetest
