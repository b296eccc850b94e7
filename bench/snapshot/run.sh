#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Restore vs cold boot and the memory per clone, in the lab (lab-bench.sh).
# Single-threaded TCG: it runs several microVMs at once. The host's strace
# (Debian's strace) counts the system calls in the lab.
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${ALCATRAZ_BUILD_DIR:-$repo/build}
set -- "$here/lab-bench.sh" "$@"
if strace=$(command -v strace); then
	set -- --add "$strace:/alcatraz/add/strace" "$@"
else
	echo "snapshot-bench: no strace on this host (apt-get install strace): no system call counts" >&2
fi
exec "$repo/tests/lab/run" --build "$build" --single-thread --memory 1024 --timeout 900 "$@"
