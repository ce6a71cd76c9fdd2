// The reference client (npm socket.io-client) against selamtest, as the
// guide's browser example connects: namespace in the URL, credentials in the
// query, WebSocket only. Usage: node client.js URL API_KEY
const { io } = require("socket.io-client");
const [url, key] = process.argv.slice(2);
const out = (k, v) => console.log(k + " " + JSON.stringify(v));
const pcm = (ms, amp) => {
  const n = 16 * ms, b = Buffer.alloc(2 * n);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(amp * Math.sin(2 * Math.PI * 300 * i / 16000)), 2 * i);
  return b;
};
const socket = io(url + "/v1/audio/agent", { transports: ["websocket"], reconnection: false, query: { api_key: key, voice: "mekdes" } });
const seen = { transcription: [], response: "", chunks: 0, bytes: 0, acks: [] };
socket.on("connect_error", (e) => { out("CONNECT_ERROR", { message: e.message, data: e.data }); process.exit(0); });
socket.on("error", (e) => out("ERROR", e));
socket.on("connected", (m) => { out("CONNECTED", m); socket.emit("start_session", { voice: "mekdes", language: "am", vad_threshold: 600, interrupt_threshold: 8 }); });
socket.on("session_started", () => {
  const audio = Buffer.concat([pcm(500, 6000), pcm(600, 0)]);
  for (let i = 0; i < audio.length; i += 3200) {
    socket.emit("audio_chunk", { audio: audio.subarray(i, i + 3200).toString("base64"), format: "pcm16", sample_rate: 16000 });
  }
});
socket.on("transcription", (m) => seen.transcription.push(m));
socket.on("response", (m) => { seen.response += m.text; });
socket.on("audio_chunk", (m) => { seen.chunks++; seen.bytes += Buffer.from(m.audio, "base64").length; });
socket.on("audio_end", (m) => { seen.total_chunks = m.total_chunks; socket.emit("control", { action: "interrupt" }); });
socket.on("control_ack", (m) => { seen.acks.push(m); socket.emit("end_session"); });
socket.on("session_ended", (m) => {
  seen.ended = m.status;
  out("DONE", seen);
  setTimeout(() => { socket.disconnect(); process.exit(0); }, 200);
});
setTimeout(() => { out("TIMEOUT", seen); process.exit(1); }, 60000); // a loaded machine starts node slowly
