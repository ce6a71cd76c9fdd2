#!/usr/bin/env bash
# boot.sh GUEST OUTDIR: boot the guest built by build.sh (amd64, arm64 or systemd) under
# QEMU (TCG: this machine's /dev/kvm cannot run a stock kernel), with OUTDIR/results shared
# over 9p as the guest's /results (/mnt/results in the systemd guest) and the serial
# console in OUTDIR/console.log. The systemd guest's disk image is used as a snapshot: a
# second boot starts from the same image. Exits with QEMU's status (124 when
# VOICED_VM_TIMEOUT, default 480 s, ran out).
# Env: VOICED_VM_BREAK, VOICED_VM_ONLY (comma-separated scenario names), passed to the guest.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"
arch=${1:?usage: boot.sh GUEST OUTDIR}
out=${2:?usage: boot.sh GUEST OUTDIR}
[ -f "$CACHE/$arch/boot.env" ] || die "$arch is not built: run test/vm/build.sh $arch"
# shellcheck disable=SC1090
. "$CACHE/$arch/boot.env"
rm -rf "$out"
mkdir -p "$out/results"

append="panic=-1 loglevel=4 voiced.vm_arch=$arch"
[ -n "${VOICED_VM_BREAK:-}" ] && append="$append voiced.vm_break=$VOICED_VM_BREAK"
[ -n "${VOICED_VM_ONLY:-}" ] && append="$append voiced.vm_only=$VOICED_VM_ONLY"
disk=()
case $arch in
amd64)
  qemu=(qemu-system-x86_64 -accel tcg -cpu max)
  append="console=ttyS0 $append"
  ;;
systemd)
  qemu=(qemu-system-x86_64 -accel tcg -cpu max)
  append="console=ttyS0 $append systemd.unit=multi-user.target"
  disk=(-drive "file=$IMAGE,format=raw,if=virtio,snapshot=on")
  ;;
arm64)
  qemu=(qemu-system-aarch64 -M virt -cpu cortex-a72 -accel "tcg,thread=multi")
  append="console=ttyAMA0 $append"
  ;;
*) die "unknown guest architecture $arch" ;;
esac
command -v "${qemu[0]}" >/dev/null || die "${qemu[0]} is not installed (apt-get install qemu-system-x86 qemu-system-arm)"

echo "$KVER $KVERSION" >"$out/kernel"
t0=$(date +%s.%N)
rc=0
timeout "${VOICED_VM_TIMEOUT:-480}" "${qemu[@]}" -smp 2 -m 1024 -nographic -no-reboot -net none \
  -kernel "$KERNEL" -initrd "$INITRD" -append "$append" "${disk[@]}" \
  -virtfs "local,path=$out/results,mount_tag=results,security_model=none,id=results" \
  </dev/null >"$out/console.log" 2>&1 || rc=$?
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f\n", b-a}' >"$out/qemu_seconds"
exit "$rc"
