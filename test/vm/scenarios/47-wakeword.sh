# shellcheck shell=dash
# Wake by name through the whole device: voiced run with wake.mode word (okay_nabu), the
# audio spoken into snd-aloop. The demo's question, said first, must wake nothing; said
# again after "okay nabu" it must give exactly one turn, begun by the word, whose audio
# the server got and parroted back to the speaker.
# Broken on purpose (VOICED_VM_BREAK=wakeword): the word is never said, only the
# question after it: no wake, no reply, and the checks must fail.
# vm-timeout: 150
# shellcheck source=../guest/vm.sh
. /lib/vm/vm.sh
# shellcheck source=daemon/lib.sh
. /scenarios/daemon/lib.sh

vm_need_payload okay_nabu.wav

# say FILE: play a WAV into the microphone side (blocks until played).
say() {
  "$P/vmprobe" play --device hw:Loopback,0,0 --log "$VM_OUT/say.log" "$P/$1" 2>>"$VM_OUT/play.log" ||
    echo "vmprobe play $1 failed: $(tail -1 "$VM_OUT/play.log")"
}

dm_setup
dm_sim
dm_voiced continuous --set wake.mode=word --set 'wake.words=[okay_nabu, hey_jarvis]'
dm_watch --no-led
dm_capture 30
say question.wav
sleep 1
vm_break wakeword || say okay_nabu.wav
say question.wav
dm_wait_event '"prev":"speaking"' 40
sleep 1
dm_unwatch
kill "$CAP_PID" 2>/dev/null
wait "$CAP_PID"
dm_logs

# shellcheck disable=SC2317 # called through vm_check
one() { [ "$(grep -c "$1" "$2")" -eq 1 ]; }
# shellcheck disable=SC2317
one_turn() { [ "$(dm_states | tr ' ' '\n' | grep -c '^listening$')" -eq 1 ]; }
vm_check "states went listening, processing, speaking, connected" dm_in_order listening processing speaking connected
vm_check "exactly one turn, begun by the word" one '"reason":"wake word okay_nabu"' events.log
vm_check "no turn began otherwise" one_turn
vm_check "one wake_word event, for okay_nabu" one '"word":"okay_nabu"' events.log
vm_check "the server saw one turn committed" one '"type":"input_audio_buffer.commit"' sim.jsonl
vm_check "the speaker played the parrot reply (the turn's audio as the server got it)" "$P/vmprobe" correlate --got reply.wav --record sim.jsonl
vm_check "/v1/status agrees with /v1/events" "$P/vmprobe" agree --url "$API" --events events.log
vm_done
