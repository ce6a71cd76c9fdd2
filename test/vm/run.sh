#!/usr/bin/env bash
# make test-vm: build the guests (kernel pieces cached under test/vm/.cache, payload and
# the systemd guest's .deb from the current tree), then boot them and report every
# scenario as a Go subtest.
# Env: VOICED_VM_ARCH=amd64,arm64  VOICED_VM_ONLY=kernel,gpio  VOICED_VM_BREAK=gpio
#      VOICED_VM_PARALLEL=1 (boot the guests side by side)  VOICED_VM_TIMEOUT=480
#      VOICED_VM_RETRY=0 (do not repeat a failed run)
set -euo pipefail
cd "$(dirname "$0")"
t0=$(date +%s)
IFS=, read -r -a archs <<<"${VOICED_VM_ARCH:-amd64,arm64}"
# The systemd guest (scenario "systemd", reported under amd64) boots with the amd64 guest.
guests=("${archs[@]}")
if [[ ",${VOICED_VM_ARCH:-amd64}," == *,amd64,* ]] && [[ -z ${VOICED_VM_ONLY:-} || ",$VOICED_VM_ONLY," == *,systemd,* ]]; then
  guests+=(systemd)
fi
./build.sh "${guests[@]}"
t1=$(date +%s)
rc=0
VOICED_VM=1 VOICED_VM_BUILT=1 go test -count=1 -v -timeout 20m -run '^TestVM$' . || rc=$?
# The guests are emulated and their audio runs in real time: a guest the host starves
# for a while misses its deadlines, and a check fails that would pass on a board. Such a
# run is repeated once; a scenario must fail twice in a row to fail the run. A broken
# scenario (VOICED_VM_BREAK) is never repeated.
if [ "$rc" -ne 0 ] && [ -z "${VOICED_VM_BREAK:-}" ] && [ "${VOICED_VM_RETRY:-1}" != 0 ]; then
  echo "test-vm: a scenario failed (above); repeating the run once, as an emulated guest may have been starved"
  rc=0
  VOICED_VM=1 VOICED_VM_BUILT=1 go test -count=1 -v -timeout 20m -run '^TestVM$' . || rc=$?
fi
echo "test-vm: build $((t1 - t0)) s, boot and scenarios $(($(date +%s) - t1)) s, total $(($(date +%s) - t0)) s"
exit "$rc"
