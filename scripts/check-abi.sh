#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Compares the ABI of the built libalcatraz with the baseline kept in the
# repository (abi/libalcatraz.abi) with abidiff: any change, compatible or
# not, fails, so that none is unintended.  Exit 77 (skip) when the library
# has no debug information to describe its types.
#
#   scripts/check-abi.sh BASELINE.abi LIBRARY.so HEADERS_DIR

set -euo pipefail
case ${LD_PRELOAD:-} in *vgpreload*) exec env -u LD_PRELOAD bash "$0" "$@" ;; esac

[ $# = 3 ] || { echo "usage: $0 BASELINE.abi LIBRARY.so HEADERS_DIR" >&2; exit 2; }
baseline=$1 lib=$2 headers=$3
here=$(cd "$(dirname "$0")" && pwd)
command -v abidiff >/dev/null ||
	{ echo "check-abi: abidiff missing (apt-get install abigail-tools)" >&2; exit 1; }
[ -f "$baseline" ] || { echo "check-abi: no baseline $baseline: run scripts/update-abi.sh" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
"$here/abi-dump.sh" "$lib" "$headers" "$tmp/current.abi" || rc=$?
[ $rc = 3 ] && exit 77
[ $rc = 0 ] || exit 1

rc=0
abidiff "$baseline" "$tmp/current.abi" >"$tmp/report" 2>&1 || rc=$?
if [ $rc = 0 ]; then
	echo "check-abi: $(basename "$lib") has the ABI of $baseline"
	exit 0
fi
cat "$tmp/report"
# abidiff's status is a bit mask: 1 error, 2 usage, 4 ABI change, 8 incompatible.
if [ $((rc & 3)) != 0 ]; then
	echo "check-abi: abidiff failed (status $rc)"
elif [ $((rc & 8)) != 0 ]; then
	echo "check-abi: INCOMPATIBLE ABI change against $baseline (see above). If intended: bump the soname, then scripts/update-abi.sh BUILDDIR and commit abi/libalcatraz.abi"
else
	echo "check-abi: ABI change against $baseline (see above). A changed public type breaks binaries built against the old header (bump the soname); new functions go in a new version node of src/lib/libalcatraz.map. If intended: scripts/update-abi.sh BUILDDIR and commit abi/libalcatraz.abi"
fi
exit 1
