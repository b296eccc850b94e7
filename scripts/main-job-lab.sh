#!/bin/sh
# Runs inside the lab (tests/lab/run): the main job, alcatraz-run on the
# default guest kernel and root filesystem, with real nested KVM.
set -e
run=/alcatraz/build/examples/alcatraz-run
echo "lab: running: alcatraz-run -- sh -c 'echo Hello from an Alcatraz microVM; uname -sr; id -u'"
"$run" -- sh -c 'echo Hello from an Alcatraz microVM; uname -sr; id -u'
