# shellcheck shell=bash
# shellcheck disable=SC2154 # root, work, deb1..3, v1..3 come from test-deb.sh and lib.sh
# Scenario plain: no systemd running.

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

scenario_plain
