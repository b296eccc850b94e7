#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/oci-containerd/run.sh SRCDIR BUILDDIR   (meson test lab-oci-containerd)
#
# alcatraz-oci under containerd (issue 19, item 3): the lab booted from the
# Debian root with Debian's containerd and runc and the hand-made image
# (boot-lab.sh, shared with lab-oci-docker); in-lab.sh does the checks (see
# there).  Exit 0 when all passed.
[[ $# -eq 2 ]] || { echo "lab-oci-containerd: error: usage: run.sh SRCDIR BUILDDIR" >&2; exit 1; }
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
exec "$here/boot-lab.sh" lab-oci-containerd "$1" "$2" "$here/in-lab.sh"
