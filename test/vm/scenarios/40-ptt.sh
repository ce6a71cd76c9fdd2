# shellcheck shell=dash
# Push-to-talk through the whole device: voiced run and voiced-sim in the guest, the
# button on gpio-sim line 17, the LED on line 27, microphone and speaker on snd-aloop.
# The button is held (its line pulled down) while the question is spoken into the
# microphone, then released. Passes when the LED showed LISTENING (solid), PROCESSING
# (fast blink) and SPEAKING (double blink) in those states, the speaker played the
# question back (voiced-sim's parrot reply: envelope correlation), the server saw the
# turn committed, and /v1/status agrees with /v1/events.
# Broken on purpose (VOICED_VM_BREAK=ptt): voiced drives the LED on line 26, as if the
# LED were wired to the wrong pin: the LED checks must fail.
# vm-timeout: 150
# shellcheck source=../guest/vm.sh
. /lib/vm/vm.sh
# shellcheck source=daemon/lib.sh
. /scenarios/daemon/lib.sh

dm_setup
led=27
vm_break ptt && led=26
dm_sim
dm_delay
# The button is held over the whole question, far past gpio.button.long_press_ms (1.5 s by
# default): holding it while speaking is a turn, not a mute.
dm_voiced push_to_talk --set gpio.led.line="$led"
dm_watch
dm_capture 25
dm_say --hold
dm_wait_event '"prev":"speaking"' 40
sleep 3 # a CONNECTED stay long enough to judge
dm_unwatch
kill "$CAP_PID" 2>/dev/null
wait "$CAP_PID"
dm_logs

vm_check "states went listening, processing, speaking, connected" dm_in_order listening processing speaking connected
vm_check "LED: listening solid, processing fast blink, speaking double blink, connected off" \
  "$P/vmprobe" ledcheck --led led.log --events events.log listening=solid processing=fast speaking=double connected=off
vm_check "the speaker played the parrot reply (the turn's audio as the server got it)" "$P/vmprobe" correlate --got reply.wav --record sim.jsonl
vm_check "the server saw the turn committed and a response asked for" sh -c "grep -q input_audio_buffer.commit sim.jsonl && grep -q response.create sim.jsonl"
vm_check "/v1/status agrees with /v1/events" "$P/vmprobe" agree --url "$API" --events events.log
vm_done
