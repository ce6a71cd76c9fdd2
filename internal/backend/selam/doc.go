// Package selam is a client of SelamGPT's Voice Agent: Socket.IO 4 over
// WebSocket, namespace /v1/audio/agent (platform.selamgpt.com, guide
// "Voice Agent"; the project's protocol notes record what is known and what
// is not). It implements backend.Backend.
//
// # Session
//
// Credentials go in the handshake query (api_key, voice, and token when a
// JWT is configured: the two versions of the guide disagree on it). After
// the namespace join the server says connected; the client sends
// start_session {voice, language, instructions, vad_threshold,
// interrupt_threshold} and the session is live at session_started. Languages
// are en, am, so, ti and om; an empty language lets the service detect it.
// end_session goes out when Run ends, and the client waits up to a second
// for session_ended before it leaves (a server on the reference socket.io
// drops an event that arrives together with the DISCONNECT).
//
// # Turns
//
// The service finds turns with its own voice detection; there is no commit
// event. StartTurn sends control interrupt when a reply is under way (the
// guide's push-to-talk example does so on every press); EndTurn streams
// Options.TrailingSilence of silence (default 600 ms) so the service's
// detector sees the end of speech at once instead of waiting for more audio:
// a choice, documented because the guide only says the server finds the end
// "by VAD or end of stream".
//
// # Audio
//
// Up: audio_chunk {audio: base64 PCM16 LE mono, format "pcm16", sample_rate
// 16000}, framed into reused buffers without allocating. Down: no format is
// documented and the guide's example plays each chunk as an MP3 file, so
// the first chunk of a connection is sniffed (and the answer kept, since raw
// PCM can begin with bytes that look like an MPEG frame sync): ID3 or an MPEG frame sync is decoded as MP3 with
// github.com/hajimehoshi/go-mp3 (pure Go, no cgo, no dependencies, the
// decoder of the Ebitengine audio stack; 0.2 MB of a stripped GOARM=6
// binary; one decoder per chunk, so this path allocates; its panics on
// damaged frames are recovered and oversized ID3 tags refused first);
// RIFF/WAVE is read as PCM16 WAV; Ogg is reported as an audio error (no
// pure-Go Opus decoder is allowed here); anything else is raw PCM16 LE mono
// at the chunk's sample_rate field or Options.PCMRate (default 24000, the
// rate of the OpenAI-compatible TTS that SelamGPT's REST API follows), on a
// path that does not allocate. The sink gets each chunk's own rate.
//
// # Replies and interruption
//
// transcription maps to SpeechStarted (first of a turn), Transcript, then
// SpeechStopped and Committed (final). No ids travel on the wire, so the client numbers replies (selam-1, ...):
// a reply starts with the first response or audio_chunk after the user's
// turn and ends at audio_end (ReplyDone). After Interrupt, audio is dropped
// until the next transcription or response, since chunks already in flight
// cannot be told apart.
//
// # Control and errors
//
// Control sends control {action} for interrupt, start_listening,
// stop_listening, pause and resume and expects control_ack {action, status
// "executed"} within Options.AckTimeout (default 5 s); a missing or failed
// ack is an Error event carrying an *AckError. The error event's payload is
// read flat ({type, message}), nested ({error: {type, message, code}}) or
// as a bare string; its type becomes an *Error whose Kind follows the
// guide's taxonomy: authentication_error and authorization_error are fatal,
// session_error makes a new session, validation_error and audio_error are
// reported and the session goes on.
package selam
