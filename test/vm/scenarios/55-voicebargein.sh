# shellcheck shell=dash
# Barge-in by voice over the device's own echo: vmprobe room plays the room between
# voiced's speaker and its microphone on the loopback card (what voiced plays comes back
# into the microphone 30 ms later with 100 ms of reverberation, 3 dB below, through a
# loudspeaker driven 3 dB into soft clipping) and speaks for the user on cue. The canceller
# is on (the default) and barge_in.voice is on. Ten replies with nobody speaking over them
# must each play to their end (the echo alone never interrupts); then the user speaks over
# an eleventh at the reply's level (0 dB against its echo at the microphone): voiced must
# stop speaking within 400 ms of the user's onset, measured on what it played against the
# time the user's first sample reached it, and the server must be told: response.cancel
# (the reply, paced in real time, is still being sent) and conversation.item.truncate.
# Broken on purpose (VOICED_VM_BREAK=voicebargein): the user says nothing over the last
# reply: it plays on and the checks must fail.
# vm-timeout: 300
# shellcheck source=../guest/vm.sh
. /lib/vm/vm.sh
# shellcheck source=daemon/lib.sh
. /scenarios/daemon/lib.sh
vm_need_payload what_time.wav
# Issue 27 is open on this: the canceller loses its alignment with the echo after the
# first reply, and the scenario fails on both guests. It runs when named
# (VOICED_VM_ONLY=voicebargein), to work on the fix.
grep -q 'voiced.vm_only=[^ ]*voicebargein' /proc/cmdline ||
  vm_skip "fails today: the canceller loses its alignment with the echo (issue 27); VOICED_VM_ONLY=voicebargein runs it"

REPLIES=10
user=$P/what_time.wav
vm_break voicebargein && user=

dm_setup
dm_sim 127.0.0.1:0 --reply "$P/question.wav"
# The room first, so that the speaker's other side is read from voiced's first write.
"$P/vmprobe" room --cue "$VM_OUT/cue" --log "$VM_OUT/say.log" --record "$VM_OUT/reply.wav" --seconds 280 2>>"$VM_OUT/room.log" &
ROOM_PID=$!
sleep 0.5
dm_voiced continuous --set barge_in.voice=true
dm_watch --no-led
sleep 1

# vb_turn: ask (what_time.wav at its own level) and wait until the reply speaks.
vb_turn() {
  FROM=$(($(wc -l <"$VM_OUT/events.log") + 1))
  echo "$P/what_time.wav" >"$VM_OUT/cue.tmp" && mv "$VM_OUT/cue.tmp" "$VM_OUT/cue"
  dm_wait_event '"state":"speaking"' 40
}

# (dm_wait_event counts in i: the loop counts in n.)
played=0
n=0
while [ "$n" -lt "$REPLIES" ]; do
  n=$((n + 1))
  vb_turn || break
  dm_wait_event '"prev":"speaking"' 40 || break
  if tail -n "+$FROM" "$VM_OUT/events.log" | grep -q '"reason":"reply played"'; then
    played=$((played + 1))
  else
    echo "reply $n did not play to its end: $(tail -n "+$FROM" "$VM_OUT/events.log" | grep '"prev":"speaking"' | head -1)"
    break
  fi
  sleep 1.5 # past the echo guard's hold after a reply
done
echo "$played of $REPLIES replies with their echo only played to their end"
cancels=$(grep -c '"type":"response.cancel"' "$VM_OUT/sim.jsonl")

# The user speaks over the next reply, 1.5 s into it; what counts is what follows.
vb_turn
sleep 1.5
: >"$VM_OUT/barge.log"
barge=$(($(wc -l <"$VM_OUT/events.log") + 1))
cancels0=$(grep -c '"type":"response.cancel"' "$VM_OUT/sim.jsonl")
truncates0=$(grep -c '"type":"conversation.item.truncate"' "$VM_OUT/sim.jsonl")
if [ -n "$user" ]; then
  echo "$user 0" >"$VM_OUT/cue.tmp" && mv "$VM_OUT/cue.tmp" "$VM_OUT/cue"
  sleep 0.3
  grep "say $user " "$VM_OUT/say.log" | tail -1 >"$VM_OUT/barge.log"
fi
FROM=$barge dm_wait_event '"reason":"voice barge-in"' 10
sleep 2
dm_unwatch
kill "$ROOM_PID" 2>/dev/null
i=0
while kill -0 "$ROOM_PID" 2>/dev/null && [ "$i" -lt 50 ]; do
  i=$((i + 1))
  sleep 0.1
done
kill -9 "$ROOM_PID" 2>/dev/null
dm_logs
echo "--- room:"
cat "$VM_OUT/room.log" "$VM_OUT/say.log" 2>/dev/null

# vb_after PATTERN: events.log has a line matching PATTERN since the user spoke.
# shellcheck disable=SC2317 # called through vm_check
vb_after() { tail -n "+$barge" "$VM_OUT/events.log" | grep -q "$1"; }
# vb_more TYPE COUNT: voiced-sim received more client events of TYPE than COUNT.
# shellcheck disable=SC2317 # called through vm_check
vb_more() { [ "$(grep -c "\"type\":\"$1\"" "$VM_OUT/sim.jsonl")" -gt "$2" ]; }

vm_check "$REPLIES replies with only their echo played to their end" [ "$played" = "$REPLIES" ]
vm_check "the echo alone made the server cancel nothing" [ "$cancels" = 0 ]
vm_check "the user's voice interrupted the reply" vb_after '"reason":"voice barge-in"'
vm_check "the speaker went quiet within 400 ms of the user's onset" "$P/vmprobe" silence --wav "$VM_OUT/reply.wav" --at "$VM_OUT/barge.log" --within 400ms --lead 500ms
vm_check "the server saw response.cancel" vb_more response.cancel "$cancels0"
vm_check "the server saw conversation.item.truncate" vb_more conversation.item.truncate "$truncates0"
vm_done
