#!/bin/sh
# Runs inside the lab (tests/lab/run): the main job, alcatraz-run on the
# default guest kernel and root filesystem, with real nested KVM. The build
# dir sits at another path in the lab, so the defaults are pointed at it.
set -e
B=${ALCATRAZ_BUILD:-/alcatraz/build}
export ALCATRAZ_KERNEL=$B/kernel/vmlinux ALCATRAZ_INIT=$B/src/guest/alcatraz-init
echo "lab: running: alcatraz-run -- sh -c 'echo Hello from an Alcatraz microVM; uname -sr; id -u'"
"$B/examples/alcatraz-run" -- sh -c 'echo Hello from an Alcatraz microVM; uname -sr; id -u'
