// A small SelamGPT Voice Agent built on the reference server (npm
// socket.io), for the Go client. It prints "PORT n", then "QUERY {...}" and
// "EV {...}" per event.
const http = require("http");
const { Server } = require("socket.io");
const out = (k, v) => console.log(k + " " + JSON.stringify(v));
const srv = http.createServer();
const io = new Server(srv, { transports: ["websocket"], pingInterval: 300, pingTimeout: 2000 });
const nsp = io.of("/v1/audio/agent");
nsp.use((socket, next) => {
  const q = socket.handshake.query;
  out("QUERY", { api_key: q.api_key, voice: q.voice });
  if (q.api_key === "sk-selam-good") return next();
  const e = new Error("Invalid API key");
  e.data = { type: "authentication_error" };
  next(e);
});
const tone = (n, rate) => {
  const b = Buffer.alloc(2 * n);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(5000 * Math.sin(2 * Math.PI * 440 * i / rate)), 2 * i);
  return b.toString("base64");
};
nsp.on("connection", (socket) => {
  socket.emit("connected", { status: "connected", sid: socket.id, voice: socket.handshake.query.voice, message: "Connected" });
  let chunks = 0;
  socket.on("start_session", (m) => { out("EV", { name: "start_session", arg: m }); socket.emit("session_started", { session_id: "sess-node" }); });
  socket.on("audio_chunk", (m) => {
    chunks++;
    if (m.format !== "pcm16" || m.sample_rate !== 16000) socket.emit("error", { type: "validation_error", message: "bad audio format" });
    if (chunks !== 5) return;
    out("EV", { name: "audio_chunk", chunks, bytes: Buffer.from(m.audio, "base64").length });
    socket.emit("transcription", { text: "selam", is_final: true });
    socket.emit("response", { text: "Selam! " });
    socket.emit("response", { text: "How can I help?" });
    socket.emit("audio_chunk", { audio: tone(4800, 24000) });
    socket.emit("audio_chunk", { audio: tone(4800, 24000) });
    socket.emit("audio_end", { total_chunks: 2 });
  });
  socket.on("control", (m) => { out("EV", { name: "control", arg: m }); socket.emit("control_ack", { action: m.action, status: "executed" }); });
  socket.on("end_session", () => { out("EV", { name: "end_session" }); socket.emit("session_ended", { session_id: "sess-node", status: "ended" }); });
});
srv.listen(0, "127.0.0.1", () => out("PORT", srv.address().port));
