#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/mkroot-debian.sh OUTDIR
#
# Makes (once) the lab's Debian 12 root: debootstrap --variant=minbase from
# Debian's archive, plus systemd as init, udev, kmod and the lab kernel's own
# packages: linux-image-KVER (the kernel tests/lab/run boots, so that the
# root has its modules) and linux-headers-KVER (for DKMS), and gcc, make and
# libc6-dev (lab-volumes builds and runs a C program in this root as a
# microVM's root).  The result is OUTDIR/root; OUTDIR/root.stamp names
# what it was made from, and a root whose stamp matches is reused as is.
# OUTDIR/debs keeps the downloaded packages.  Callers that change the root
# copy it first (cp -a), so it stays pristine.
#
# Environment:
#   ALCATRAZ_DEBIAN_MIRROR       default http://deb.debian.org/debian
#   ALCATRAZ_DEBIAN_SECURITY     default http://deb.debian.org/debian-security
#   ALCATRAZ_LAB_KERNEL_VERSION  the lab kernel (default: as tests/lab/run)
#
# Prints the time each step took.  Exit status 0, or 1 with one line saying
# what failed (a missing package on the host, the archive unreachable, ...).
set -u -o pipefail
die() { echo "mkroot-debian.sh: error: $*" >&2; exit 1; }
log() { echo "mkroot-debian.sh: $*" >&2; }

[[ $# -eq 1 ]] || die "usage: mkroot-debian.sh OUTDIR"
[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1" || die "cannot create $1"
out=$(cd -- "$1" && pwd)

mirror=${ALCATRAZ_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${ALCATRAZ_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
kver=${ALCATRAZ_LAB_KERNEL_VERSION:-}
if [[ -z $kver ]]; then
    for k in /boot/vmlinuz-*-cloud-amd64; do
        [[ -e $k ]] && kver=${k#/boot/vmlinuz-}
    done
fi
[[ -n $kver ]] || die "no lab kernel (/boot/vmlinuz-*-cloud-amd64): apt-get install linux-image-cloud-amd64"
suite=bookworm
include=systemd,systemd-sysv,udev,kmod
extra=(linux-image-$kver linux-headers-$kver gcc make libc6-dev)

# Bump when a change here changes the root; messages do not.
recipe=3
want_stamp="recipe $recipe suite $suite variant minbase include $include extra ${extra[*]} mirror $mirror security $security"

exec 9>"$out/.mkroot.lock"
flock 9 || die "cannot lock $out"
if [[ -x $out/root/usr/bin/apt-get && -f $out/root.stamp && $(cat "$out/root.stamp") == "$want_stamp" ]]; then
    log "up to date: $out/root"
    exit 0
fi

tmp=$out/root.tmp
rm -rf -- "$out/root" "$out/root.stamp" "$tmp"
mkdir -p "$out/debs" || die "cannot create $out/debs"
t0=$SECONDS
log "debootstrap $suite (minbase + $include) from $mirror"
debootstrap --variant=minbase --include="$include" --cache-dir="$out/debs" \
    "$suite" "$tmp" "$mirror" > "$out/debootstrap.log" 2>&1 ||
    die "debootstrap failed (last lines of $out/debootstrap.log: $(tail -n 3 "$out/debootstrap.log" | tr '\n' ' '))"
log "debootstrap: $((SECONDS - t0)) s"

cat > "$tmp/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
echo lab > "$tmp/etc/hostname"
# No services started while packages are installed in the chroot.
printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
chmod 755 "$tmp/usr/sbin/policy-rc.d"
# The lab boots its kernel with its own small initramfs (tests/lab/run
# --root): Debian's, made when the kernel is installed, needs no modules.
mkdir -p "$tmp/etc/initramfs-tools/conf.d"
printf 'MODULES=list\n' > "$tmp/etc/initramfs-tools/conf.d/lab.conf"
t0=$SECONDS
log "apt-get install ${extra[*]}"
"$here/chroot-debian.sh" "$tmp" --cache "$out/debs" sh -c \
    'apt-get update -q && apt-get install -y -q --no-install-recommends "$@" && apt-get clean' \
    sh "${extra[@]}" > "$out/apt.log" 2>&1 ||
    die "apt-get install ${extra[*]} in the root failed (last lines of $out/apt.log: $(tail -n 3 "$out/apt.log" | tr '\n' ' '))"
log "apt-get install: $((SECONDS - t0)) s"
[[ -d $tmp/lib/modules/$kver/kernel ]] || die "linux-image-$kver left no /lib/modules/$kver in the root"

mv -- "$tmp" "$out/root" || die "cannot move $tmp to $out/root"
echo "$want_stamp" > "$out/root.stamp"
log "done: $out/root ($(du -sm "$out/root" | cut -f1) MiB)"
