// Package sio is the Engine.IO v4 / Socket.IO v5 framing ("Socket.IO 4")
// over a WebSocket, for the client and the server side, as the Estuary and
// SelamGPT voice services use it: WebSocket transport only, one packet per
// text frame, JSON payloads, no binary attachments.
//
// # Why our own framing
//
// The maintained Go library (github.com/zishang520/socket.io v3.0.6: its
// client module alone) brings 20 modules voiced does not have (seven of its
// own, quic-go, webtransport-go, brotli, klauspost/compress, msgpack, resty,
// x/net, x/crypto and five more; 96 packages outside the standard library),
// adds 4.9 MB to a stripped GOARM=6 binary (10.8 MB against 5.9 MB for
// gorilla/websocket alone) and costs 41 allocations and 21 kB per emitted
// 4.3 kB audio event where a bare gorilla client writing the same frame to
// the same reader costs 3 and 64 B (one process, 2,000 emits after a warm-up,
// runtime.MemStats), while the subset these services use is a few hundred
// lines on gorilla/websocket that write audio with no allocation at all
// (BenchmarkWriteAudioEvent, TestWriteAllocs).
// Interoperability is proven against the reference implementations instead:
// the tests of the backend packages drive our servers with npm
// socket.io-client and our clients against npm socket.io.
//
// # Wire format
//
// Engine.IO (https://github.com/socketio/engine.io-protocol, v4): the first
// byte of a frame is the packet type: '0' open (the server's handshake JSON
// with sid, pingInterval, pingTimeout, maxPayload), '1' close, '2' ping, '3'
// pong, '4' message, '6' noop. The server pings; the client answers; a side
// that hears nothing for pingInterval+pingTimeout drops the link.
//
// Socket.IO (https://github.com/socketio/socket.io-protocol, v5) rides in
// '4' messages: the next byte is '0' CONNECT, '1' DISCONNECT, '2' EVENT, '3'
// ACK or '4' CONNECT_ERROR, then a namespace other than "/" followed by a
// comma, then an optional decimal ack id, then JSON: an array whose first
// element is the event name for EVENT, the arguments for ACK, an object for
// CONNECT and CONNECT_ERROR. Example: 42/sdk,7["start_voice"].
//
// # Use
//
// [Dial] opens the WebSocket and reads the open packet; [Conn.Connect]
// joins a namespace; [Conn.Read] returns the next Socket.IO packet and answers
// pings itself. [Accept] is the server side, used by the fakes. [AppendEvent]
// and [AppendEventHead] write events into a caller-owned buffer so audio can
// be framed without allocating; [SplitEvent] takes an event apart without
// allocating.
package sio
