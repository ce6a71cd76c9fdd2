# shellcheck shell=dash
# Helpers for scenarios, sourced by each scenario: . /lib/vm/vm.sh
# A scenario is a busybox sh script run with cwd and $VM_OUT = its results directory
# (files written there come out to the host); its exit status is the verdict:
# 0 pass, 77 skip, anything else fail.

VM_FAILED=0

# vm_skip MSG: the scenario cannot run here (say why); it is reported as skipped.
vm_skip() {
  echo "SKIP: $*"
  exit 77
}

# vm_fail MSG: stop the scenario now as failed.
vm_fail() {
  echo "FAIL: $*"
  exit 1
}

# vm_check DESC CMD...: run a check, print ok/FAIL, remember a failure (see vm_done).
vm_check() {
  desc=$1
  shift
  if "$@"; then echo "ok: $desc"; else
    echo "FAIL: $desc"
    VM_FAILED=1
  fi
}

# vm_done: exit with the verdict of the vm_check calls so far.
vm_done() {
  if [ "$VM_FAILED" = 0 ]; then
    echo "PASS"
    exit 0
  fi
  exit 1
}

# vm_break NAME: true when this run was asked to break scenario NAME on purpose
# (VOICED_VM_BREAK=NAME on the host), to show that its check can fail.
vm_break() {
  case ",${VM_BREAK:-}," in *",$1,"*)
    echo "vm: BREAK $1 requested"
    return 0
    ;;
  esac
  return 1
}

# vm_need_payload NAME...: skip unless /payload/NAME is there (payload.txt).
vm_need_payload() {
  for n in "$@"; do [ -e "/payload/$n" ] || vm_skip "/payload/$n is not there (its package has no Go files yet, or payload.txt does not name it)"; done
}

# vm_wait_for PATH [SECONDS]: wait until PATH exists.
vm_wait_for() {
  i=0
  while [ ! -e "$1" ]; do
    i=$((i + 1))
    [ "$i" -gt $((${2:-5} * 10)) ] && return 1
    sleep 0.1
  done
}

# vm_aloop: snd-aloop as card 0 with two substreams per PCM (hw:Loopback,0,N plays into
# hw:Loopback,1,N capture and back). Loaded once; later calls reuse it.
vm_aloop() {
  if [ ! -d /sys/module/snd_aloop ]; then
    modprobe snd-aloop index=0 pcm_substreams=2 || return 1
  fi
  vm_wait_for /dev/snd/pcmC0D1c 5
}

# vm_gpio_sim [NAME]: a gpio-sim chip like the Pi's header: one bank of 28 lines, line 17
# named BUTTON, line 27 named LED. Exports VOICED_HW_GPIO_CHIP (e.g. gpiochip0) and
# VOICED_HW_GPIO_SYSFS (the directory whose sim_gpioN/pull and sim_gpioN/value drive the
# inputs and show the outputs). Made once per NAME (default "pi"); later calls reuse it.
vm_gpio_sim() {
  c=/sys/kernel/config/gpio-sim/${1:-pi}
  [ -d /sys/kernel/config/gpio-sim ] || {
    [ -d /sys/module/gpio_sim ] || modprobe gpio-sim || return 1
    grep -q ' /sys/kernel/config ' /proc/mounts || mount -t configfs configfs /sys/kernel/config || return 1
  }
  if [ ! -d "$c" ]; then
    mkdir "$c" "$c/bank0" && echo 28 >"$c/bank0/num_lines" && echo "${1:-pi}" >"$c/bank0/label" &&
      mkdir "$c/bank0/line17" && echo BUTTON >"$c/bank0/line17/name" &&
      mkdir "$c/bank0/line27" && echo LED >"$c/bank0/line27/name" &&
      echo 1 >"$c/live" || return 1
  fi
  # chip_name is read back: gpiochip0 on amd64, gpiochip1 on arm64 virt (which has a PL061).
  VOICED_HW_GPIO_CHIP=$(cat "$c/bank0/chip_name")
  VOICED_HW_GPIO_SYSFS=/sys/devices/platform/$(cat "$c/dev_name")/$VOICED_HW_GPIO_CHIP
  export VOICED_HW_GPIO_CHIP VOICED_HW_GPIO_SYSFS
  vm_wait_for "/dev/$VOICED_HW_GPIO_CHIP" 5 && [ -d "$VOICED_HW_GPIO_SYSFS" ]
}

# vm_gotest NAME [ARGS...]: run /payload/NAME (a `go test -c` binary) with VOICED_HW_TEST=1
# as `NAME -test.v -test.run '^TestHW' ARGS...`; fails when it fails or when no TestHW test
# ran at all. Package testdata, if any, is its working directory's testdata/.
vm_gotest() {
  n=$1
  shift
  vm_need_payload "$n"
  dir=/payload/$n.d
  [ -d "$dir" ] || dir=$VM_OUT
  echo "vm: running $n -test.v -test.run ^TestHW $*"
  (cd "$dir" && VOICED_HW_TEST=1 "/payload/$n" -test.v -test.run '^TestHW' -test.timeout "${VM_GOTEST_TIMEOUT:-90s}" "$@") >"$VM_OUT/$n.out" 2>&1
  rc=$?
  cat "$VM_OUT/$n.out"
  ran=$(grep -c '^=== RUN   TestHW' "$VM_OUT/$n.out")
  echo "vm: $n exit status $rc, $ran TestHW tests and subtests ran"
  [ "$ran" -gt 0 ] || {
    echo "FAIL: $n ran no TestHW test"
    return 1
  }
  return "$rc"
}
