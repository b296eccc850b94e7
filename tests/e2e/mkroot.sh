#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# mkroot.sh OUT INIT: an ext4 root-disk image for the e2e tests, holding
# alcatraz-init at /sbin/alcatraz-init, a static busybox and /etc/marker.
set -e
out=$1 init=$2
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/sbin" "$d/bin" "$d/dev" "$d/proc" "$d/sys" "$d/tmp" "$d/run" "$d/etc"
cp "$init" "$d/sbin/alcatraz-init"
cp /bin/busybox "$d/bin/busybox"
# The command runs in this root: its own tools (init's busybox links stay in
# the initramfs).
ln -s busybox "$d/bin/cat"
echo from-root-disk > "$d/etc/marker"
rm -f "$out"
mkfs.ext4 -q -d "$d" "$out" 32M
