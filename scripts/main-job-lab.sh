#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside the lab (tests/lab/run): the main job, alcatraz-run on the
# default guest kernel and root filesystem, with real nested KVM. The build
# dir sits at another path in the lab, so the defaults are pointed at it.
set -e
B=${ALCATRAZ_BUILD:-/alcatraz/build}
export ALCATRAZ_KERNEL=$B/kernel/vmlinux ALCATRAZ_INIT=$B/src/guest/alcatraz-init
export ALCATRAZ_VMM=$B/src/vmm/alcatraz-vmm
# nopv: QEMU's emulated SVM now and then deadlocks a guest that uses KVM's
# paravirtual features (tests/lab/README.md); hardware runs them.
echo "lab: running: alcatraz-run --cmdline nopv -- sh -c 'echo Hello from an Alcatraz microVM; uname -sr; id -u'"
"$B/examples/alcatraz-run" --cmdline nopv -- sh -c 'echo Hello from an Alcatraz microVM; uname -sr; id -u'
