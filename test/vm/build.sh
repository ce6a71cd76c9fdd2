#!/usr/bin/env bash
# Build everything a guest boot needs, for each guest given (amd64, arm64: default both;
# systemd: the amd64 disk image of a Debian root with the voiced .deb, booted with systemd):
# the kernel to boot, gpio-sim.ko built out of tree for it, a base initramfs (busybox-static
# and the kernel modules) and an overlay (guest init, scenarios, payload binaries). Slow
# steps are cached under test/vm/.cache and keyed by content; a second run takes seconds.
# Writes .cache/ARCH/initrd.img and .cache/ARCH/boot.env (read by boot.sh).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "$0")/lib/common.sh"

# Modules the guest init itself needs (results share); scenario modules are in modules.txt.
BOOT_MODULES="virtio_pci 9pnet_virtio 9p"

# gpio_sim_src prints a directory holding gpio-sim.c, gpiolib.h and irq_sim.c from
# linux-source-6.1 of exactly $KVERSION (gpio-sim reaches into struct gpio_device).
gpio_sim_src() {
  local d=$CACHE/src/$KVERSION
  if [ ! -f "$d/irq_sim.c" ]; then
    local tarxz=/usr/src/linux-source-6.1.tar.xz tmp
    if [ "$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)" != "$KVERSION" ] || [ ! -f "$tarxz" ]; then
      local deb
      deb=$(fetch_deb linux-source-6.1 all "$KVERSION")
      tmp=$(mktemp -d "$TMPD/t.XXXXXX")
      dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ./usr/src/linux-source-6.1.tar.xz
      tarxz=$tmp/usr/src/linux-source-6.1.tar.xz
    fi
    log "extracting gpio-sim sources from linux-source-6.1 $KVERSION"
    mkdir -p "$d.part"
    tar -xJf "$tarxz" -C "$d.part" --strip-components=3 \
      linux-source-6.1/drivers/gpio/gpio-sim.c linux-source-6.1/drivers/gpio/gpiolib.h linux-source-6.1/kernel/irq/irq_sim.c
    rm -rf "${tmp:-/nonexistent}" "$d"
    mv "$d.part" "$d"
  fi
  echo "$d"
}

# build_gpio_sim KDIR OUT [make args...]: CONFIG_GPIO_SIM is not set in Debian's kernels, so
# gpio-sim is built as one module together with irq_sim.c (CONFIG_IRQ_SIM is not built in
# either); irq_sim.c's one call of the unexported irq_to_desc() becomes generic_handle_irq().
build_gpio_sim() {
  local kdir=$1 out=$2
  shift 2
  [ -f "$out/gpio-sim.ko" ] && return 0
  local src b
  src=$(gpio_sim_src)
  b=$(mktemp -d "$TMPD/t.XXXXXX")
  cp "$src/gpio-sim.c" "$b/gpio-sim-core.c"
  cp "$src/gpiolib.h" "$src/irq_sim.c" "$b/"
  sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$b/irq_sim.c"
  grep -q 'generic_handle_irq(irqnum);' "$b/irq_sim.c" || die "irq_sim.c in $KVERSION changed: the irq_to_desc patch no longer applies"
  printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-core.o irq_sim.o\n' >"$b/Kbuild"
  log "building gpio-sim.ko against $kdir"
  make -s -C "$kdir" M="$b" "$@" modules >"$b/build.log" 2>&1 || {
    cat "$b/build.log" >&2
    die "gpio-sim build failed"
  }
  mkdir -p "$out"
  cp "$b/gpio-sim.ko" "$out/gpio-sim.ko"
  rm -rf "$b"
}

# pvh_kernel BZIMAGE VMLINUX prints the kernel to boot: the uncompressed ELF inside the
# bzImage (Debian's amd64 kernels have CONFIG_PVH, so QEMU boots it directly), or the
# bzImage itself when that cannot be had. Under emulation the bzImage's own XZ
# decompressor takes seconds; xz on the host takes one.
pvh_kernel() {
  local bz=$1 out=$2 off
  if [ ! -f "$out" ]; then
    off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | head -1 | cut -d: -f1 || true)
    if [ -n "$off" ]; then
      mkdir -p "$(dirname "$out")"
      # xz stops at the end of the stream and complains about what follows it: expected.
      tail -c +$((off + 1)) "$bz" | xz -dc >"$out.part" 2>/dev/null || true
      if [ "$(head -c4 "$out.part" | od -An -c | tr -d ' ')" = '177ELF' ] && readelf -n "$out.part" 2>/dev/null | grep -q Xen; then
        mv "$out.part" "$out"
      else
        rm -f "$out.part"
      fi
    fi
  fi
  if [ -f "$out" ]; then echo "$out"; else
    log "booting the bzImage (no PVH ELF inside $bz)"
    echo "$bz"
  fi
}

# kernel_for ARCH sets SYSROOT (where /lib/modules/$KVER lives), KVER, KERNEL and builds GPIOSIM.
kernel_for() {
  case $1 in
  amd64)
    KVER=$KVER_HOST SYSROOT="" KERNEL=$(pvh_kernel "/boot/vmlinuz-$KVER_HOST" "$CACHE/amd64/$KVER_HOST/vmlinux")
    GPIOSIM=$CACHE/amd64/$KVER/gpio-sim
    build_gpio_sim "/usr/src/linux-headers-$KVER" "$GPIOSIM"
    ;;
  arm64)
    KVER=$KABI-arm64 SYSROOT=$CACHE/arm64/$KVER/root KERNEL=$SYSROOT/boot/vmlinuz-$KVER
    GPIOSIM=$CACHE/arm64/$KVER/gpio-sim
    if [ ! -f "$SYSROOT/lib/modules/$KVER/modules.dep" ]; then
      local img hdr
      img=$(fetch_deb "linux-image-$KVER" arm64 "$KVERSION")
      hdr=$(fetch_deb "linux-headers-$KVER" arm64 "$KVERSION")
      rm -rf "$SYSROOT"
      mkdir -p "$SYSROOT"
      dpkg-deb -x "$img" "$SYSROOT"
      dpkg-deb -x "$hdr" "$SYSROOT"
      depmod -b "$SYSROOT" "$KVER"
    fi
    # The arm64 headers use the host's kbuild tools and common headers, both of the same version.
    [ "$(dpkg-query -W -f='${Version}' linux-kbuild-6.1 2>/dev/null || true)" = "$KVERSION" ] ||
      die "linux-kbuild-6.1 $KVERSION is needed (apt-get install linux-headers-amd64)"
    local h=$SYSROOT/usr/src/linux-headers-$KVER
    ln -sfn /usr/lib/linux-kbuild-6.1/scripts "$h/scripts"
    ln -sfn /usr/lib/linux-kbuild-6.1/tools "$h/tools"
    command -v aarch64-linux-gnu-gcc-12 >/dev/null || die "aarch64-linux-gnu-gcc-12 is needed (apt-get install gcc-aarch64-linux-gnu)"
    build_gpio_sim "$h" "$GPIOSIM" CROSS_COMPILE=aarch64-linux-gnu-
    ;;
  *) die "unknown guest architecture $1 (amd64, arm64)" ;;
  esac
  [ -f "$KERNEL" ] || die "kernel $KERNEL missing"
}

# module_names ARCH lists the modules to stage: the boot ones and modules.txt's.
module_names() {
  echo "$BOOT_MODULES" | tr ' ' '\n'
  sed 's/#.*//' "$VM_DIR/modules.txt" | awk -v a="$1" 'NF && ($2 == "" || $2 == a) {print $1}'
}

# stage_modules ROOT MODULE...: copies the modules (gpio-sim from $GPIOSIM) with everything
# they depend on from $SYSROOT into ROOT/lib/modules/$KVER, uncompressed, and writes a
# modules.dep there, so busybox modprobe or libkmod finds them.
stage_modules() {
  local r=$1 m kind path rel dst deps
  shift
  deps=$(mktemp "$TMPD/deps.XXXXXX")
  mkdir -p "$r/lib/modules/$KVER"
  for m in "$@"; do
    [ "$m" = gpio-sim ] && {
      mkdir -p "$r/lib/modules/$KVER/extra"
      cp "$GPIOSIM/gpio-sim.ko" "$r/lib/modules/$KVER/extra/"
      continue
    }
    modprobe -d "${SYSROOT:-/}" -S "$KVER" --show-depends "$m" >"$deps" 2>&1 || {
      cat "$deps" >&2
      die "module $m not found for $KVER"
    }
    while read -r kind path _; do
      [ "$kind" = insmod ] || continue
      rel=${path#*/lib/modules/"$KVER"/}
      dst=$r/lib/modules/$KVER/$rel
      mkdir -p "$(dirname "$dst")"
      case $path in
      *.xz) xz -dc "$path" >"${dst%.xz}" ;;
      *.zst) zstd -qdc "$path" >"${dst%.zst}" ;;
      *) cp "$path" "$dst" ;;
      esac
    done <"$deps"
  done
  rm -f "$deps"
  cp "${SYSROOT}/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$r/lib/modules/$KVER/" 2>/dev/null || true
  depmod -b "$r" "$KVER"
}

# busybox_root DIR ARCH: the skeleton of an initramfs with busybox-static as /bin/busybox.
busybox_root() {
  local r=$1 bb
  bb=$(fetch_deb busybox-static "$2")
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,mnt,etc,results}
  dpkg-deb --fsys-tarfile "$bb" | tar -xO ./bin/busybox >"$r/bin/busybox"
  chmod 755 "$r/bin/busybox"
}

# cpio_of DIR OUT: DIR as an uncompressed newc archive (under emulation the guest kernel
# inflates gzip at a few MB/s).
cpio_of() {
  (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2.part"
  mv "$2.part" "$2"
}

# build_base ARCH: busybox-static and the modules (with dependencies and a modules.dep
# for busybox modprobe) as a cpio archive, cached by content.
build_base() {
  local arch=$1 bb key out r
  bb=$(fetch_deb busybox-static "$arch")
  key=$(content_key "$KVER" "$GPIOSIM/gpio-sim.ko" "$VM_DIR/modules.txt" "$bb" "$BOOT_MODULES" "$0")
  out=$CACHE/$arch/base-$key.cpio
  if [ ! -f "$out" ]; then
    log "building base initramfs for $arch ($KVER)"
    r=$(mktemp -d "$TMPD/t.XXXXXX")
    busybox_root "$r" "$arch"
    # shellcheck disable=SC2046 # one module name a word
    stage_modules "$r" $(module_names "$arch")
    cpio_of "$r" "$out"
    rm -rf "$r"
    find "$CACHE/$arch" -maxdepth 1 -name 'base-*.cpio*' ! -name "base-$key.cpio" -delete
  fi
  BASE=$out
}

# build_payload ARCH: static binaries and data files from payload.txt (packages that do not
# exist yet are left out; the scenarios that need them skip) into .cache/ARCH/payload.
build_payload() {
  local arch=$1 p=$CACHE/$1/payload name pkg how
  rm -rf "$p"
  mkdir -p "$p"
  while read -r name pkg how; do
    # A package not written yet (no Go files) is left out; its scenarios skip.
    if [ "$how" = file ]; then
      [ -f "$REPO_DIR/$pkg" ] || die "payload.txt: $pkg is not a file"
    else
      compgen -G "$REPO_DIR/$pkg/*.go" >/dev/null || continue
    fi
    case $how in
    test)
      (cd "$REPO_DIR" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch go test -c -o "$p/$name" "$pkg") ||
        die "go test -c $pkg for $arch failed"
      # no test files: go test -c writes nothing; the scenario skips
      if [ -d "$REPO_DIR/$pkg/testdata" ] && [ -f "$p/$name" ]; then
        mkdir -p "$p/$name.d"
        cp -r "$REPO_DIR/$pkg/testdata" "$p/$name.d/"
      fi
      ;;
    bin) (cd "$REPO_DIR" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -o "$p/$name" "$pkg") ||
      die "go build $pkg for $arch failed" ;;
    file) cp "$REPO_DIR/$pkg" "$p/$name" ;;
    *) die "payload.txt: unknown kind $how for $name" ;;
    esac
  done < <(sed 's/#.*//' "$VM_DIR/payload.txt" | awk 'NF == 3')
  log "payload for $arch: $(cd "$p" && echo *)"
}

# build_overlay ARCH: /init, the guest helpers, the scenarios and the payload, appended to
# the base archive (the kernel unpacks concatenated cpio archives in order).
build_overlay() {
  local arch=$1 r
  r=$(mktemp -d "$TMPD/t.XXXXXX")
  mkdir -p "$r/lib/vm" "$r/payload"
  cp "$VM_DIR/guest/init" "$r/init"
  chmod 755 "$r/init"
  cp "$VM_DIR/guest/vm.sh" "$r/lib/vm/vm.sh"
  cp -r "$VM_DIR/scenarios" "$r/scenarios"
  cp -r "$CACHE/$arch/payload/." "$r/payload/"
  (cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$CACHE/$arch/overlay.cpio"
  rm -rf "$r"
  cat "$BASE" "$CACHE/$arch/overlay.cpio" >"$CACHE/$arch/initrd.img"
  printf 'KVER=%q\nKVERSION=%q\nKERNEL=%q\nINITRD=%q\n' "$KVER" "$KVERSION" "$KERNEL" "$CACHE/$arch/initrd.img" >"$CACHE/$arch/boot.env"
}

# The systemd guest (amd64): Debian's kernel with a small initramfs that mounts a disk
# image of a Debian root and switches to systemd there. The root is packaging/test-deb.sh's
# debootstrap root (made once, shared) with udev and the loopback card's modules added
# (cached); the image adds the voiced .deb built from the current tree, installed with dpkg,
# its config and the test's units, every time.
SYSTEMD_INITRD_MODULES="virtio_pci virtio_blk ext4 9pnet_virtio 9p"
SYSTEMD_ROOT_MODULES="snd-aloop"
SYSTEMD_DIR=$VM_DIR/systemd

MOUNTED=()
# in_chroot ROOT CMD...: runs CMD in ROOT with /proc, a clean environment and no terminal,
# as an unattended install would.
in_chroot() {
  local r=$1 rc=0
  shift
  mount -t proc proc "$r/proc" || die "mounting /proc in $r failed"
  MOUNTED+=("$r/proc")
  chroot "$r" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@" </dev/null || rc=$?
  umount "$r/proc"
  return "$rc"
}

# systemd_root sets SROOT: the debootstrap root with udev (which gives /dev/snd to group
# audio, as on a real system) and the loopback card's modules, cached.
systemd_root() {
  local base sysver udev key
  base=$("$REPO_DIR/packaging/test-deb.sh" --base-root | tail -1) || die "packaging/test-deb.sh --base-root failed"
  [ -x "$base/lib/systemd/systemd" ] || die "$base has no systemd"
  # shellcheck disable=SC2016 # dpkg-query's ${Field}, not the shell's
  sysver=$(chroot "$base" dpkg-query -W -f='${Version}' systemd) || die "no systemd package in $base"
  # udev must be systemd's own version; an archive that moved on needs a new root.
  local hint=$FETCH_HINT
  FETCH_HINT="remove $base (packaging/test-deb.sh makes a new one) when Debian no longer has systemd $sysver"
  udev=$(fetch_deb udev amd64 "$sysver")
  FETCH_HINT=$hint
  key=$(content_key "$base" "$(stat -c %Y "$base/.complete")" "$udev" "$KVER" "$SYSTEMD_ROOT_MODULES" "$0")
  SROOT=$CACHE/systemd/root-$key
  [ -f "$SROOT/.complete" ] && return 0
  log "preparing the systemd guest's root from $base (udev $sysver, modules $SYSTEMD_ROOT_MODULES)"
  rm -rf --one-file-system "$SROOT.part"
  cp -a "$base" "$SROOT.part"
  rm -f "$SROOT.part/.complete"
  cp "$udev" "$SROOT.part/tmp/udev.deb"
  in_chroot "$SROOT.part" dpkg -i /tmp/udev.deb >"$TMPD/udev.log" 2>&1 || {
    cat "$TMPD/udev.log" >&2
    die "installing udev into the root failed"
  }
  rm -f "$SROOT.part/tmp/udev.deb"
  # shellcheck disable=SC2086 # one module name a word
  stage_modules "$SROOT.part" $SYSTEMD_ROOT_MODULES
  touch "$SROOT.part/.complete"
  mv "$SROOT.part" "$SROOT"
  find "$CACHE/systemd" -maxdepth 1 -name 'root-*' ! -name "root-$key" -exec rm -rf --one-file-system {} +
}

# systemd_deb sets DEB: the amd64 .deb of the current tree, the way `make deb` makes it
# (make build-all for amd64 into dist/, then packaging/build-deb.sh).
systemd_deb() {
  local v d=$CACHE/systemd/deb
  v=$(git -C "$REPO_DIR" describe --tags --always --dirty) || die "git describe failed in $REPO_DIR"
  make -s -C "$REPO_DIR" build-all PLATFORMS=linux/amd64 VERSION="$v" >&2 || die "make build-all for amd64 failed"
  rm -rf "$d"
  mkdir -p "$d"
  "$REPO_DIR/packaging/build-deb.sh" -a amd64 -o "$d" "$v" >&2 || die "packaging/build-deb.sh failed"
  DEB=$(ls "$d"/voiced_*_amd64.deb)
}

# systemd_initrd sets SINITRD: busybox, the disk, ext4 and 9p modules, and systemd/init.
systemd_initrd() {
  local key r
  key=$(content_key "$KVER" "$(fetch_deb busybox-static amd64)" "$SYSTEMD_INITRD_MODULES" "$SYSTEMD_DIR/init" "$0")
  SINITRD=$CACHE/systemd/initrd-$key.cpio
  [ -f "$SINITRD" ] && return 0
  log "building the systemd guest's initramfs ($KVER)"
  r=$(mktemp -d "$TMPD/t.XXXXXX")
  busybox_root "$r" amd64
  # shellcheck disable=SC2086 # one module name a word
  stage_modules "$r" $SYSTEMD_INITRD_MODULES
  cp "$SYSTEMD_DIR/init" "$r/init"
  chmod 755 "$r/init"
  cpio_of "$r" "$SINITRD"
  rm -rf "$r"
  find "$CACHE/systemd" -maxdepth 1 -name 'initrd-*.cpio' ! -name "initrd-$key.cpio" -delete
}

# systemd_image: a copy of the root, the .deb installed with dpkg, the guest's config and
# the test's units, made into an ext4 image with mke2fs -d (no loop mount).
systemd_image() {
  local r=$TMPD/sysroot img=$CACHE/systemd/root.ext4 u=$SYSTEMD_DIR/units size
  cp -a "$SROOT" "$r"
  rm -f "$r/.complete"
  cp "$DEB" "$r/tmp/voiced.deb"
  in_chroot "$r" dpkg -i /tmp/voiced.deb >"$TMPD/dpkg.log" 2>&1 || {
    cat "$TMPD/dpkg.log" >&2
    die "dpkg -i $(basename "$DEB") failed"
  }
  rm -f "$r/tmp/voiced.deb"
  # The config, as an admin would edit it: cp keeps the packaged owner and mode.
  cp "$SYSTEMD_DIR/voiced.yaml" "$r/etc/voiced/voiced.yaml"
  in_chroot "$r" voiced check --config /etc/voiced/voiced.yaml >"$TMPD/check.log" 2>&1 ||
    {
      cat "$TMPD/check.log" >&2
      die "voiced check refuses test/vm/systemd/voiced.yaml"
    }
  install -D -m 0644 "$u/voiced-vm.conf" "$r/etc/systemd/system/voiced.service.d/voiced-vm.conf"
  install -m 0644 "$u/voiced-sim.service" "$u/voiced-vm-check.service" "$r/etc/systemd/system/"
  ln -sf ../voiced-sim.service "$r/etc/systemd/system/multi-user.target.wants/voiced-sim.service"
  ln -sf ../voiced-vm-check.service "$r/etc/systemd/system/multi-user.target.wants/voiced-vm-check.service"
  install -D -m 0755 "$u/voiced-vm-break" "$r/etc/systemd/system-generators/voiced-vm-break"
  install -D -m 0755 "$SYSTEMD_DIR/check" "$r/usr/local/lib/voiced-vm/check"
  install -D -m 0644 "$u/snd-aloop.conf" "$r/etc/modprobe.d/snd-aloop.conf"
  install -d "$r/etc/modules-load.d" "$r/mnt/results"
  echo snd-aloop >"$r/etc/modules-load.d/snd-aloop.conf"
  # What a test machine does without and what only slows an emulated boot down: login
  # prompts on the virtual consoles (the serial console keeps one), e2scrub's cleanup.
  for m in getty-static.service getty@.service e2scrub_reap.service; do ln -sf /dev/null "$r/etc/systemd/system/$m"; done
  echo voiced-vm >"$r/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 voiced-vm\n' >"$r/etc/hosts"
  # Room for the journal and the daemon's state beside what is there.
  size=$(($(du -sm "$r" | cut -f1) + 256))
  rm -f "$img.part"
  truncate -s "${size}M" "$img.part"
  mke2fs -q -F -t ext4 -L voiced-root -d "$r" "$img.part" >"$TMPD/mke2fs.log" 2>&1 ||
    {
      cat "$TMPD/mke2fs.log" >&2
      die "mke2fs -d failed"
    }
  mv "$img.part" "$img"
  rm -rf --one-file-system "$r"
  IMAGE=$img
}

build_systemd() {
  mkdir -p "$CACHE/systemd"
  kernel_for amd64
  systemd_initrd
  systemd_root
  systemd_deb
  systemd_image
  printf 'KVER=%q\nKVERSION=%q\nKERNEL=%q\nINITRD=%q\nIMAGE=%q\nDEB=%q\n' "$KVER" "$KVERSION" "$KERNEL" "$SINITRD" "$IMAGE" "$DEB" >"$CACHE/systemd/boot.env"
}

TMPD=$(mktemp -d "$CACHE/tmp.XXXXXX")
cleanup() {
  local m
  for m in "${MOUNTED[@]}"; do umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$TMPD"
}
trap cleanup EXIT
host_kernel
# Old kernel versions leave the archive after a while; the host's kernel then has to move on.
FETCH_HINT="if Debian no longer has $KVERSION: apt-get update && apt-get install linux-image-amd64 linux-headers-amd64 linux-source-6.1"
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(amd64 arm64)
for a in "${archs[@]}"; do
  t0=$(date +%s.%N)
  if [ "$a" = systemd ]; then
    build_systemd
    log "systemd guest ready: $KVER, $(basename "$DEB") in $(du -h --apparent-size "$IMAGE" | cut -f1) of image, built in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
    continue
  fi
  mkdir -p "$CACHE/$a"
  kernel_for "$a"
  build_base "$a"
  build_payload "$a"
  build_overlay "$a"
  log "$a ready: $KVER ($KVERSION), initrd $(du -h "$CACHE/$a/initrd.img" | cut -f1), built in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
done
