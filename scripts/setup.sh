#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what Alcatraz needs on a fresh Debian 12 machine (run as root).
# Everything comes from Debian's own packages.
set -euo pipefail

packages=(
	# build
	gcc libc6-dev make meson ninja-build pkg-config binutils
	liburing-dev libseccomp-dev check valgrind python3
	# alcatraz-oci reads config.json with jansson
	libjansson-dev
	# the fuzz targets (tests/fuzz): clang with libFuzzer (a Recommends only)
	clang libclang-rt-14-dev
	# the guest kernel, built from Debian's source
	linux-source-6.1 bc flex bison libelf-dev libssl-dev xz-utils
	# the lab: an emulated AMD-V machine running Debian's cloud kernel and kvm_amd
	qemu-system-x86 linux-image-cloud-amd64 linux-headers-cloud-amd64
	busybox-static cpio kmod
	# user-mode networking (issue 16): passt, which the library starts per VM
	passt
	# the lab's own QEMU, built from Debian's qemu source (tests/lab/build-qemu.sh)
	libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev
	# the VT-x lab: Bochs emulating an Intel CPU with VMX and EPT, booted from a GRUB ISO
	bochs bochsbios vgabios bochs-term grub-pc-bin grub-common xorriso mtools
	# the Debian packages (debian/) and lab-install: a debootstrapped root booted in the lab
	dpkg-dev debhelper dh-dkms debootstrap e2fsprogs
	# packaging checks: the ABI against abi/libalcatraz.abi, the man pages
	abigail-tools groff-base man-db
	# bench/snapshot: system calls of a cold boot and a restore, in the lab
	strace
)

if [ "$(id -u)" != 0 ]; then
	echo "setup.sh: run as root (it installs Debian packages with apt-get)" >&2
	exit 1
fi
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup.sh: all ${#packages[@]} packages are installed"
	exit 0
fi
echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
