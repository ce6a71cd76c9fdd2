# shellcheck shell=dash
# Smoke test of the guest itself: the loopback sound card, the simulated GPIO chip and the
# loopback network are there and behave, before anything of ours runs on them.
# Broken on purpose (VOICED_VM_BREAK=kernel): snd-aloop is not loaded.
# vm-timeout: 60
# shellcheck source=../guest/vm.sh
. /lib/vm/vm.sh

echo "kernel: $(uname -r) on $(uname -m)"
if vm_break kernel; then :; else vm_check "snd-aloop loads as card 0" vm_aloop; fi
cat /proc/asound/cards 2>/dev/null
for n in pcmC0D0p pcmC0D0c pcmC0D1p pcmC0D1c controlC0; do
  vm_check "/dev/snd/$n is a character device" test -c "/dev/snd/$n"
done
vm_check "card 0 is the Loopback card" grep -q '^ *0 \[Loopback' /proc/asound/cards
for d in 0 1; do
  for s in p c; do
    vm_check "pcm 0-$d-$s has 2 substreams" grep -q "^ *subdevices_count: 2" "/proc/asound/card0/pcm$d$s/info"
  done
done

vm_check "gpio-sim chip is live" vm_gpio_sim
echo "chip $VOICED_HW_GPIO_CHIP, sysfs $VOICED_HW_GPIO_SYSFS"
vm_check "/dev/$VOICED_HW_GPIO_CHIP is a character device" test -c "/dev/$VOICED_HW_GPIO_CHIP"
lines=$(find "$VOICED_HW_GPIO_SYSFS" -mindepth 1 -maxdepth 1 -name 'sim_gpio*' 2>/dev/null | wc -l)
vm_check "the chip has 28 lines (has $lines)" test "$lines" = 28
# An input line nobody drives reads what the simulated pull says.
# shellcheck disable=SC2317 # called through vm_check
pull_reads() { echo "$1" >"$VOICED_HW_GPIO_SYSFS/sim_gpio17/pull" && test "$(cat "$VOICED_HW_GPIO_SYSFS/sim_gpio17/value")" = "$2"; }
vm_check "line 17 pulled up reads 1" pull_reads pull-up 1
vm_check "line 17 pulled down reads 0" pull_reads pull-down 0
# Later scenarios run voiced against voiced-sim over the loopback interface.
vm_check "lo is up with 127.0.0.1" sh -c 'ip addr show lo | grep -q "inet 127.0.0.1/8"'
vm_done
