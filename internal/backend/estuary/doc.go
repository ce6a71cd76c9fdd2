// Package estuary is a client of Estuary AI's voice protocol: Socket.IO 4
// over WebSocket, namespace /sdk, one conversation between a player and a
// character (see docs.estuary-ai.com, and the protocol notes the project keeps
// beside its design). It implements backend.Backend.
//
// # Session
//
// The auth object (api_key, character_id, player_id, audio_sample_rate,
// capabilities) travels in the namespace CONNECT packet, the documented way;
// the session is live once session_info arrives. auth_error, a CONNECT_ERROR
// and quota_exceeded are fatal (retried after FatalRetry); session_timeout
// and session_rejected hold reconnecting until the next user turn
// (StartTurn), as the SDKs do not reconnect after them.
//
// # Turns
//
// Continuous mode (the default): start_voice without payload right after
// session_info, audio streams while the engine lets it, the server's
// endpointing ends turns; EndTurn streams Options.TrailingSilence of silence (600 ms) so
// that endpointing sees the end at once: voiced sends only speech. Push-to-talk (Options.PushToTalk):
// StartTurn sends start_voice {turn_mode:"push_to_talk"} with an ack id,
// EndTurn sends stop_voice with an ack id; a missing ack after AckTimeout
// (10 s, as the TypeScript SDK) drops the link, and a voice_error fails the
// pending command (an Error event). Audio appended between StartTurn and
// start_voice's ack is held (up to 3 s, preallocated) and sent when the ack
// comes, then stop_voice if EndTurn came meanwhile: the server is
// python-socketio, which may run a client's event handlers concurrently, so
// audio sent before speech-to-text is open could be lost; holding it keeps
// the pre-roll without that risk.
//
// # Audio
//
// Up: stream_audio {audio: base64 PCM16 LE mono 16 kHz}, framed into a
// reused buffer: no allocation per chunk. Down: bot_voice chunks are found
// and decoded without encoding/json and handed to the AudioSink at the
// chunk's sample_rate, else the session's audio_sample_rate. The default
// audio_sample_rate is 16000, the same as the microphone, because the
// sources disagree on whether the server uses it for STT too (16000 is right
// either way). Empty and is_livekit chunks are ignored; chunks of an
// interrupted message are dropped until a new message_id arrives.
//
// # Events
//
// stt_response maps to SpeechStarted (first result of a turn), Transcript
// (interim and final), then SpeechStopped and Committed (final); SendText
// sends a typed message (text, textOnly false); bot_response to
// ReplyStarted and assistant Transcript (pieces, then the is_final text as
// the whole reply); ReplyDone follows the bot_voice chunk marked is_final
// (servers that never mark one leave the end to the player running dry);
// interrupt to Interrupted.
// PlaybackDone sends audio_playback_complete {message_id}. Control maps
// interrupt to client_interrupt, start_listening/stop_listening to
// start_voice/stop_voice (voice_started/voice_stopped are the acks);
// pause and resume are not in the protocol (backend.ErrUnsupported).
package estuary
