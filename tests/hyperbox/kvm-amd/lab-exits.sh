#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# lab-exits.sh TARBALL KDIR WORKDIR LAB_RUN ARGS...: builds kvm-amd-nortss.ko
# into WORKDIR (build.sh), then runs the lab test (tests/hyperbox/lab-run.sh
# LAB_RUN ARGS...) with it as a module.  Built here, when the test runs, so
# that a linux-source-6.1 that is not the lab kernel's own version fails
# this test alone, with build.sh's reason, and not the build of the rest.
set -e
here=$(cd "$(dirname "$0")" && pwd)
tarball=$1 kdir=$2 work=$3 run=$4
shift 4
mkdir -p "$work"
"$here/build.sh" "$tarball" "$kdir" "$work/kvm-amd-nortss.ko"
exec "$here/../lab-run.sh" "$run" --module "$work/kvm-amd-nortss.ko" "$@"
