#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boots the lab with QEMU and its firmware added, and runs boot-vs-qemu.sh.
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
exec "$repo/tests/lab/run" --memory 1024 --timeout 900 \
	--add /usr/bin/qemu-system-x86_64:/usr/bin/qemu-system-x86_64 \
	--add /usr/share/qemu/qboot.rom:/usr/share/qemu/qboot.rom \
	--add /usr/share/qemu/bios-microvm.bin:/usr/share/qemu/bios-microvm.bin \
	"$here/boot-vs-qemu.sh" "$@"
