// A small Estuary built on the reference server (npm socket.io), for the Go
// client. It prints "PORT n", then "AUTH {...}" and "EV {...}" per event.
const http = require("http");
const { Server } = require("socket.io");
const out = (k, v) => console.log(k + " " + JSON.stringify(v));
const srv = http.createServer();
// A short ping interval makes the client's pongs matter within the test.
const io = new Server(srv, { transports: ["websocket"], pingInterval: 300, pingTimeout: 2000 });
const nsp = io.of("/sdk");
nsp.use((socket, next) => {
  const a = socket.handshake.auth || {};
  out("AUTH", a);
  next(a.api_key === "est_good" ? undefined : new Error("Invalid API key"));
});
const tone = (n, rate) => {
  const b = Buffer.alloc(2 * n);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(5000 * Math.sin(2 * Math.PI * 440 * i / rate)), 2 * i);
  return b.toString("base64");
};
nsp.on("connection", (socket) => {
  const a = socket.handshake.auth;
  socket.emit("session_info", { session_id: "sess-node", conversation_id: "conv-1", character_id: a.character_id, player_id: a.player_id });
  let bytes = 0;
  socket.on("start_voice", (arg, ack) => {
    if (typeof arg === "function") { ack = arg; arg = null; }
    out("EV", { name: "start_voice", arg, acked: !!ack });
    socket.emit("voice_started");
    if (ack) ack();
  });
  socket.on("stream_audio", (m) => { bytes += Buffer.from(m.audio, "base64").length; });
  socket.on("stop_voice", (ack) => {
    out("EV", { name: "stop_voice", bytes, acked: typeof ack === "function" });
    socket.emit("voice_stopped");
    if (typeof ack === "function") ack();
    socket.emit("stt_response", { text: "hel", is_final: false });
    socket.emit("stt_response", { text: "hello there", is_final: true, confidence: 0.95 });
    socket.emit("bot_response", { text: "Hi", is_final: false, partial: true, message_id: "m1", chunk_index: 0 });
    socket.emit("bot_response", { text: "Hi, friend", is_final: true, partial: false, message_id: "m1", chunk_index: 1 });
    socket.emit("bot_voice", { audio: tone(4800, 24000), message_id: "m1", chunk_index: 0, is_final: false, sample_rate: 24000 });
    socket.emit("bot_voice", { audio: tone(4800, 24000), message_id: "m1", chunk_index: 1, is_final: true, sample_rate: 24000 });
  });
  for (const name of ["audio_playback_complete", "client_interrupt"]) {
    socket.on(name, (arg) => out("EV", { name, arg }));
  }
});
srv.listen(0, "127.0.0.1", () => out("PORT", srv.address().port));
