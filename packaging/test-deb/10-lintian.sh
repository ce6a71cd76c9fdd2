# shellcheck shell=bash
# shellcheck disable=SC2154 # root, work, deb1..3, v1..3 come from test-deb.sh and lib.sh
# lintian on the three packages.

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
