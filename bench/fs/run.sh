#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boots the lab with QEMU, its firmware and Debian's virtiofsd, and runs
# fs-vs-qemu.sh.
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
vfsd=/usr/lib/qemu/virtiofsd
[ -x $vfsd ] || { echo "fs bench: no $vfsd (Debian package qemu-system-common)"; exit 1; }
exec "$repo/tests/lab/run" --memory 3072 --cpus 2 --timeout ${FS_BENCH_TIMEOUT:-1800} \
	--add $vfsd:$vfsd \
	--add /usr/bin/qemu-system-x86_64:/usr/bin/qemu-system-x86_64 \
	--add /usr/share/qemu/qboot.rom:/usr/share/qemu/qboot.rom \
	--add /usr/share/qemu/bios-microvm.bin:/usr/share/qemu/bios-microvm.bin \
	"$here/fs-vs-qemu.sh" "$@"
