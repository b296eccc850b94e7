#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-gitlab: lab-gitlab.sh in the lab with Debian's virtiofsd (the job's
# root and builds dir are shared over virtio-fs).
# Usage: run.sh BUILDDIR
here=$(dirname "$0")
build=$1
vfsd=/usr/lib/qemu/virtiofsd
[ -x $vfsd ] || { echo "lab-gitlab: no $vfsd (Debian package qemu-system-common)"; exit 1; }
[ -x "$build/src/oci/alcatraz-oci" ] && [ -f "$build/src/gitlab/alcatraz-gitlab" ] || { echo "lab-gitlab: no $build/src/oci/alcatraz-oci (libjansson-dev missing?)"; exit 1; }
# (the lab copies the build dir's ELF files only: the driver, a script,
# is added by name)
drv=/alcatraz/add/alcatraz-gitlab
exec "$here/../lab/run" --build "$build" --cpus 2 --timeout ${LAB_GITLAB_TIMEOUT:-1500} \
	--add $vfsd:$vfsd --add "$build/src/gitlab/alcatraz-gitlab:$drv" "$here/lab-gitlab.sh" $drv
