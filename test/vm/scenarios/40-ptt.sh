# shellcheck shell=dash
# Push-to-talk through the whole device: voiced run and voiced-sim in the guest, the
# button on gpio-sim line 17, the LED on line 27, microphone and speaker on snd-aloop.
# The button is held (its line pulled down) while the question is spoken into the
# microphone, then released. After the reply the follow-up window (turn.follow_up_ms)
# is open: the question is said again, without a press, and makes a second turn; after
# its reply nothing is said and the window closes by itself. Passes when the LED showed
# LISTENING (solid), PROCESSING (fast blink), SPEAKING (double blink), the open window
# (solid, as listening) and CONNECTED (off) in those states, the second turn began in
# the window ("follow-up", not a press), the speaker played the question back
# (voiced-sim's parrot reply: envelope correlation), the server saw both turns
# committed, and /v1/status agrees with /v1/events.
# Broken on purpose (VOICED_VM_BREAK=ptt): voiced drives the LED on line 26, as if the
# LED were wired to the wrong pin: the LED checks must fail.
# vm-timeout: 240
# shellcheck source=../guest/vm.sh
. /lib/vm/vm.sh
# shellcheck source=daemon/lib.sh
. /scenarios/daemon/lib.sh

# The checks' helpers, called through vm_check.
# n_lines PATTERN FILE: how many lines of FILE match PATTERN (grep -E).
# shellcheck disable=SC2317
n_lines() { grep -cE "$1" "$2"; }
# shellcheck disable=SC2317
second_turn_by_follow_up() {
  n=$(n_lines '"state":"listening".*"type":"state"' events.log)
  echo "listening entered $n times; reasons: $(sed -n 's/.*"reason":"\([^"]*\)".*"state":"listening".*"type":"state".*/\1/p' events.log | tr '\n' ',')"
  [ "$n" -eq 2 ] && grep -q '"reason":"follow-up".*"state":"listening"' events.log
}
# shellcheck disable=SC2317
window_opened_and_closed() {
  [ "$(n_lines '"reason":"follow-up window open"' events.log)" -eq 2 ] &&
    grep -q '"reason":"nothing said in the follow-up window"' events.log
}
# shellcheck disable=SC2317
both_turns_committed() {
  c=$(n_lines 'input_audio_buffer\.commit' sim.jsonl)
  r=$(n_lines 'response\.create' sim.jsonl)
  echo "the server got $c commits and $r response.create"
  [ "$c" -eq 2 ] && [ "$r" -eq 2 ]
}

dm_setup
led=27
vm_break ptt && led=26
dm_sim
dm_delay
# The button is held over the whole question (about 5 s), past gpio.button.long_press_ms:
# holding it while speaking is a turn, not a mute. 3 s rather than the default 1.5 s:
# under emulation, on a busy host, the capture path lags the microphone by over a
# second (the speech starts 0.6 s into the file), and a long press before the speech
# is heard is a mute, rightly. The follow-up window is
# long enough for a moment of it to be judged on the LED, the question (about 3 s) and
# the VAD's end of speech.
follow_ms=8000
dm_voiced push_to_talk --set gpio.led.line="$led" --set gpio.button.long_press_ms=3000 --set turn.follow_up_ms=$follow_ms
dm_watch
dm_capture 50
# Each step waits for the last; one that does not come ends the waiting (the checks
# below say what is missing) rather than every later wait running out in turn.
# FROM (where dm_wait_event starts looking) is taken before each step: level events
# stream in all the time, so a count taken after an event may already be past it.
follow_up_turn() {
  FROM=$(($(wc -l <"$VM_OUT/events.log") + 1))
  dm_say --hold
  dm_wait_event '"prev":"speaking"' 40 || return
  # The window opens as the reply ends; a moment of it for the LED, then the follow-up.
  dm_wait_event '"reason":"follow-up window open"' 10 || return
  sleep 2
  FROM=$(($(wc -l <"$VM_OUT/events.log") + 1))
  dm_say
  dm_wait_event '"prev":"speaking"' 40 || return
  # Nothing said after the second reply: the window closes by itself, then a CONNECTED
  # stay long enough to judge.
  dm_wait_event '"reason":"nothing said in the follow-up window"' $((follow_ms / 1000 + 10)) || return
  sleep 3
}
follow_up_turn
dm_unwatch
kill "$CAP_PID" 2>/dev/null
wait "$CAP_PID"
dm_logs

vm_check "states went listening, processing, speaking, connected, twice" \
  dm_in_order listening processing speaking connected listening processing speaking connected
vm_check "the second turn began in the follow-up window, without a press" second_turn_by_follow_up
vm_check "the window opened after each reply and closed by itself after the last" window_opened_and_closed
vm_check "LED: listening solid, processing fast blink, speaking double blink, follow-up window solid, connected off" \
  "$P/vmprobe" ledcheck --led led.log --events events.log listening=solid processing=fast speaking=double follow_up=solid connected=off
vm_check "the speaker played the parrot reply (the turn's audio as the server got it)" "$P/vmprobe" correlate --got reply.wav --record sim.jsonl
vm_check "the server saw both turns committed and a response asked for each" both_turns_committed
vm_check "/v1/status agrees with /v1/events" "$P/vmprobe" agree --url "$API" --events events.log
vm_done
