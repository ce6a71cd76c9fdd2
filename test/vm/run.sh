#!/usr/bin/env bash
# make test-vm: build the guests (kernel pieces cached under test/vm/.cache, payload from
# the current tree), then boot them and report every scenario as a Go subtest.
# Env: VOICED_VM_ARCH=amd64,arm64  VOICED_VM_ONLY=kernel,gpio  VOICED_VM_BREAK=gpio
#      VOICED_VM_PARALLEL=1 (boot the guests side by side)  VOICED_VM_TIMEOUT=480
set -euo pipefail
cd "$(dirname "$0")"
t0=$(date +%s)
IFS=, read -r -a archs <<<"${VOICED_VM_ARCH:-amd64,arm64}"
./build.sh "${archs[@]}"
t1=$(date +%s)
rc=0
VOICED_VM=1 VOICED_VM_BUILT=1 go test -count=1 -v -timeout 20m -run '^TestVM$' . || rc=$?
echo "test-vm: build $((t1 - t0)) s, boot and scenarios $(($(date +%s) - t1)) s, total $(($(date +%s) - t0)) s"
exit "$rc"
