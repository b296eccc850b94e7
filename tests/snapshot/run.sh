#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-snapshot: lab-snapshot.sh in the lab (one boot). Single-threaded TCG:
# it runs two microVMs at once (QEMU 7.2's multi-threaded TCG corrupts
# guests then).
# Usage: run.sh BUILDDIR
here=$(dirname "$0")
exec "$here/../lab/run" --build "$1" --single-thread --timeout ${LAB_SNAPSHOT_TIMEOUT:-600} \
	"$here/lab-snapshot.sh"
