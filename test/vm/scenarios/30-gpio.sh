# shellcheck shell=dash
# internal/gpio on a real kernel: its TestHW tests request lines of the gpio-sim chip
# (BUTTON = line 17, LED = line 27), pull line 17 through sysfs and expect edge events,
# drive line 27 and read its value through sysfs.
# Broken on purpose (VOICED_VM_BREAK=gpio): the tests are given the sysfs directory of a
# second chip, as if the button were wired to another header: they must fail.
# vm-timeout: 120
# shellcheck source=../guest/vm.sh
. /lib/vm/vm.sh

vm_need_payload gpio.test
vm_gpio_sim || vm_fail "gpio-sim chip could not be made"
if vm_break gpio; then
  chip=$VOICED_HW_GPIO_CHIP
  vm_gpio_sim decoy || vm_fail "second gpio-sim chip could not be made"
  export VOICED_HW_GPIO_CHIP=$chip
fi
echo "VOICED_HW_GPIO_CHIP=$VOICED_HW_GPIO_CHIP VOICED_HW_GPIO_SYSFS=$VOICED_HW_GPIO_SYSFS"
vm_gotest gpio.test || vm_fail "gpio.test failed"
vm_done
