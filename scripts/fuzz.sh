#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the libFuzzer targets of tests/fuzz one after another (one fuzzer
# process at a time, niced: the machine may be shared) and prints, per
# target, how many inputs it executed and whether it crashed.
#
#   scripts/fuzz.sh [-t SECONDS] [-b BUILD_DIR] [TARGET...]
#
# SECONDS per target (default 60); BUILD_DIR is a clang build dir, set up
# when missing (default build-fuzz); TARGETs are names like virtq or decode
# (default: all). Inputs found are kept in BUILD_DIR/tests/fuzz/work/TARGET
# and reused by the next run; a crash input and the log are left there.
# Exit status 1 if any target crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=60 build=build-fuzz
while getopts t:b: o; do
	case $o in
	t) secs=$OPTARG ;;
	b) build=$OPTARG ;;
	*) echo "usage: $0 [-t SECONDS] [-b BUILD_DIR] [TARGET...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=enabled -Dtests=disabled -Dguest_kernel=disabled \
		-Dhypervisor=disabled >/dev/null || exit 1
fi
nice -n 19 ninja -C "$build" fuzz >/dev/null || { echo "fuzz.sh: build failed" >&2; exit 1; }
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for f in tests/fuzz/corpus/*/; do targets+=("$(basename "$f")"); done
fi
rc=0
for t in "${targets[@]}"; do
	exe=$build/tests/fuzz/fuzz_$t
	[ -x "$exe" ] || { echo "fuzz.sh: no target '$t'" >&2; rc=1; continue; }
	nice -n 19 tests/fuzz/run.sh "$exe" "tests/fuzz/corpus/$t" "$build/tests/fuzz/work/$t" \
		"$secs" || rc=1
done
exit $rc
