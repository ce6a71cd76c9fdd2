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
# Scenarios:
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

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap and chroot)"
for t in debootstrap dpkg-deb chroot mount; do
	command -v "$t" >/dev/null || die "$t is missing (apt-get install debootstrap dpkg-dev)"
done

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
{ cat "$work/voiced-v1.yaml"; echo "# a line added in $v3"; } >"$work/voiced-v3.yaml"
DEB_VERSION=$v2 "$here/build-deb.sh" -a amd64 -o "$work/debs" -c "$work/voiced-v1.yaml" test >/dev/null ||
	die "building $v2 failed"
DEB_VERSION=$v3 "$here/build-deb.sh" -a amd64 -o "$work/debs" -c "$work/voiced-v3.yaml" test >/dev/null ||
	die "building $v3 failed"
deb2="$work/debs/voiced_${v2}_amd64.deb"
deb3="$work/debs/voiced_${v3}_amd64.deb"

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

scenario_plain() {
	echo "== scenario plain: no systemd running ($v1)"
	new_root plain
	check "dpkg -i $v1 (fresh install)" dpkg_i "$deb1"
	check_installed "$v1"
	check_user
	check "conffile registered: /etc/voiced/voiced.yaml" conffile_registered /etc/voiced/voiced.yaml "$deb1"
	check "conffile registered: /etc/default/voiced" conffile_registered /etc/default/voiced "$deb1"
	expect "/etc/voiced/voiced.yaml root:voiced 640" "root:voiced 640" owner_mode /etc/voiced/voiced.yaml
	# Compared with the package, not the work tree, which may have moved on.
	check "installed voiced.yaml is the packaged one" \
		cmp <(dpkg-deb --fsys-tarfile "$deb1" | tar -xO ./etc/voiced/voiced.yaml) "$root/etc/voiced/voiced.yaml"
	check "the conffile is the example in /usr/share/doc/voiced/examples" \
		cmp "$root/etc/voiced/voiced.yaml" "$root/usr/share/doc/voiced/examples/voiced.yaml"
	check "the conffile is the full example config (over 50 lines)" \
		test "$(wc -l <"$root/etc/voiced/voiced.yaml")" -gt 50
	unit_checks

	# The user edits the config and the key; the daemon keeps state.
	sed -i 's/^mode: .*/mode: push_to_talk/' "$root/etc/voiced/voiced.yaml"
	echo "# edited by the test" >>"$root/etc/voiced/voiced.yaml"
	echo "VOICED_API_KEY=test-key" >>"$root/etc/default/voiced"
	echo state >"$root/var/lib/voiced/state"
	local cfg key
	cfg=$(md5 /etc/voiced/voiced.yaml)
	key=$(md5 /etc/default/voiced)

	echo "== upgrade to $v2 (packaged config unchanged), plain dpkg -i, no terminal"
	check "dpkg -i $v2 over $v1 without prompting" dpkg_i "$deb2"
	check_installed "$v2"
	expect "edited voiced.yaml kept" "$cfg" md5 /etc/voiced/voiced.yaml
	expect "edited /etc/default/voiced kept" "$key" md5 /etc/default/voiced
	expect "voiced.yaml still root:voiced 640" "root:voiced 640" owner_mode /etc/voiced/voiced.yaml
	check "no voiced.yaml.dpkg-dist or .dpkg-new" absent_both
	check "state in /var/lib/voiced kept" test -f "$root/var/lib/voiced/state"

	echo "== upgrade to $v3 (packaged config changed), dpkg --force-confdef --force-confold"
	check "dpkg -i $v3 over $v2 keeps the old config" dpkg_i "$deb3" --force-confdef --force-confold
	expect "dpkg status is installed $v3" "install ok installed $v3" status
	expect "edited voiced.yaml kept" "$cfg" md5 /etc/voiced/voiced.yaml
	check "new packaged config left as voiced.yaml.dpkg-dist" \
		cmp "$work/voiced-v3.yaml" "$root/etc/voiced/voiced.yaml.dpkg-dist"
	rm -f "$root/etc/voiced/voiced.yaml.dpkg-dist"

	echo "== remove"
	check "dpkg -r voiced" in_root dpkg -r voiced
	expect "dpkg status is config-files" "deinstall ok config-files $v3" status
	check "/usr/bin/voiced removed" absent /usr/bin/voiced
	check "voiced.service removed" absent /lib/systemd/system/voiced.service
	expect "voiced.yaml kept after remove" "$cfg" md5 /etc/voiced/voiced.yaml
	expect "/etc/default/voiced kept after remove" "$key" md5 /etc/default/voiced
	check "state in /var/lib/voiced kept after remove" test -f "$root/var/lib/voiced/state"

	echo "== purge"
	# Something the daemon could leave beside the config (an interrupted save).
	echo partial >"$root/etc/voiced/.voiced.yaml.tmp"
	check "dpkg -P voiced" in_root dpkg -P voiced
	check "dpkg no longer knows voiced" sh -c "! chroot '$root' dpkg-query -W -f='\${Status}' voiced 2>/dev/null | grep -q ."
	check "/etc/voiced removed" absent /etc/voiced
	check "/etc/default/voiced removed" absent /etc/default/voiced
	check "/var/lib/voiced (user data) removed" absent /var/lib/voiced
	check "enable symlink removed" absent "$wants"
	check "no mask left (/etc/systemd/system/voiced.service)" absent /etc/systemd/system/voiced.service
	check "deb-systemd-helper state removed" \
		sh -c "! ls '$root/var/lib/systemd/deb-systemd-helper-enabled' 2>/dev/null | grep -q voiced"
	check "no file of the package left" sh -c \
		"! find '$root/usr' '$root/lib' '$root/etc' '$root/var/lib' -name '*voiced*' | grep ."
	check "user voiced kept after purge (Debian keeps system users)" in_root getent passwd voiced
}

absent_both() { absent /etc/voiced/voiced.yaml.dpkg-dist && absent /etc/voiced/voiced.yaml.dpkg-new; }

# A systemctl that logs its arguments, plays a running systemd for the
# runtime verbs (active state from start/stop) and leaves the others (preset,
# is-enabled, which work offline) to the real one: deb-systemd-helper and
# deb-systemd-invoke then act as on a booted system.
fake_systemd() {
	mkdir -p "$root/run/systemd/system"
	cat >"$root/usr/local/sbin/systemctl" <<'EOF'
#!/bin/sh
echo "$*" >>/tmp/systemctl.log
unit=""
for a in "$@"; do
	case $a in *.service) unit=$a ;; esac
done
case " $* " in
*" daemon-reload "*) ;;
*" is-active "*) [ -e "/run/fake-active-$unit" ] ;;
*" start "* | *" restart "*) touch "/run/fake-active-$unit" ;;
*" stop "*) rm -f "/run/fake-active-$unit" ;;
# With /run/systemd/system there, only --root keeps these off the bus.
*" is-enabled "*) exec /usr/bin/systemctl --root=/ "$@" ;;
*) exec /usr/bin/systemctl "$@" ;;
esac
EOF
	chmod 0755 "$root/usr/local/sbin/systemctl"
}

# logged WORD: systemctl was asked to WORD voiced.service since the last reset.
logged() { grep -Eq "(^| )$1 (.* )?voiced\.service( |\$)" "$root/tmp/systemctl.log"; }
active() { [ -e "$root/run/fake-active-voiced.service" ]; }
reset_log() { : >"$root/tmp/systemctl.log"; }

scenario_systemd() {
	echo "== scenario systemd: a running systemd (logging systemctl)"
	new_root systemd
	fake_systemd
	reset_log
	check "dpkg -i $v1" dpkg_i "$deb1"
	check "install reloads systemd" grep -q 'daemon-reload' "$root/tmp/systemctl.log"
	check "install starts voiced.service" logged start
	check "voiced.service is active" active
	reset_log
	check "dpkg -i $v2 (upgrade)" dpkg_i "$deb2"
	check "upgrade restarts voiced.service" logged restart
	check "upgrade does not stop voiced.service first" sh -c "! grep -Eq '(^| )stop ' '$root/tmp/systemctl.log'"
	reset_log
	check "dpkg -r voiced" in_root dpkg -r voiced
	check "remove stops voiced.service" logged stop
	check "voiced.service is inactive" sh -c "! [ -e '$root/run/fake-active-voiced.service' ]"
	reset_log
	check "dpkg -i $v2 (reinstall after remove)" dpkg_i "$deb2"
	check "reinstall enables the unit again" \
		test "$(readlink "$root$wants")" = /lib/systemd/system/voiced.service
	# From config-files dpkg passes the old version, so this is a restart,
	# which starts a stopped unit.
	check "reinstall starts voiced.service" active
	# The admin disables it: an upgrade keeps it disabled.
	in_root /usr/bin/systemctl --root=/ disable voiced.service >/dev/null 2>&1
	reset_log
	check "dpkg -i $v3 with the unit disabled" dpkg_i "$deb3" --force-confdef --force-confold
	check "a disabled unit stays disabled on upgrade" absent "$wants"
	check "dpkg -P voiced" in_root dpkg -P voiced
}

scenario_adduser() {
	echo "== scenario adduser: no systemd-sysusers"
	new_root adduser
	in_root dpkg-divert --quiet --rename --divert /usr/bin/systemd-sysusers.hidden /usr/bin/systemd-sysusers ||
		die "hiding systemd-sysusers failed"
	check "systemd-sysusers is hidden" absent /usr/bin/systemd-sysusers
	check "dpkg -i $v1" dpkg_i "$deb1"
	check_user
	expect "/etc/voiced/voiced.yaml root:voiced 640" "root:voiced 640" owner_mode /etc/voiced/voiced.yaml
	check "dpkg -i $v2 (upgrade, user already there)" dpkg_i "$deb2"
	check "dpkg -P voiced" in_root dpkg -P voiced
}

# The probe runs inside the booted container once voiced.service has had its
# chance to start, and writes key=value lines for the checks below.
write_probe() {
	cat >"$root/usr/local/sbin/voiced-probe" <<'EOF'
#!/bin/bash
out=/probe.txt
show() { systemctl show voiced.service -p "$1" --value; }
for _ in $(seq 30); do
	[ "$(show ActiveState)" = active ] && break
	sleep 1
done
pid=$(show MainPID)
{
	echo "active=$(show ActiveState)/$(show SubState)"
	echo "status=$(show StatusText)"
	echo "user=$(ps -o user= -p "$pid")"
	echo "groups=$(ps -o supgrp= -p "$pid")"
	echo "capeff=$(awk '/^CapEff/ {print $2}' "/proc/$pid/status")"
	echo "nonewprivs=$(awk '/^NoNewPrivs/ {print $2}' "/proc/$pid/status")"
	echo "seccomp=$(awk '/^Seccomp:/ {print $2}' "/proc/$pid/status")"
	# Mount options the daemon sees: / read-only, /etc/voiced writable, /home hidden.
	echo "mount_root=$(awk '$5 == "/" {split($6, o, ","); print o[1]}' "/proc/$pid/mountinfo" | tail -1)"
	echo "mount_etc_voiced=$(awk '$5 == "/etc/voiced" {split($6, o, ","); print o[1]}' "/proc/$pid/mountinfo" | tail -1)"
	echo "mount_home=$(awk '$5 == "/home"' "/proc/$pid/mountinfo" | wc -l)"
	# The HTTP config save: temp file and rename in /etc/voiced.
	body='{"vad":{"sensitivity":3}}'
	if exec 3<>/dev/tcp/127.0.0.1/8088; then
		printf 'PATCH /v1/config HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "${#body}" "$body" >&3
		echo "patch=$(head -1 <&3 | tr -d '\r')"
		exec 3<&-
	else
		echo "patch=no connection"
	fi
	echo "saved=$(grep -c '^ *sensitivity: 3' /etc/voiced/voiced.yaml)"
	echo "saved_owner=$(stat -c '%U:%G %a' /etc/voiced/voiced.yaml)"
	systemctl reload voiced.service
	echo "reload=$?"
	sleep 2
	echo "after_reload=$(show ActiveState) pid_same=$([ "$(show MainPID)" = "$pid" ] && echo yes || echo no)"
	# Past WatchdogSec (5 s in this test's drop-in): the daemon's keep-alives reach systemd.
	sleep 12
	echo "after_watchdog=$(show ActiveState) restarts=$(show NRestarts) pid_same=$([ "$(show MainPID)" = "$pid" ] && echo yes || echo no)"
	# A hung daemon: frozen with SIGSTOP, it stops feeding the watchdog; systemd aborts
	# and restarts it.
	kill -STOP "$pid"
	for _ in $(seq 40); do
		sleep 1
		npid=$(show MainPID)
		[ "$(show ActiveState)" = active ] && [ "$npid" != "$pid" ] && [ "$npid" != 0 ] && break
	done
	echo "after_hang=$(show ActiveState) restarts=$(show NRestarts) pid_new=$([ "$(show MainPID)" != "$pid" ] && echo yes || echo no)"
	echo "hang_reason=$(journalctl -u voiced.service --no-pager | grep -c -i watchdog)"
	systemctl stop voiced.service
	echo "stopped=$(show ActiveState) result=$(show Result)"
	echo "journal_begin"
	journalctl -u voiced.service --no-pager -n 30
} >"$out" 2>&1
systemctl poweroff
EOF
	chmod 0755 "$root/usr/local/sbin/voiced-probe"
	cat >"$root/etc/systemd/system/voiced-probe.service" <<'EOF'
[Unit]
Description=voiced install test probe
After=voiced.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/voiced-probe
EOF
	ln -s /etc/systemd/system/voiced-probe.service "$root/etc/systemd/system/multi-user.target.wants/voiced-probe.service"
	# The container has no sound card or GPIO chip: WAV files stand in, the
	# sandbox stays as packaged.
	mkdir -p "$root/etc/systemd/system/voiced.service.d"
	cat >"$root/etc/systemd/system/voiced.service.d/test.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=/usr/bin/voiced run --config /etc/voiced/voiced.yaml --set audio.capture.device=file:/var/lib/voiced/in.wav --set audio.playback.device=file:/var/lib/voiced/out.wav --set gpio.enabled=false
WatchdogSec=5
EOF
	# One minute of silence, 16 kHz mono PCM16 WAV.
	local n=$((16000 * 2 * 60))
	{
		printf 'RIFF'; le32 $((36 + n)); printf 'WAVEfmt '; le32 16; le16 1; le16 1
		le32 16000; le32 32000; le16 2; le16 16; printf 'data'; le32 "$n"
		head -c "$n" /dev/zero
	} >"$root/var/lib/voiced/in.wav"
	in_root chown voiced:voiced /var/lib/voiced/in.wav
}

# shellcheck disable=SC2059 # the format is the bytes being written
le16() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))"; }
le32() { le16 $(($1 & 65535)); le16 $(($1 >> 16 & 65535)); }

# probe KEY: the value the probe wrote for KEY.
probe() { sed -n "s/^$1=//p" "$root/probe.txt" | head -1; }

scenario_boot() {
	echo "== scenario boot: the installed unit under systemd (systemd-nspawn)"
	if ! command -v systemd-nspawn >/dev/null; then
		echo "SKIP boot scenario: systemd-nspawn is not installed (apt-get install systemd-container)"
		return
	fi
	new_root boot
	check "dpkg -i $v1" dpkg_i "$deb1"
	write_probe
	umount -l "$root/proc"
	timeout 180 systemd-nspawn -q --register=no --keep-unit -D "$root" -b --console=pipe \
		</dev/null >"$work/boot-console.log" 2>&1
	if [ ! -s "$root/probe.txt" ]; then
		fail "the container booted and the probe ran" "$(tail -20 "$work/boot-console.log")"
		return
	fi
	expect "voiced.service active (running) after boot (READY=1)" "active/running" probe active
	check "status text reported (STATUS=): $(probe status)" test -n "$(probe status)"
	expect "runs as user voiced" "voiced" probe user
	check "supplementary groups audio and gpio ($(probe groups))" \
		sh -c "echo '$(probe groups)' | tr ',' '\n' | grep -qx audio && echo '$(probe groups)' | tr ',' '\n' | grep -qx gpio"
	expect "no effective capabilities" "0000000000000000" probe capeff
	expect "no new privileges" "1" probe nonewprivs
	expect "system call filter on (seccomp mode 2)" "2" probe seccomp
	expect "/ is read-only for the daemon" "ro" probe mount_root
	expect "/etc/voiced is writable for the daemon" "rw" probe mount_etc_voiced
	check "/home is hidden from the daemon (mounted over)" test "$(probe mount_home)" -gt 0
	check "PATCH /v1/config answered 2xx ($(probe patch))" sh -c "echo '$(probe patch)' | grep -q '^HTTP/1.1 2'"
	expect "config saved into /etc/voiced/voiced.yaml" "1" probe saved
	check "saved config not readable by others ($(probe saved_owner))" \
		sh -c "echo '$(probe saved_owner)' | grep -Eq ' 6[40]0\$'"
	expect "systemctl reload succeeds" "0" probe reload
	expect "still running, same process, after reload" "active pid_same=yes" probe after_reload
	expect "watchdog fed: running past WatchdogSec without a restart" "active restarts=0 pid_same=yes" probe after_watchdog
	expect "a hung daemon (SIGSTOP) is caught by the watchdog and restarted" "active restarts=1 pid_new=yes" probe after_hang
	check "the journal names the watchdog ($(probe hang_reason) lines)" test "$(probe hang_reason)" -gt 0
	expect "stops cleanly" "inactive result=success" probe stopped
	if [ "$failed" -gt 0 ]; then
		sed -n '/^journal_begin/,$p' "$root/probe.txt" | sed 's/^/     | /'
	fi
}

# lintian on the three packages make deb built: no tag left that is not
# overridden with a reason (packaging/debian/lintian-overrides).
lint() {
	echo "== lintian"
	if ! command -v lintian >/dev/null; then
		fail "lintian is installed (apt-get install lintian)"
		return
	fi
	local arch deb out
	for arch in amd64 arm64 armhf; do
		deb="$(dirname "$deb1")/voiced_${v1}_$arch.deb"
		if [ ! -f "$deb" ]; then
			fail "lintian $(basename "$deb"): the package is missing (make deb)"
			continue
		fi
		out=$(lintian -EIL +pedantic --fail-on error,warning,info,pedantic "$deb" 2>&1 && echo "lintian: ok")
		out=$(grep -v 'running with root privileges' <<<"$out")
		if grep -qx 'lintian: ok' <<<"$out" && ! grep -q '^[EWIPX]:' <<<"$out"; then
			pass "lintian $(basename "$deb"): clean"
		else
			fail "lintian $(basename "$deb"): clean" "$out"
		fi
	done
}

lint
scenario_plain
scenario_systemd
scenario_adduser
scenario_boot

# The roots are kept for a look when something failed.
if [ "$failed" -eq 0 ]; then
	cleanup
	mounted=()
	rm -rf "$work"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
