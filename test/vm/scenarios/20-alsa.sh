# internal/alsa on a real kernel: its TestHW tests play into hw:Loopback,0,N and capture
# from hw:Loopback,1,N (snd-aloop, card 0, two substreams).
# vm-timeout: 120
. /lib/vm/vm.sh

vm_need_payload alsa.test
vm_aloop || vm_fail "snd-aloop did not load"
vm_gotest alsa.test || vm_fail "alsa.test failed"
vm_done
