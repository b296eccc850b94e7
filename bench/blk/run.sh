#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boots the lab with QEMU and its firmware added, and runs blk-vs-qemu.sh.
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
exec "$repo/tests/lab/run" --memory 2048 --timeout 1200 \
	--add /usr/bin/qemu-system-x86_64:/usr/bin/qemu-system-x86_64 \
	--add /usr/share/qemu/qboot.rom:/usr/share/qemu/qboot.rom \
	--add /usr/share/qemu/bios-microvm.bin:/usr/share/qemu/bios-microvm.bin \
	"$here/blk-vs-qemu.sh" "$@"
