#!/usr/bin/env bash
# Install test of the amd64 voiced .deb in a Debian bookworm root.
#
#   packaging/test-deb.sh [PATH/voiced_VERSION_amd64.deb]
#   packaging/test-deb.sh --base-root
#
# Without an argument it takes the newest dist/voiced_*_amd64.deb (what
# `make deb` built). The bookworm root is made once with debootstrap and kept
# in $VOICED_TEST_DEB_CACHE (default /var/cache/voiced-test-deb); every
# scenario runs in a fresh copy of it under build/test-deb. Needs root (chroot,
# debootstrap) and the Debian mirror the first time. With --base-root it only
# makes that root if it is not there yet and prints its path (test/vm boots a
# copy of it under QEMU); nothing is installed into it.
#
# Scenarios (one file each under packaging/test-deb/, run in name order, after
# lintian on the three packages):
#   plain     no systemd running (a chroot, an image build): install, check
#             files, owners, modes, user, groups, conffiles, unit; change the
#             config; upgrade twice (same and changed packaged config); remove;
#             purge.
#   systemd   systemd "running" (a logging systemctl): start on install,
#             restart on upgrade, stop on remove, re-enable on reinstall.
#   adduser   no systemd-sysusers: the adduser fallback creates the same user.
#   boot      the root booted with systemd-nspawn: the daemon under the
#             packaged sandbox (WAV files for devices) starts, reports ready,
#             saves its config over HTTP, reloads, feeds the watchdog, stops.
#             Skipped when systemd-nspawn (systemd-container) is missing.
#
# Prints PASS or FAIL per check and ends with "N passed, M failed"; the exit
# status is non-zero if anything failed.
set -uo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
suite=bookworm
mirror=${VOICED_TEST_DEB_MIRROR:-http://deb.debian.org/debian}
# What the package needs besides the essential set: its Depends and systemd
# (systemd-sysusers, as on Raspberry Pi OS).
include=systemd,adduser,procps
cache=${VOICED_TEST_DEB_CACHE:-/var/cache/voiced-test-deb}
base="$cache/$suite-amd64-$(echo "$include" | tr ',' '_')"
work="$top/build/test-deb"

# The checks and helpers are in test-deb/lib.sh, each scenario in a file of its own
# under test-deb/, run in the order of their names.
# shellcheck source=packaging/test-deb/lib.sh
. "$here/test-deb/lib.sh"

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap and chroot)"
for t in debootstrap dpkg-deb chroot mount; do
  command -v "$t" >/dev/null || die "$t is missing (apt-get install debootstrap dpkg-dev)"
done

if [ "${1:-}" = --base-root ]; then
  make_base
  echo "$base"
  exit 0
fi

deb1=${1:-}
if [ -z "$deb1" ]; then
  for f in "$top"/dist/voiced_*_amd64.deb; do
    if [ -e "$f" ] && { [ -z "$deb1" ] || [ "$f" -nt "$deb1" ]; }; then
      deb1=$f
    fi
  done
  [ -n "$deb1" ] || die "no dist/voiced_*_amd64.deb: run make deb first"
fi
[ -f "$deb1" ] || die "$deb1 does not exist"
v1=$(dpkg-deb -f "$deb1" Version) || die "cannot read the version of $deb1"
echo "test-deb: testing $deb1 ($v1)"

make_base

# A run that was killed may have left /proc mounted in its roots.
grep -o " $work/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
rm -rf "$work"
mkdir -p "$work/debs"

# Newer builds from the same binaries: -2 has the same packaged config, -3 a
# changed one (as when a release changes the example config). The config is
# taken from the package: the work tree's may have changed since it was built.
up1=${v1%-*}
v2="$up1-2"
v3="$up1-3"
dpkg-deb --fsys-tarfile "$deb1" | tar -xO ./etc/voiced/voiced.yaml >"$work/voiced-v1.yaml" ||
  die "cannot read etc/voiced/voiced.yaml from $deb1"
{
  cat "$work/voiced-v1.yaml"
  echo "# a line added in $v3"
} >"$work/voiced-v3.yaml"
DEB_VERSION=$v2 "$here/build-deb.sh" -a amd64 -o "$work/debs" -c "$work/voiced-v1.yaml" test >/dev/null ||
  die "building $v2 failed"
DEB_VERSION=$v3 "$here/build-deb.sh" -a amd64 -o "$work/debs" -c "$work/voiced-v3.yaml" test >/dev/null ||
  die "building $v3 failed"
deb2="$work/debs/voiced_${v2}_amd64.deb"
deb3="$work/debs/voiced_${v3}_amd64.deb"

# Each scenario file runs its checks when sourced.
for s in "$here"/test-deb/[0-9]*.sh; do
  # shellcheck source=/dev/null
  . "$s"
done

# The roots are kept for a look when something failed.
if [ "$failed" -eq 0 ]; then
  cleanup
  mounted=()
  rm -rf "$work"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
