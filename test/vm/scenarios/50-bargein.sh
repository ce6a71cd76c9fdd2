# shellcheck shell=dash
# Barge-in by the button: during a push-to-talk turn's reply (SPEAKING), a press must
# silence the speaker within 100 ms, measured on the audio captured from the loopback
# card's other side against the time the button line was pulled, and the server must be
# told: response.cancel (the reply, paced in real time, is still being sent) and
# conversation.item.truncate (what was heard of it).
# Broken on purpose (VOICED_VM_BREAK=bargein): the press goes to line 16, as if the
# button were wired to the wrong pin: the reply plays on and the checks must fail.
# vm-timeout: 150
# shellcheck source=../guest/vm.sh
. /lib/vm/vm.sh
# shellcheck source=daemon/lib.sh
. /scenarios/daemon/lib.sh

dm_setup
line=17
vm_break bargein && line=16
dm_sim
dm_voiced push_to_talk
dm_watch --no-led
dm_capture 25
dm_say --hold
dm_wait_event '"state":"speaking"' 40
# Well into the reply: it echoes the question from the press on, 0.6 s of silence, then
# speech with a pause at 1.2..1.5 s, then speech again to 4.1 s; 2.2 s is in the middle.
sleep 2.2
: >button.log
dm_button pull-down "$line"
sleep 0.4
dm_button pull-up "$line"
FROM=$(grep -n '"state":"speaking"' events.log | head -1 | cut -d: -f1) dm_wait_event '"prev":"speaking"' 10
sleep 2
dm_unwatch
kill "$CAP_PID" 2>/dev/null
wait "$CAP_PID"
dm_logs

vm_check "the press interrupted the reply" grep -q '"reason":"button press (reply interrupted)"' events.log
vm_check "the speaker went quiet within 100 ms of the press" "$P/vmprobe" silence --wav reply.wav --at button.log --within 100ms --lead 500ms
vm_check "the server saw response.cancel" dm_sim_saw response.cancel
vm_check "the server saw conversation.item.truncate" dm_sim_saw conversation.item.truncate
vm_check "/v1/status agrees with /v1/events" "$P/vmprobe" agree --url "$API" --events events.log
vm_done
