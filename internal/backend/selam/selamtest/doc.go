// Package selamtest is a fake of SelamGPT's Voice Agent for tests and
// voiced-sim: an http.Handler serving Socket.IO 4 (WebSocket transport) on
// namespace /v1/audio/agent, faithful to the guide.
//
// It checks api_key and voice in the handshake query (and token when
// Options.Token is set) and refuses bad credentials with a CONNECT_ERROR
// whose data names authentication_error, or with an error event and a
// disconnect (Options.AuthFailure). On the namespace join it says
// connected; start_session is validated (voice, language, thresholds) and
// answered with session_started. audio_chunk must say pcm16 at 16000 Hz;
// an energy detector at the session's vad_threshold finds speech, sends an
// interim transcription when it starts and, after Options.SilenceMs of
// quiet, the final one, then the parrot reply: response text, the user's
// audio back as audio_chunk events (raw PCM16 at Options.PCMRate, or the
// MP3 segments of Options.MP3 when set, since Go has no MP3 encoder here),
// and audio_end {total_chunks}. control actions act (interrupt cuts the
// reply, stop_listening and pause stop hearing, start_listening and resume
// start again) and are answered by control_ack, or answered wrong or not at
// all on request. [Server.Inject] sends each error type of the guide,
// [Server.Records] is what clients sent, [Server.Drop] and [Server.SetDown]
// play a restart.
package selamtest
