#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-oci: lab-oci.sh in the lab with Debian's virtiofsd (the container's
# root and bind mounts are shared over virtio-fs).
# Usage: run.sh BUILDDIR
here=$(dirname "$0")
build=$1
vfsd=/usr/lib/qemu/virtiofsd
[ -x $vfsd ] || { echo "lab-oci: no $vfsd (Debian package qemu-system-common)"; exit 1; }
[ -x "$build/src/oci/alcatraz-oci" ] || { echo "lab-oci: no $build/src/oci/alcatraz-oci (libjansson-dev missing?)"; exit 1; }
exec "$here/../lab/run" --build "$build" --cpus 2 --timeout ${LAB_OCI_TIMEOUT:-1500} \
	--add $vfsd:$vfsd "$here/lab-oci.sh"
