#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-volumes: lab-volumes.sh in the lab with Debian's virtiofsd and an ext4
# root disk that holds no alcatraz-init (mkfs.ext4 -d: a static busybox,
# /etc/marker, no /bin/sh).
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
"$here/../lab/run" --build "$build" --cpus 2 --timeout ${LAB_VOLUMES_TIMEOUT:-1200} \
	--add $vfsd:$vfsd --add "$d/plain.ext4:/alcatraz/add/plain.ext4" "$here/lab-volumes.sh"
