# shellcheck shell=dash
# internal/alsa on a real kernel: its TestHW tests play into hw:Loopback,0,N and capture
# from hw:Loopback,1,N (snd-aloop, card 0, two substreams).
# Broken on purpose (VOICED_VM_BREAK=alsa): the loopback card comes up under another name
# (id=Other), as if the configured card were not plugged in: the tests must fail.
# vm-timeout: 120
# shellcheck source=../guest/vm.sh
. /lib/vm/vm.sh

vm_need_payload alsa.test
if vm_break alsa; then
  [ -d /sys/module/snd_aloop ] && { rmmod snd-aloop || vm_fail "cannot unload snd-aloop"; }
  modprobe snd-aloop index=0 pcm_substreams=2 id=Other || vm_fail "snd-aloop did not load"
  vm_wait_for /dev/snd/pcmC0D1c 5
fi
vm_aloop || vm_fail "snd-aloop did not load"
cat /proc/asound/cards
vm_gotest alsa.test || vm_fail "alsa.test failed"
vm_done
