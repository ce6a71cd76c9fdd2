// Package realtime speaks the Realtime speech-to-speech WebSocket protocol
// (the OpenAI Realtime API, also served by Azure, Yandex AI Studio and local
// servers) for voiced.
//
// # Dialects and profiles
//
// The GA dialect (session.type "realtime", response.output_audio.delta) is
// primary; the beta dialect (OpenAI-Beta: realtime=v1, response.audio.delta)
// is kept for servers that still speak it. A [Profile] (openai, azure,
// yandex, custom) fills the URL, the authentication header, the model, the
// allowed sample rates and the session limit; see [Profile.Defaults].
//
// # Connection
//
// A [Client] owns one WebSocket at a time with exactly one reader and one
// writer goroutine. gorilla/websocket does the handshake (HTTP upgrade,
// proxies, TLS) and writes control frames; data frames are framed by the
// client itself in both directions (RFC 6455 section 5), so neither
// direction allocates per message. The frame reader starts with the bytes
// gorilla read past the 101 response; for wss through a proxy, where those
// cannot be known, gorilla's own reader is used. The writer drains an
// ordered send queue, sends pings and answers the server's; pongs and every
// received message extend the read deadline. [Client.Run] reconnects with a capped,
// jittered exponential backoff. Fatal errors (a bad API key, no quota,
// HTTP 401/403 on upgrade) are reported as [Fatal] events and retried only
// slowly. With Options.OnDemand the client connects only between
// [Client.Dial] and [Client.Hangup] (connection policy on_demand). Before a session expires, and when the server says
// session_expired, the client opens a new session and replays a bounded
// tail of the conversation as items, so the conversation goes on.
//
// # Audio hot path
//
// [Client.AppendAudio] writes input_audio_buffer.append into a reused
// buffer (base64 without encoding/json) and never blocks: when the socket
// falls behind, audio is dropped and counted. Incoming audio deltas are
// recognised and decoded into a reader-owned buffer without encoding/json
// and handed to the [AudioSink] on the reader goroutine. Every other server
// event is decoded into a typed value and delivered on [Client.Events].
//
// # Tools
//
// A [Tools] registry holds built-in device tools and HTTP webhook tools
// ([WebhookTool]); raw server-side tool definitions are passed through in
// the session. Calls run concurrently with a timeout; results go back as
// function_call_output items followed by response.create. A failing tool
// returns an error result to the model.
//
// The protocol reference is https://platform.openai.com/docs/api-reference/realtime.
package realtime
