#!/usr/bin/env bash
# make demo: voiced end to end on this machine. voiced-sim plays the Realtime server (it
# speaks your question back: the "parrot" reply), examples/question.wav is the microphone
# and build/demo/reply.wav the speaker. Nothing leaves the machine.
# BACKEND=estuary or BACKEND=selam runs the same against voiced-sim's fake of that
# service (Socket.IO) instead of the Realtime server.
set -euo pipefail
backend=${BACKEND:-realtime}
case "$backend" in
realtime) dialect=ga ;;
estuary | selam) dialect=$backend ;;
*)
  echo "demo: BACKEND=$backend: want realtime, estuary or selam" >&2
  exit 2
  ;;
esac
cd "$(dirname "$0")/.."
out=build/demo
mkdir -p "$out"
rm -f "$out/reply.wav" "$out/sim.jsonl"

bin/voiced-sim --dialect "$dialect" --addr 127.0.0.1:0 --api-key demo-key --record "$out/sim.jsonl" >"$out/sim.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null || true' EXIT
addr=""
for _ in $(seq 100); do
  addr=$(sed -n 's/^listening on \(.*\)$/\1/p' "$out/sim.log" | head -1)
  [ -n "$addr" ] && break
  kill -0 $sim 2>/dev/null || {
    cat "$out/sim.log"
    echo "demo: voiced-sim did not start" >&2
    exit 1
  }
  sleep 0.05
done
[ -n "$addr" ] || {
  echo "demo: voiced-sim did not say where it listens" >&2
  exit 1
}
echo "demo: voiced-sim ($backend) listening on $addr"
case "$backend" in
realtime) where=(--set "realtime.url=ws://$addr/v1/realtime") ;;
estuary) where=(--set realtime.profile=estuary --set "realtime.estuary.server_url=http://$addr" --set realtime.estuary.character_id=demo-character) ;;
selam) where=(--set realtime.profile=selam --set "realtime.selam.server_url=http://$addr") ;;
esac
echo "demo: voiced hears examples/question.wav (\"Hello! What is the weather like in the kitchen today?\")"

start=$(date +%s%N)
bin/voiced run --config examples/demo.yaml \
  "${where[@]}" \
  --set "audio.playback.device=file:$out/reply.wav" \
  --turns 1 --timeout 60s --print-events 2>"$out/voiced.log" ||
  {
    status=$?
    tail -20 "$out/voiced.log"
    echo "demo: voiced failed (exit $status); its log: $out/voiced.log" >&2
    exit $status
  }
end=$(date +%s%N)

echo
ms=$(((end - start) / 1000000))
printf 'demo: done in %d.%d s. The reply is in %s' $((ms / 1000)) $((ms % 1000 / 100)) "$out/reply.wav"
if command -v soxi >/dev/null; then printf ' (%s s)' "$(soxi -D "$out/reply.wav")"; fi
echo
echo "demo: play it with: aplay $out/reply.wav   (or: voiced play --device default $out/reply.wav)"
echo "demo: voiced's log: $out/voiced.log; what it sent the server, one event a line: $out/sim.jsonl"
