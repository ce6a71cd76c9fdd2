# shellcheck shell=dash
# Voice wake through the whole device, without the button: voiced run (mode continuous,
# the device's own VAD) and voiced-sim in the guest, the question spoken into snd-aloop.
# Passes when the LED showed LISTENING (solid), PROCESSING (fast blink) and SPEAKING
# (double blink) in those states, the speaker played the parrot reply, the server saw the
# turn committed, and /v1/status agrees with /v1/events.
# Broken on purpose (VOICED_VM_BREAK=wake): the question is never spoken, as if the
# microphone were unplugged: no wake, no reply, and the checks must fail.
# vm-timeout: 150
# shellcheck source=../guest/vm.sh
. /lib/vm/vm.sh
# shellcheck source=daemon/lib.sh
. /scenarios/daemon/lib.sh

dm_setup
dm_sim
dm_delay
dm_voiced continuous
dm_watch
dm_capture 25
if vm_break wake; then sleep 6; else dm_say; fi
dm_wait_event '"prev":"speaking"' 40
sleep 3 # a CONNECTED stay long enough to judge
dm_unwatch
kill "$CAP_PID" 2>/dev/null
wait "$CAP_PID"
dm_logs

vm_check "states went listening, processing, speaking, connected" dm_in_order listening processing speaking connected
vm_check "the turn began by voice" grep -q '"reason":"voice wake"' events.log
vm_check "LED: listening solid, processing fast blink, speaking double blink, connected off" \
  "$P/vmprobe" ledcheck --led led.log --events events.log listening=solid processing=fast speaking=double connected=off
vm_check "the speaker played the parrot reply (the turn's audio as the server got it)" "$P/vmprobe" correlate --got reply.wav --record sim.jsonl
vm_check "the server saw the turn committed and a response asked for" sh -c "grep -q input_audio_buffer.commit sim.jsonl && grep -q response.create sim.jsonl"
vm_check "/v1/status agrees with /v1/events" "$P/vmprobe" agree --url "$API" --events events.log
vm_done
