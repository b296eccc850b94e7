#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-net: net.sh in the lab with the dummy (passt's default route) and tun
# modules of the lab kernel, the guest kernel and passt.
# Usage: run.sh BUILDDIR
here=$(dirname "$0")
build=$1
mods=$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sort -V | tail -1)/kernel/drivers/net
[ -f "$mods/dummy.ko" ] && [ -f "$mods/tun.ko" ] || { echo "lab-net: no dummy.ko/tun.ko in $mods (linux-image-cloud-amd64)"; exit 1; }
[ -x /usr/bin/passt ] || { echo "lab-net: passt is not installed (Debian package passt)"; exit 1; }
exec "$here/../run" --build "$build" --cpus 2 --timeout 900 --module "$mods/dummy.ko" \
	--module "$mods/tun.ko" --add "$build/kernel/vmlinux" --add /usr/bin/passt "$here/net.sh"
