#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-volumes: lab-volumes.sh in the lab with Debian's virtiofsd, an ext4
# root disk that holds no alcatraz-init (mkfs.ext4 -d: a static busybox,
# /etc/marker, no /bin/sh), and the lab's debootstrapped Debian 12 root
# (tests/lab/mkroot-debian.sh, cached in BUILDDIR/lab-root; made here when
# missing: root and Debian's archive needed) as a stock ext4 image on a
# throwaway lab disk (/dev/vda): 700 MiB stay on the host's disk, not in
# the lab's RAM.
# Usage: run.sh BUILDDIR
here=$(dirname "$0")
build=$1
vfsd=/usr/lib/qemu/virtiofsd
[ -x $vfsd ] || { echo "lab-volumes: no $vfsd (Debian package qemu-system-common)"; exit 1; }
command -v mkfs.ext4 > /dev/null || { echo "lab-volumes: no mkfs.ext4 (e2fsprogs)"; exit 1; }
bb=$(command -v busybox) || { echo "lab-volumes: no busybox (busybox-static)"; exit 1; }
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/root/bin" "$d/root/etc"
cp "$bb" "$d/root/bin/busybox"
echo from-plain-disk > "$d/root/etc/marker"
mkfs.ext4 -q -d "$d/root" "$d/plain.ext4" 16M > /dev/null || { echo "lab-volumes: mkfs.ext4 failed"; exit 1; }
t0=$(date +%s)
"$here/../lab/mkroot-debian.sh" "$build/lab-root" || { echo "lab-volumes: making the Debian root failed"; exit 1; }
size=$(du -sm "$build/lab-root/root" | cut -f1)
truncate -s $((size * 2 + 256))M "$d/debian.ext4" &&
	mkfs.ext4 -q -F -d "$build/lab-root/root" "$d/debian.ext4" > /dev/null ||
	{ echo "lab-volumes: mkfs.ext4 of the Debian root failed"; exit 1; }
echo "lab-volumes: Debian root ($size MiB) and its ext4 image ready in $(($(date +%s) - t0)) s"
"$here/../lab/run" --build "$build" --cpus 2 --timeout ${LAB_VOLUMES_TIMEOUT:-1200} \
	--add $vfsd:$vfsd --add "$d/plain.ext4:/alcatraz/add/plain.ext4" \
	--disk "$d/debian.ext4" "$here/lab-volumes.sh"
