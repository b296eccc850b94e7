#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/oci-docker/run.sh SRCDIR BUILDDIR   (meson test lab-oci-docker)
#
# alcatraz-oci as a Docker runtime (issue 19, item 3): the lab booted from
# lab-oci-containerd's Debian root, which also has Debian's docker.io, with
# its hand-made image, whose tar is also a docker-archive for `docker load`
# (tests/oci-containerd/boot-lab.sh), and a daemon.json naming the runtime
# "alcatraz".  in-lab.sh starts dockerd on the system's containerd and does
# the checks (see there).  Exit 0 when all passed.
set -u -o pipefail
die() { echo "lab-oci-docker: error: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || die "usage: run.sh SRCDIR BUILDDIR"
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
extra=$2/tests/oci-docker/extra-root
rm -rf -- "$extra" && mkdir -p "$extra/etc/docker" || die "cannot create $extra"
# README's snippet, with the build's binary.
cat > "$extra/etc/docker/daemon.json" <<'JSON' || die "cannot write daemon.json"
{
    "runtimes": {
        "alcatraz": { "path": "/alcatraz/build/src/oci/alcatraz-oci" }
    }
}
JSON
exec "$here/../oci-containerd/boot-lab.sh" lab-oci-docker "$1" "$2" "$here/in-lab.sh" "$extra"
