# shellcheck shell=bash disable=SC2034 # REPO_DIR, KABI and others are for the scripts that source this file
# Shared by the test/vm host scripts (sourced, bash). Finds the Debian kernel to boot,
# fetches .debs into the cache with a private apt state, and keeps paths in one place.
# shellcheck shell=bash

# Functions run inside $(...) stop at their first failure too.
shopt -s inherit_errexit

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$VM_DIR/../.." && pwd)
CACHE=${VOICED_VM_CACHE:-$VM_DIR/.cache}
mkdir -p "$CACHE"

die() {
  echo "test/vm: $*" >&2
  exit 1
}
log() { echo "test/vm: $*" >&2; }

# host_kernel sets KVER_HOST (e.g. 6.1.0-56-amd64), KABI (6.1.0-56) and KVERSION (the Debian
# package version, e.g. 6.1.192-2). The newest installed amd64 kernel with its headers wins;
# the ABI number changes with security updates, so it is never written down anywhere.
host_kernel() {
  local k
  KVER_HOST=""
  for k in $(printf '%s\n' /lib/modules/*-amd64 | sed 's|.*/||' | sort -rV); do
    if [ -f "/boot/vmlinuz-$k" ] && [ -d "/usr/src/linux-headers-$k" ]; then
      KVER_HOST=$k
      break
    fi
  done
  [ -n "$KVER_HOST" ] || die "no Debian amd64 kernel with headers installed (apt-get install linux-image-amd64 linux-headers-amd64)"
  KABI=${KVER_HOST%-amd64}
  KVERSION=$(dpkg-query -W -f='${Version}' "linux-image-$KVER_HOST") ||
    die "linux-image-$KVER_HOST is not a dpkg package"
  local hv
  hv=$(dpkg-query -W -f='${Version}' "linux-headers-$KVER_HOST" 2>/dev/null || true)
  [ "$hv" = "$KVERSION" ] || die "linux-headers-$KVER_HOST is $hv but linux-image-$KVER_HOST is $KVERSION: install matching versions"
}

# Private apt state: arm64 packages are downloaded (never installed) without adding a
# foreign architecture to the host's dpkg.
APT_DIR=$CACHE/apt
apt_opts() {
  printf '%s\n' -q -o "APT::Architectures::=$(dpkg --print-architecture)" -o APT::Architectures::=arm64 \
    -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache" \
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root
}
apt_update() {
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
  local opts
  mapfile -t opts < <(apt_opts)
  log "apt-get update (private lists for amd64+arm64 in $APT_DIR)"
  apt-get "${opts[@]}" update >"$APT_DIR/update.log" 2>&1 || {
    cat "$APT_DIR/update.log" >&2
    die "apt-get update failed"
  }
  touch "$APT_DIR/updated"
}

# fetch_deb PKG ARCH [VERSION] prints the path of PKG_VERSION_ARCH.deb in the cache,
# downloading it with apt-get download when it is not there yet.
fetch_deb() {
  local pkg=$1 arch=$2 ver=${3:-} d=$CACHE/debs f
  mkdir -p "$d"
  local vpat='*'
  [ -n "$ver" ] && vpat=${ver//:/%3a}
  # shellcheck disable=SC2086,SC2012 # vpat is a glob; names of Debian packages have no blanks
  f=$(ls $d/${pkg}_${vpat}_${arch}.deb 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$f" ]; then
    local opts spec=$pkg:$arch
    [ -n "$ver" ] && spec="$spec=$ver"
    [ -f "$APT_DIR/updated" ] || apt_update
    mapfile -t opts < <(apt_opts)
    log "apt-get download $spec"
    # Into a directory of its own first, so an interrupted download leaves no half .deb.
    local tmp
    tmp=$(mktemp -d "$d/.dl.XXXXXX")
    if ! (cd "$tmp" && apt-get "${opts[@]}" download "$spec" >/dev/null 2>"$tmp/.err"); then
      apt_update
      (cd "$tmp" && apt-get "${opts[@]}" download "$spec" >/dev/null 2>"$tmp/.err") ||
        {
          cat "$tmp/.err" >&2
          rm -rf "$tmp"
          die "cannot download $spec${FETCH_HINT:+ ($FETCH_HINT)}"
        }
    fi
    mv "$tmp"/*.deb "$d/"
    rm -rf "$tmp"
    # shellcheck disable=SC2086,SC2012 # as above
    f=$(ls $d/${pkg}_${vpat}_${arch}.deb | sort -V | tail -1)
  fi
  echo "$f"
}

# Content key of files and strings, for cache entries that must change when an input does.
content_key() {
  local x
  for x in "$@"; do
    if [ -f "$x" ]; then sha256sum "$x"; else echo "$x"; fi
  done | sha256sum | cut -c1-16
}
