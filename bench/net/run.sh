#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boots the lab with QEMU, its firmware, passt and the dummy/tun modules
# (passt's default route, as lab-net), and runs net-vs-qemu.sh.
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mods=$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sort -V | tail -1)/kernel/drivers/net
[ -f "$mods/dummy.ko" ] && [ -f "$mods/tun.ko" ] ||
	{ echo "net bench: no dummy.ko/tun.ko in $mods (linux-image-cloud-amd64)"; exit 1; }
[ -x /usr/bin/passt ] || { echo "net bench: passt is not installed (Debian package passt)"; exit 1; }
# --multi-thread: the device threads and the vCPU run side by side, as on
# hardware; a run the emulator breaks (see tests/lab/run) shows as a failed
# or missing figure, never as a slower one.
exec "$repo/tests/lab/run" --multi-thread --memory 2048 --cpus 2 --timeout ${NET_BENCH_TIMEOUT:-1500} \
	--module "$mods/dummy.ko" --module "$mods/tun.ko" --add /usr/bin/passt:/usr/bin/passt \
	--add /usr/bin/qemu-system-x86_64:/usr/bin/qemu-system-x86_64 \
	--add /usr/share/qemu/qboot.rom:/usr/share/qemu/qboot.rom \
	--add /usr/share/qemu/bios-microvm.bin:/usr/share/qemu/bios-microvm.bin \
	"$here/net-vs-qemu.sh" "$@"
