#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-snapshot: lab-snapshot.sh in the lab (one boot). Single-threaded TCG:
# it runs two microVMs at once (QEMU 7.2's multi-threaded TCG corrupts
# guests then).
# Usage: run.sh BUILDDIR
# The snapshot has a network: passt and the lab kernel's dummy module (passt
# wants an interface with a default route), as lab-net.
here=$(dirname "$0")
mods=$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sort -V | tail -1)/kernel/drivers/net
[ -f "$mods/dummy.ko" ] || { echo "lab-snapshot: no dummy.ko in $mods (linux-image-cloud-amd64)"; exit 1; }
[ -x /usr/bin/passt ] || { echo "lab-snapshot: passt is not installed (Debian package passt)"; exit 1; }
exec "$here/../lab/run" --build "$1" --single-thread --timeout ${LAB_SNAPSHOT_TIMEOUT:-600} \
	--module "$mods/dummy.ko" --add /usr/bin/passt "$here/lab-snapshot.sh"
