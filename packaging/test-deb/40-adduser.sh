# shellcheck shell=bash
# shellcheck disable=SC2154 # root, work, deb1..3, v1..3 come from test-deb.sh and lib.sh
# Scenario adduser: no systemd-sysusers, the adduser fallback.

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

scenario_adduser
