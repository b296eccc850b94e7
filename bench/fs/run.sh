#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boots the lab with QEMU, its firmware and Debian's virtiofsd, and runs
# fs-vs-qemu.sh; the lab's debootstrapped Debian root (tests/lab/mkroot-
# debian.sh, cached in the build dir's lab-root; root and Debian's archive
# needed the first time) goes in as a stock ext4 image on a throwaway lab
# disk.  6 GiB of lab memory: a 256 MiB file on the lab's tmpfs, and the
# 700 MiB root packed into an initramfs (a memfd) for a 3 GiB guest (it
# unpacks it into its RAM: with 2 GiB it panicked, or the lab stalled).
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
vfsd=/usr/lib/qemu/virtiofsd
[ -x $vfsd ] || { echo "fs bench: no $vfsd (Debian package qemu-system-common)"; exit 1; }
build=${ALCATRAZ_BUILD_DIR:-$repo/build}
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
disk=
if "$repo/tests/lab/mkroot-debian.sh" "$build/lab-root"; then
	size=$(du -sm "$build/lab-root/root" | cut -f1)
	truncate -s $((size * 2 + 256))M "$d/debian.ext4" &&
		mkfs.ext4 -q -F -d "$build/lab-root/root" "$d/debian.ext4" > /dev/null &&
		disk="--disk $d/debian.ext4"
fi
[ -n "$disk" ] || echo "fs bench: no Debian root image: its start-up is not measured"
# --multi-thread: virtiofsd, the device thread and the vCPU run side by
# side, as on hardware (see bench/net/run.sh).
"$repo/tests/lab/run" --multi-thread --memory 6144 --cpus 2 --timeout ${FS_BENCH_TIMEOUT:-1800} $disk \
	--add $vfsd:$vfsd \
	--add /usr/bin/qemu-system-x86_64:/usr/bin/qemu-system-x86_64 \
	--add /usr/share/qemu/qboot.rom:/usr/share/qemu/qboot.rom \
	--add /usr/share/qemu/bios-microvm.bin:/usr/share/qemu/bios-microvm.bin \
	"$here/fs-vs-qemu.sh" "$@"
