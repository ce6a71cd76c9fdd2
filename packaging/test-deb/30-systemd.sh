# shellcheck shell=bash
# shellcheck disable=SC2154 # root, work, deb1..3, v1..3 come from test-deb.sh and lib.sh
# Scenario systemd: a running systemd, played by a logging systemctl.

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

scenario_systemd
