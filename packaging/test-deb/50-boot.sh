# shellcheck shell=bash
# shellcheck disable=SC2154 # root, work, deb1..3, v1..3 come from test-deb.sh and lib.sh
# Scenario boot: the installed unit under systemd in systemd-nspawn.

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
    printf 'RIFF'
    le32 $((36 + n))
    printf 'WAVEfmt '
    le32 16
    le16 1
    le16 1
    le32 16000
    le32 32000
    le16 2
    le16 16
    printf 'data'
    le32 "$n"
    head -c "$n" /dev/zero
  } >"$root/var/lib/voiced/in.wav"
  in_root chown voiced:voiced /var/lib/voiced/in.wav
}

# shellcheck disable=SC2059 # the format is the bytes being written
le16() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))"; }
le32() {
  le16 $(($1 & 65535))
  le16 $(($1 >> 16 & 65535))
}

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

scenario_boot
