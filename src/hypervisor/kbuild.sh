#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kbuild.sh SRCDIR OUT.ko [KDIR]: build an out-of-tree module from a copy of
# SRCDIR (so the source tree stays clean) and copy the .ko to OUT.ko.
set -e
src=$1 out=$2 kdir=${3:-}
if [ -z "$kdir" ]; then
	kdir=$(ls -d /usr/src/linux-headers-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
fi
[ -d "$kdir" ] || { echo "kbuild.sh: no kernel headers (apt-get install linux-headers-cloud-amd64)" >&2; exit 1; }
work=$(dirname "$out")/$(basename "$out" .ko).kbuild
rm -rf "$work"
mkdir -p "$work"
cp "$src"/*.c "$src"/Kbuild "$work"/
for f in "$src"/*.h "$src"/*.S; do [ -e "$f" ] && cp "$f" "$work"/; done
make -s -C "$kdir" M="$(cd "$work" && pwd)" modules
cp "$work"/*.ko "$out"
