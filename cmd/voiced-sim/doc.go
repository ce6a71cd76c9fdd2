// Command voiced-sim is a local server of the Realtime speech-to-speech
// protocol, or of the Socket.IO services Estuary and SelamGPT: the backend of
// `make demo` and the peer of voiced's tests.
//
//	voiced-sim [--addr 127.0.0.1:8089] [--dialect ga|beta|estuary|selam] [--api-key KEY]
//	           [--reply parrot|tone|FILE.wav] [--speed X] [--record FILE]
//	           [--session-max DURATION] [--fail-after N] [--question]
//	           [--tool-call NAME [--tool-args JSON]]
//	           [--refuse STATUS] [--malformed N] [--big-delta BYTES] [--ignore-instructed]
//
// It serves WebSocket upgrades at /v1/realtime and prints
// "listening on HOST:PORT" as its first line on stdout (--addr :0 picks a
// free port).
//
// It behaves like the real service where a device can tell: server VAD
// (energy based) with speech_started/stopped and committed, responses with
// output items, content parts, audio and transcript deltas and
// response.done with usage, cancellation on response.cancel and on speech
// when interrupt_response is set, conversation.item.truncate checked
// against the audio it sent, session expiry (error session_expired, close
// 1001), and the service's error codes for short commits, cancels with
// nothing active and malformed events.
//
// It does not understand speech. The "parrot" reply (the default) speaks
// the user's committed audio back at the session's output rate; "tone"
// plays one second of 440 Hz; a WAV file (16-bit PCM) is played as given.
// The input transcription, sent when the session asks for one, is a
// placeholder describing the audio's length, such as "(1.2 s of audio)",
// and the reply transcript is a placeholder too; --question ends it with
// "Anything else?", as an assistant that expects an answer would.
// --tool-call makes the first response of each session a call of that
// tool with --tool-args; the spoken reply follows its output.
//
// Some flags make it misbehave on purpose, to show what a broken or hostile
// server costs voiced: --fail-after drops each connection after N events
// (1: right after session.created), --refuse answers every upgrade with an
// HTTP status, --malformed sends N messages that are not JSON,
// --big-delta one audio delta of that many bytes after session.created, and
// --ignore-instructed never answers a response.create that carries its own
// instructions (an announcement whose reply never comes).
//
// The engine lives in internal/realtime/realtimetest, so Go tests run the
// same server in-process.
//
// With --dialect estuary or selam it serves the fake of that service
// (internal/backend/estuary/estuarytest, selam/selamtest: Socket.IO over
// WebSocket at /socket.io/, the parrot reply paced in real time, --record of
// every event received), and beside it POST /sim/inject?kind=KIND sends an
// error kind of the protocol, POST /sim/drop closes every connection and
// POST /sim/down?on=1 (or 0) refuses upgrades, to play failures by hand or
// from a test. --speed 0 sends the reply at once instead of in real time; the
// other Realtime-only flags do not apply there.
package main
