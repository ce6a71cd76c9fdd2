# shellcheck shell=dash disable=SC2034 # VOICED_PID, CAP_PID and others are for the scenarios
# Helpers of the daemon scenarios (40-ptt.sh and later): voiced run against voiced-sim in
# the guest, wired to the loopback card and the gpio-sim chip, watched by vmprobe.
# Source after /lib/vm/vm.sh:  . /scenarios/daemon/lib.sh
#
# Wiring (two substreams per loopback PCM):
#   microphone  voiced captures hw:Loopback,1,0  <- the scenario plays into hw:Loopback,0,0
#   speaker     voiced plays    hw:Loopback,0,1  -> the scenario captures hw:Loopback,1,1
#   button      line 17, active low, pulled up   <- the scenario writes sim_gpio17/pull
#   LED         line 27                          -> the scenario samples sim_gpio27/value
# Times in every log are Unix ms of the guest's clock (vmprobe's convention).

P=/payload
API=http://127.0.0.1:8088
vm_need_payload voiced voiced-sim vmprobe question.wav

# dm_setup: the loopback card and the GPIO chip, or fail.
dm_setup() {
  vm_aloop || vm_fail "snd-aloop did not load"
  vm_gpio_sim || vm_fail "no gpio-sim chip"
  echo pull-up >"$VOICED_HW_GPIO_SYSFS/sim_gpio17/pull"
}

# dm_sim [ADDR] [ARGS...]: start voiced-sim (real-time replies, client events recorded in
# sim.jsonl); sets SIM_PID and SIM_ADDR.
dm_sim() {
  addr=${1:-127.0.0.1:0}
  [ $# -gt 0 ] && shift
  "$P/voiced-sim" --addr "$addr" --speed 1 --record "$VM_OUT/sim.jsonl" -v "$@" >"$VM_OUT/sim.out" 2>>"$VM_OUT/sim.log" &
  SIM_PID=$!
  i=0
  until SIM_ADDR=$(sed -n 's/^listening on //p' "$VM_OUT/sim.out" 2>/dev/null) && [ -n "$SIM_ADDR" ]; do
    i=$((i + 1))
    [ "$i" -gt 200 ] && vm_fail "voiced-sim did not start: $(cat "$VM_OUT/sim.log")"
    sleep 0.1
  done
  echo "voiced-sim (pid $SIM_PID) at $SIM_ADDR"
}

# dm_delay: a proxy that holds the server's bytes back 700 ms (a slow network), so the
# PROCESSING state lasts long enough to see its LED pattern; sets WS_ADDR.
dm_delay() {
  "$P/vmprobe" delay --to "$SIM_ADDR" --latency 700ms >"$VM_OUT/delay.out" 2>"$VM_OUT/delay.log" &
  i=0
  until WS_ADDR=$(sed -n 's/^listening on //p' "$VM_OUT/delay.out" 2>/dev/null) && [ -n "$WS_ADDR" ]; do
    i=$((i + 1))
    [ "$i" -gt 100 ] && vm_fail "vmprobe delay did not start"
    sleep 0.1
  done
}

# dm_voiced MODE [--set K=V...]: write voiced.yaml and start `voiced run` on it against
# WS_ADDR (or SIM_ADDR), then wait until it is connected; sets VOICED_PID.
dm_voiced() {
  mode=$1
  shift
  cat >"$VM_OUT/voiced.yaml" <<YAML
mode: $mode
realtime:
  profile: custom
  url: ws://${WS_ADDR:-$SIM_ADDR}/v1/realtime
  model: voiced-sim
  api_key: vm-key
  connection: always
  turn_detection:
    type: local
audio:
  capture: {device: "hw:Loopback,1,0", rate: 16000, channels: 1}
  playback: {device: "hw:Loopback,0,1", rate: 24000, channels: 1}
vad:
  silence_ms: 600
gpio:
  enabled: true
  chip: $VOICED_HW_GPIO_CHIP
  button: {line: "17", active_low: true, pull: up}
  led: {line: "27"}
http:
  listen: 127.0.0.1:8088
earcons:
  enabled: false
YAML
  "$P/voiced" run --config "$VM_OUT/voiced.yaml" --print-events "$@" >"$VM_OUT/voiced.events" 2>"$VM_OUT/voiced.log" &
  VOICED_PID=$!
  "$P/vmprobe" wait --url "$API" --state connected --timeout 60s || {
    tail -20 "$VM_OUT/voiced.log"
    vm_fail "voiced did not connect"
  }
}

# dm_watch [--no-led]: record the LED line (led.log) and /v1/events (events.log) from
# now on. (A scenario that does not judge the LED leaves the guest's CPU to voiced.)
dm_watch() {
  LED_PID=
  if [ "$1" != --no-led ]; then
    "$P/vmprobe" led --sysfs "$VOICED_HW_GPIO_SYSFS" --line 27 --out "$VM_OUT/led.log" &
    LED_PID=$!
  fi
  "$P/vmprobe" events --url "$API" --out "$VM_OUT/events.log" &
  EV_PID=$!
  sleep 0.5
}

# dm_unwatch: stop the recorders (they write their last lines on SIGTERM).
dm_unwatch() {
  # shellcheck disable=SC2086 # LED_PID is empty when there is no LED recorder
  kill $LED_PID "$EV_PID" 2>/dev/null
  # shellcheck disable=SC2086
  wait $LED_PID "$EV_PID" 2>/dev/null
}

# dm_capture SECONDS [OUT]: capture the speaker side (hw:Loopback,1,1) in the background;
# sets CAP_PID.
dm_capture() {
  "$P/vmprobe" capture --device hw:Loopback,1,1 --rate 24000 --seconds "$1" --out "$VM_OUT/${2:-reply.wav}" 2>>"$VM_OUT/capture.log" &
  CAP_PID=$!
  sleep 0.3
}

# dm_say [--hold]: speak the question into the microphone (blocks until played); with
# --hold, hold the button (line 17) from just before it until its speech has been heard.
dm_say() {
  hold=
  [ "$1" = --hold ] && hold="--hold $VOICED_HW_GPIO_SYSFS --line 17"
  # shellcheck disable=SC2086
  "$P/vmprobe" play --device hw:Loopback,0,0 --log "$VM_OUT/say.log" $hold "$P/question.wav" 2>>"$VM_OUT/play.log" ||
    echo "vmprobe play failed: $(tail -1 "$VM_OUT/play.log")"
}

# dm_button pull-down|pull-up [LINE]: press (pull-down: the button shorts the line to
# ground) or release; the time goes to button.log.
dm_button() {
  "$P/vmprobe" pull --sysfs "$VOICED_HW_GPIO_SYSFS" --line "${2:-17}" --value "$1" --log "$VM_OUT/button.log"
}

# dm_wait_event PATTERN [SECONDS]: wait until events.log has a line matching PATTERN
# (grep -E), counting from line FROM (default 1).
dm_wait_event() {
  i=0
  until tail -n "+${FROM:-1}" "$VM_OUT/events.log" 2>/dev/null | grep -qE "$1"; do
    i=$((i + 1))
    [ "$i" -gt $((${2:-30} * 10)) ] && {
      echo "no event matching $1 within ${2:-30} s"
      return 1
    }
    sleep 0.1
  done
}

# dm_states: the state changes seen on /v1/events, in order, one line.
dm_states() {
  sed -n 's/.*"state":"\([a-z]*\)".*"type":"state".*/\1/p' "$VM_OUT/events.log" | tr '\n' ' '
}

# dm_in_order WORDS...: the state changes contain WORDS as a subsequence.
dm_in_order() {
  # shellcheck disable=SC2001 # busybox sh: no ${var//pattern/replacement}
  echo " $(dm_states)" | grep -q " $(echo "$*" | sed 's/ / .*/g')"
}

# dm_sim_saw TYPE: voiced-sim received a client event of TYPE.
dm_sim_saw() { grep -q "\"type\":\"$1\"" "$VM_OUT/sim.jsonl"; }

# dm_logs: the end of each process's log, for the scenario's log.
dm_logs() {
  echo "--- states: $(dm_states)"
  echo "--- voiced --print-events:"
  cat "$VM_OUT/voiced.events" 2>/dev/null
  echo "--- voiced log (last 30 lines):"
  tail -30 "$VM_OUT/voiced.log" 2>/dev/null
  echo "--- voiced-sim log (last 10 lines):"
  tail -10 "$VM_OUT/sim.log" 2>/dev/null
  echo "--- capture/play:"
  cat "$VM_OUT/capture.log" "$VM_OUT/play.log" 2>/dev/null
}
