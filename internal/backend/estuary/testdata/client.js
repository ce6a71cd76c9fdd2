// The reference client (npm socket.io-client) against estuarytest: a
// push-to-talk turn as the TypeScript SDK does it, then playback complete.
// Usage: node client.js URL API_KEY
const { io } = require("socket.io-client");
const [url, key] = process.argv.slice(2);
const out = (k, v) => console.log(k + " " + JSON.stringify(v));
const tone = (ms) => {
  const n = 16 * ms, b = Buffer.alloc(2 * n);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(6000 * Math.sin(2 * Math.PI * 300 * i / 16000)), 2 * i);
  return b;
};
const socket = io(url + "/sdk", {
  transports: ["websocket"], reconnection: false,
  auth: { api_key: key, character_id: "char-1", player_id: "player-1", audio_sample_rate: 16000 },
});
const stt = [];
let reply = "", samples = 0;
socket.on("connect_error", (e) => { out("CONNECT_ERROR", e.message); process.exit(0); });
socket.on("session_info", async (info) => {
  out("SESSION", info);
  await socket.timeout(5000).emitWithAck("start_voice", { turn_mode: "push_to_talk" });
  const pcm = tone(500);
  for (let i = 0; i < pcm.length; i += 3200) socket.emit("stream_audio", { audio: pcm.subarray(i, i + 3200).toString("base64") });
  await socket.timeout(5000).emitWithAck("stop_voice");
});
socket.on("stt_response", (m) => stt.push(m));
socket.on("bot_response", (m) => { if (m.is_final) reply = m.text; });
socket.on("bot_voice", (m) => {
  samples += Buffer.from(m.audio, "base64").length / 2;
  if (!m.is_final) return;
  socket.emit("audio_playback_complete", { message_id: m.message_id });
  out("DONE", { stt, reply, samples, rate: m.sample_rate, message_id: m.message_id });
  setTimeout(() => { socket.disconnect(); process.exit(0); }, 300);
});
setTimeout(() => { out("TIMEOUT", true); process.exit(1); }, 60000); // a loaded machine starts node slowly
