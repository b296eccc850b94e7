#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Restore vs cold boot and the memory per clone, in the lab (lab-bench.sh).
# Single-threaded TCG: it runs several microVMs at once.
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${ALCATRAZ_BUILD_DIR:-$repo/build}
exec "$repo/tests/lab/run" --build "$build" --single-thread --memory 1024 --timeout 900 \
	"$here/lab-bench.sh" "$@"
