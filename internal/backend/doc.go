// Package backend is the interface of a voice service, whatever its
// protocol: [Backend]. The Socket.IO services implement it, in subpackages:
//
//   - estuary: Estuary AI characters (namespace /sdk, stream_audio up,
//     stt_response, bot_response and bot_voice down, audio_playback_complete);
//   - selam: SelamGPT's Voice Agent (namespace /v1/audio/agent, start_session,
//     audio_chunk both ways, control actions with control_ack, a named error
//     taxonomy).
//
// Their fakes (estuary/estuarytest, selam/selamtest) serve the same protocol
// from an http.Handler, and internal/backend/sio frames Engine.IO v4 /
// Socket.IO v5 for all of them. What the clients share beside the framing
// (events, link state, dispatch, uplink audio) is internal/backend/siolink;
// what the fakes share is internal/backend/sio/siotest; backendtest is the
// harness of their tests.
//
// # How the Realtime client maps onto Backend
//
// The engine keeps one connection interface, the Realtime client's verbs,
// which realtime.Client satisfies directly (nothing it does is lost:
// truncation, rollover, tools, on_demand); internal/daemon adapts a Backend
// to those verbs (service.go), the table below read from right to left. The
// engine uses realtime.Client through CommitAudio, ClearAudio,
// CreateResponse, CancelResponse, TruncateItem, Dial/Hangup (on_demand), the
// uplink's AppendAudioAt, the AudioSink callback and the Events channel that
// internal/daemon translates into engine.RealtimeEvent. Against Backend:
//
//	StartTurn          ClearAudio
//	AppendAudio        AppendAudioAt
//	EndTurn            CommitAudio + CreateResponse
//	Interrupt(id, ms)  CancelResponse + TruncateItem(id, 0, ms)
//	PlaybackDone       nothing (the protocol has no such event)
//	Control            nothing: the engine does the actions itself
//	Events             the realtime events, as Event kinds
//
// Events against engine.RealtimeKind: Connecting, Connected, Disconnected,
// Fatal, SpeechStarted, SpeechStopped and Committed are the same; Transcript
// is RealtimeTranscript; ReplyStarted is RealtimeResponseCreated; ReplyDone is
// RealtimeAudioDone followed by RealtimeResponseDone; Error is RealtimeError,
// with the kind in the error (KindOf) instead of a code. Interrupted (the
// service cut a reply) and ControlAck are new: the Realtime protocol reports
// the first as a cancelled response.done and has no second.
//
// # Audio
//
// Up: mono PCM16 at [Backend.InputRate] (24 kHz for Realtime, 16 kHz for both
// Socket.IO services); the uplink resamples to it. Down: [AudioSink] gets
// mono PCM16 and its rate per call (Estuary: the session's audio_sample_rate
// or the chunk's sample_rate; Selam: the MP3 frame's rate, or the configured
// rate for raw PCM), so playback resamples from whatever arrives.
package backend
