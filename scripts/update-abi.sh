#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Records the ABI of a built libalcatraz as the new baseline,
# abi/libalcatraz.abi, after an intended change of the public API.  Commit
# the result with the change; an incompatible change (a function removed or
# changed, a public type changed) also needs the soname bumped.
#
#   scripts/update-abi.sh [BUILDDIR]     (default: build)

set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
ninja -C "$build" src/lib/libalcatraz.so >/dev/null 2>&1 || ninja -C "$build" >/dev/null
lib=$(ls "$build"/src/lib/libalcatraz.so.*.*.* 2>/dev/null | head -n 1)
[ -n "$lib" ] || { echo "update-abi: no libalcatraz.so.X.Y.Z in $build/src/lib" >&2; exit 1; }
"$src/scripts/abi-dump.sh" "$lib" "$src/include/alcatraz" "$src/abi/libalcatraz.abi"
echo "update-abi: abi/libalcatraz.abi now describes $lib; commit it"
