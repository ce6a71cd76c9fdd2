# shellcheck shell=bash
# The library of packaging/test-deb.sh, sourced by it: the PASS/FAIL counters and
# checks, the bookworm base root, and the helpers that run commands inside a copy of it.
# shellcheck disable=SC2154 # suite, include, mirror, cache, base, work and deb1..3 are set by test-deb.sh

passed=0
failed=0

die() {
  echo "test-deb: $*" >&2
  echo "FAIL test-deb could not run: $*"
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
}

pass() {
  echo "PASS $1"
  passed=$((passed + 1))
}

fail() {
  echo "FAIL $1"
  [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/     | /'
  failed=$((failed + 1))
}

# check DESC CMD...: PASS if the command succeeds; on failure its output is shown.
check() {
  local desc=$1 out
  shift
  if out=$("$@" 2>&1); then
    pass "$desc"
  else
    fail "$desc" "$out"
  fi
}

# expect DESC WANT CMD...: PASS if the command prints exactly WANT.
expect() {
  local desc=$1 want=$2 got
  shift 2
  got=$("$@" 2>&1)
  if [ "$got" = "$want" ]; then
    pass "$desc"
  else
    fail "$desc" "want: $want
got:  $got"
  fi
}

# make_base makes the bookworm root once. A half-made one (interrupted run) is
# redone.
make_base() {
  [ ! -e "$base/.complete" ] || return 0
  echo "test-deb: debootstrap $suite ($include) into $base, once" >&2
  rm -rf "$base.tmp"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include="$include" "$suite" "$base.tmp" "$mirror" \
    >"$cache/debootstrap.log" 2>&1 ||
    die "debootstrap failed, see $cache/debootstrap.log"
  # No package lists or downloaded .debs are needed in the copies.
  rm -rf "$base.tmp"/var/cache/apt/archives/*.deb "$base.tmp"/var/lib/apt/lists/*
  touch "$base.tmp/.complete"
  rm -rf "$base"
  mv "$base.tmp" "$base"
}

mounted=()
cleanup() {
  local m
  for m in "${mounted[@]}"; do
    umount -l "$m" 2>/dev/null || true
  done
}
trap cleanup EXIT

# new_root NAME copies the base root to build/test-deb/NAME, with /proc.
new_root() {
  root="$work/$1"
  cp -a "$base" "$root" || die "copying $base failed"
  mount -t proc proc "$root/proc" || die "mounting /proc in $root failed"
  mounted+=("$root/proc")
  cp "$deb1" "$deb2" "$deb3" "$root/tmp/"
}

# in_root CMD...: run in the current root, with a clean environment and no
# terminal, as an unattended install would.
in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@" </dev/null
}

dpkg_i() { in_root dpkg "${@:2}" -i "/tmp/$(basename "$1")"; }
# shellcheck disable=SC2016 # dpkg-query's ${Field}, not the shell's
status() { in_root dpkg-query -W -f='${Status} ${Version}' voiced; }
# owner_mode PATH prints user:group mode as seen inside the root.
owner_mode() { in_root stat -c '%U:%G %a' "$1"; }
md5() { in_root md5sum "$1" | cut -d' ' -f1; }
absent() { [ ! -e "$root$1" ] && [ ! -L "$root$1" ]; }
present() { [ -e "$root$1" ]; }
member() { in_root id -nG voiced | tr ' ' '\n' | grep -qx "$1"; }

# conffile_registered PATH: dpkg lists PATH as a conffile with the md5sum of
# the file the package shipped.
conffile_registered() {
  local path=$1 sum
  sum=$(dpkg-deb --fsys-tarfile "$2" | tar -xO ".$path" | md5sum | cut -d' ' -f1)
  # shellcheck disable=SC2016 # dpkg-query's ${Field}, not the shell's
  in_root dpkg-query -W -f='${Conffiles}\n' voiced | grep -qx " $path $sum"
}

wants=/etc/systemd/system/multi-user.target.wants/voiced.service

check_installed() {
  local version=$1
  expect "dpkg status is installed $version" "install ok installed $version" status
  expect "/usr/bin/voiced root:root 755" "root:root 755" owner_mode /usr/bin/voiced
  check "voiced runs in the root (voiced version)" in_root /usr/bin/voiced version
  expect "voiced.service root:root 644" "root:root 644" owner_mode /lib/systemd/system/voiced.service
  expect "sysusers.d/voiced.conf root:root 644" "root:root 644" owner_mode /usr/lib/sysusers.d/voiced.conf
  expect "udev rule root:root 644" "root:root 644" owner_mode /lib/udev/rules.d/60-voiced-gpio.rules
  expect "/etc/voiced root:voiced 770" "root:voiced 770" owner_mode /etc/voiced
  expect "/etc/default/voiced root:root 600" "root:root 600" owner_mode /etc/default/voiced
  expect "/var/lib/voiced voiced:voiced 750" "voiced:voiced 750" owner_mode /var/lib/voiced
  expect "copyright root:root 644" "root:root 644" owner_mode /usr/share/doc/voiced/copyright
  expect "changelog.Debian.gz root:root 644" "root:root 644" owner_mode /usr/share/doc/voiced/changelog.Debian.gz
  expect "voiced(8) man page root:root 644" "root:root 644" owner_mode /usr/share/man/man8/voiced.8.gz
  check "unit enabled: $wants -> voiced.service" \
    test "$(readlink "$root$wants")" = /lib/systemd/system/voiced.service
}

check_user() {
  local pw uid
  pw=$(in_root getent passwd voiced)
  uid=$(echo "$pw" | cut -d: -f3)
  check "user voiced exists" test -n "$pw"
  check "user voiced is a system user (uid $uid < 1000)" test -n "$uid" -a "${uid:-1000}" -lt 1000
  expect "user voiced home and shell" "/var/lib/voiced:/usr/sbin/nologin" \
    sh -c "echo '$pw' | cut -d: -f6,7"
  check "group voiced exists" in_root getent group voiced
  check "group gpio exists" in_root getent group gpio
  check "voiced is in group audio" member audio
  check "voiced is in group gpio" member gpio
}

unit_checks() {
  # verify looks the Documentation= page up with the host's man.
  check "systemd-analyze verify on the installed unit" \
    env MANPATH="$root/usr/share/man" systemd-analyze verify --root="$root" /lib/systemd/system/voiced.service
  local score
  score=$(systemd-analyze security --offline=true --root="$root" voiced.service 2>&1 |
    sed -n 's/.*Overall exposure level for voiced.service: \([0-9.]*\).*/\1/p')
  check "systemd-analyze security exposure ${score:-?} <= 2.5" \
    systemd-analyze security --offline=true --threshold=25 --root="$root" voiced.service
}
