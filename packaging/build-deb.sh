#!/usr/bin/env bash
# Build the voiced .deb packages from the binaries `make build-all` left in dist/.
#
#   packaging/build-deb.sh [-a ARCH]... [-o OUTDIR] [-c CONFIG] VERSION
#
# VERSION is `git describe --tags --always --dirty` output (what `make deb`
# passes): v1.2.3 -> 1.2.3-1, v1.2.3-4-gabc1234 -> 1.2.3+git4.abc1234-1,
# a bare commit abc1234 -> 0.0.0+git<commits>.abc1234-1, "-dirty" adds ".dirty"
# to the upstream part. DEB_VERSION in the environment, if set, is used as the
# complete Debian version instead. ARCH is a Debian architecture: amd64, arm64
# or armhf (the default is all three). Packages go to OUTDIR (default dist/) as
# voiced_<version>_<arch>.deb. CONFIG replaces examples/voiced.yaml as the
# shipped /etc/voiced/voiced.yaml (the install test uses it). Only Debian's own tools are used (dpkg-deb,
# gzip); nothing is downloaded.
set -euo pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
pkg=voiced

die() {
  echo "build-deb: $*" >&2
  exit 1
}

usage() { die "usage: build-deb.sh [-a amd64|arm64|armhf]... [-o OUTDIR] [-c CONFIG] VERSION"; }

archs=()
outdir="$top/dist"
config="$top/examples/voiced.yaml"
while getopts "a:o:c:" opt; do
  case $opt in
  a) archs+=("$OPTARG") ;;
  o) outdir=$OPTARG ;;
  c) config=$OPTARG ;;
  *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
describe=$1
[ ${#archs[@]} -gt 0 ] || archs=(amd64 arm64 armhf)

# debian_version turns `git describe` output into a Debian version with a
# package revision (-1): the revision makes this a non-native package, which
# is what a changelog.Debian.gz goes with.
debian_version() {
  local d=$1 up="" ahead=""
  case $d in *-dirty) d=${d%-dirty} ;; esac
  if [[ $d =~ ^(.+)-([0-9]+)-g([0-9a-f]+)$ ]]; then
    d=${BASH_REMATCH[1]}
    ahead="git${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
  fi
  # A tag is v1.2.3 or 1.2.3 (a pre-release v2.0.0-rc1 becomes 2.0.0~rc1,
  # which sorts before 2.0.0); a bare commit id (4f76734) has no "v" and no dot.
  if [[ $d =~ ^v?[0-9]+\.[0-9A-Za-z.-]*$ || $d =~ ^v[0-9]+$ ]]; then
    up=${d#v}
    up=${up//-/\~}
  elif [[ -z $ahead && $d =~ ^[0-9a-f]{7,40}$ ]]; then
    local n
    n=$(git -C "$top" rev-list --count HEAD 2>/dev/null) ||
      die "version $1 is a bare commit but git cannot count the commits of $top"
    up=0.0.0
    ahead="git$n.$d"
  else
    die "cannot make a Debian version from \"$1\": expected a tag like v1.2.3, v1.2.3-4-gabc1234 or a commit id (set DEB_VERSION to give one)"
  fi
  [ -z "$ahead" ] || up="$up+$ahead"
  case $1 in *-dirty) [[ $up == *+* ]] && up="$up.dirty" || up="$up+dirty" ;; esac
  echo "$up-1"
}

if [ -n "${DEB_VERSION:-}" ]; then
  version=$DEB_VERSION
  [[ $version =~ ^[0-9][0-9A-Za-z.+~]*(-[0-9A-Za-z.+~]+)?$ ]] ||
    die "DEB_VERSION=\"$version\" is not a valid Debian version"
else
  version=$(debian_version "$describe")
fi

# Reproducible dates: the last commit's time, unless the caller fixed one.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH
maintainer=${DEB_MAINTAINER:-"voiced maintainers <voiced-project@users.noreply.github.com>"}

# The conffile: the fully commented example config.
[ -f "$config" ] || die "$config is missing: it is the conffile the package ships"

# goarch_dir and elf_machine map a Debian architecture to the build-all output
# directory and to the ELF e_machine its binaries must have.
goarch_dir() {
  case $1 in
  amd64) echo linux-amd64 ;;
  arm64) echo linux-arm64 ;;
  armhf) echo linux-arm ;;
  *) die "unknown architecture \"$1\": expected amd64, arm64 or armhf" ;;
  esac
}
elf_machine() {
  case $1 in
  amd64) echo 003e ;;
  arm64) echo 00b7 ;;
  armhf) echo 0028 ;;
  esac
}

# check_elf refuses a binary built for another machine (a stale dist/).
check_elf() {
  local f=$1 arch=$2 magic machine
  magic=$(od -An -tx1 -N4 "$f" | tr -d ' \n')
  [ "$magic" = 7f454c46 ] || die "$f is not an ELF binary"
  machine=$(od -An -tx2 --endian=little -j18 -N2 "$f" | tr -d ' \n')
  [ "$machine" = "$(elf_machine "$arch")" ] ||
    die "$f has ELF machine 0x$machine, not the one for $arch (0x$(elf_machine "$arch")); rebuild with make build-all"
}

# man_gz installs a groff page compressed the Debian way (no name, no time).
man_gz() {
  install -d -m 0755 "$(dirname "$2")"
  gzip -9n <"$1" >"$2"
  chmod 0644 "$2"
}

changelog() {
  local date
  date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
  cat <<EOF
$pkg ($version) stable; urgency=medium

  * Package of voiced $describe.

 -- $maintainer  $date
EOF
}

build_one() {
  local arch=$1 bindir root deb size
  bindir="$top/dist/$(goarch_dir "$arch")"
  [ -x "$bindir/voiced" ] || die "$bindir/voiced is missing: run make build-all first"
  check_elf "$bindir/voiced" "$arch"

  root="$work/$arch"
  install -d -m 0755 "$root"

  install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" \
    "$root/usr/lib/sysusers.d" "$root/lib/udev/rules.d" "$root/etc/default" \
    "$root/usr/share/doc/$pkg" "$root/usr/share/lintian/overrides"
  install -m 0755 "$bindir/voiced" "$root/usr/bin/voiced"
  man_gz "$here/voiced.8" "$root/usr/share/man/man8/voiced.8.gz"
  if [ -x "$bindir/voiced-sim" ]; then
    check_elf "$bindir/voiced-sim" "$arch"
    install -m 0755 "$bindir/voiced-sim" "$root/usr/bin/voiced-sim"
    man_gz "$here/voiced-sim.1" "$root/usr/share/man/man1/voiced-sim.1.gz"
  else
    echo "build-deb: $bindir/voiced-sim is not there (no cmd/voiced-sim yet); packaging without it"
  fi

  install -m 0644 "$top/systemd/voiced.service" "$root/lib/systemd/system/voiced.service"
  install -m 0644 "$top/systemd/voiced.sysusers" "$root/usr/lib/sysusers.d/voiced.conf"
  install -m 0644 "$here/60-voiced-gpio.rules" "$root/lib/udev/rules.d/60-voiced-gpio.rules"

  # The config may hold the API key: group voiced (set by postinst), no
  # access for others. The directory is group-writable because the daemon
  # saves the config there (temp file + rename).
  install -d -m 0770 "$root/etc/voiced"
  install -m 0640 "$config" "$root/etc/voiced/voiced.yaml"
  install -m 0600 "$here/debian/voiced.default" "$root/etc/default/voiced"

  install -m 0644 "$here/debian/copyright" "$root/usr/share/doc/$pkg/copyright"
  # A saved config points here for every field with its meaning.
  install -d -m 0755 "$root/usr/share/doc/$pkg/examples"
  install -m 0644 "$top"/examples/*.yaml "$root/usr/share/doc/$pkg/examples/"
  changelog | gzip -9n >"$root/usr/share/doc/$pkg/changelog.Debian.gz"
  chmod 0644 "$root/usr/share/doc/$pkg/changelog.Debian.gz"
  # Overrides name their files; an override for a file not shipped is itself a warning.
  if [ -e "$root/usr/bin/voiced-sim" ]; then
    cat "$here/debian/lintian-overrides"
  else
    grep -v 'usr/bin/voiced-sim' "$here/debian/lintian-overrides"
  fi >"$root/usr/share/lintian/overrides/$pkg"
  chmod 0644 "$root/usr/share/lintian/overrides/$pkg"

  for s in postinst prerm postrm; do
    install -m 0755 "$here/debian/$s" "$root/DEBIAN/$s"
  done
  install -m 0644 "$here/debian/conffiles" "$root/DEBIAN/conffiles"

  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    -e "s|@MAINTAINER@|$maintainer|" "$here/debian/control.in" >"$root/DEBIAN/control"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum) >"$root/DEBIAN/md5sums"
  chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

  # Every file in the tree gets the commit's time, for reproducible packages.
  find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

  mkdir -p "$outdir"
  deb="$outdir/${pkg}_${version}_${arch}.deb"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
  echo "build-deb: $deb"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/voiced-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
for a in "${archs[@]}"; do
  build_one "$a"
done
