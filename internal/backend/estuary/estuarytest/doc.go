// Package estuarytest is a fake of Estuary AI's voice service for tests and
// voiced-sim: an http.Handler serving Socket.IO 4 (WebSocket transport) on
// namespace /sdk, faithful to what the protocol notes record.
//
// It checks the auth object of the namespace CONNECT (or of a later
// authenticate event) and refuses a wrong key with CONNECT_ERROR, or with
// auth_error and a disconnect (Options.AuthFailure). It answers
// start_voice/stop_voice with voice_started/voice_stopped and their acks,
// hears stream_audio (PCM16 16 kHz) with an energy detector, sends an interim
// stt_response when speech starts and the final one when the turn ends
// (stop_voice in push-to-talk, Options.SilenceMs of quiet in continuous
// mode), then the parrot reply: bot_response pieces and a final text, and
// the user's own audio back as bot_voice chunks at the session's
// audio_sample_rate, the last marked is_final. client_interrupt stops a
// reply. [Server.Inject] sends each error kind of the protocol on demand,
// [Server.Records] is what the clients sent, [Server.Drop] and
// [Server.SetDown] play a restart.
package estuarytest
