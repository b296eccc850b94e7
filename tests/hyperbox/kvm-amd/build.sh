#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# build.sh TARBALL KDIR OUT.ko: kvm-amd.ko for the lab kernel whose headers
# are KDIR, from Debian's Linux source TARBALL (/usr/src/linux-source-6.1.tar.xz)
# with without-reload-tss.patch.  The source must be the lab kernel's own
# Debian version: kvm-amd.ko links against that kernel's kvm.ko.
set -e
tarball=$1 kdir=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "kvm-amd/build.sh: $*" >&2; exit 1; }
[ -r "$tarball" ] || die "no $tarball (apt-get install linux-source-6.1)"
[ -d "$kdir" ] || die "no kernel headers $kdir (apt-get install linux-headers-cloud-amd64)"
kver=$(basename "$kdir"); kver=${kver#linux-headers-}
src_v=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null) || die "linux-source-6.1 is not installed"
hdr_v=$(dpkg-query -W -f '${Version}' "linux-headers-$kver" 2>/dev/null) || die "linux-headers-$kver is not installed"
[ "$src_v" = "$hdr_v" ] ||
	die "linux-source-6.1 is $src_v but the lab kernel $kver is $hdr_v: install the same version of both (apt-get install linux-source-6.1=$hdr_v)"
work=$(dirname "$out")/$(basename "$out" .ko).kbuild
rm -rf "$work"
mkdir -p "$work"
tar -xJf "$tarball" -C "$work" --strip-components=1 --wildcards 'linux-source-6.1/arch/x86/kvm/*'
patch -d "$work" -p1 --forward --quiet < "$here/without-reload-tss.patch" ||
	die "without-reload-tss.patch does not apply to linux-source-6.1 $src_v"
kvm=$(cd "$work/arch/x86/kvm" && pwd)
rm "$kvm/Makefile"
cp "$here/Kbuild" "$kvm/Kbuild"
make -s -C "$kdir" M="$kvm" modules
cp "$kvm/kvm-amd.ko" "$out"
