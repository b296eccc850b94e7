#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the whole test suite: build, every meson suite (unit, kvm, lab, ...),
# then the unit and KVM suites again under ASan+UBSan, the unit suite under
# valgrind and the fuzz suite (clang). Prints "N passed, N failed" last.
# Usage: scripts/test.sh
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
total_pass=0 total_fail=0 total_skip=0

count() { # testlog.json -> adds to the totals
	local f=$1 p f_ s
	read -r p f_ s < <(python3 - "$f" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): p += 1
    elif r == "SKIP": s += 1
    else: f += 1
print(p, f, s)
PY
)
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f_)) total_skip=$((total_skip + s))
}

step() { echo; echo "=== $*"; }

step "build (the guest kernel is built once and cached in build/)"
[ -f build/build.ninja ] || meson setup build -Dwerror=true || exit 1
ninja -C build || { echo "0 passed, 1 failed"; exit 1; }

step "the lab's QEMU: Debian's qemu source with tests/lab/qemu's patches (tests/lab/build-qemu.sh; once, then reused)"
nice -n 10 ninja -C build lab-qemu || { echo "the lab's QEMU failed to build: the lab falls back to the system's"; total_fail=$((total_fail + 1)); }

step "all suites (but 'unstable': tests with a known intermittent failure, see their meson.build)"
meson test -C build --print-errorlogs --num-processes "$jobs" --no-suite unstable
count build/meson-logs/testlog.json

step "unit, kvm and hostile suites under AddressSanitizer and UndefinedBehaviorSanitizer"
[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined \
	-Db_lundef=false -Dguest_kernel=disabled -Dhypervisor=disabled >/dev/null || exit 1
ninja -C build-asan >build-asan/ninja.log 2>&1 || { tail -n 20 build-asan/ninja.log; echo "sanitizer build failed"; total_fail=$((total_fail + 1)); }
# The kvm tests run on /dev/kvm, else in the lab with these binaries and the
# sanitizer options (tests/lab/on-kvm copies build-asan and its libraries in).
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	meson test -C build-asan --print-errorlogs --suite unit --suite kvm --suite hostile --num-processes "$jobs"
count build-asan/meson-logs/testlog.json

step "unit suite under valgrind"
meson test -C build --print-errorlogs --suite unit --num-processes "$jobs" \
	--wrapper "valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
count build/meson-logs/testlog-valgrind.json	# meson names it after the wrapper

step "fuzz suite: each libFuzzer target 20 s over its seed corpus (clang build dir; scripts/fuzz.sh runs longer)"
[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=enabled -Dtests=disabled \
	-Dguest_kernel=disabled -Dhypervisor=disabled >/dev/null || exit 1
if ninja -C build-fuzz fuzz >build-fuzz/ninja.log 2>&1 || { tail -n 20 build-fuzz/ninja.log; false; }; then	# the fuzz targets alone: nothing else needs clang
	meson test -C build-fuzz --no-rebuild --print-errorlogs --suite fuzz --num-processes "$jobs"
	count build-fuzz/meson-logs/testlog.json
else
	echo "fuzz build failed"; total_fail=$((total_fail + 1))
fi

echo
echo "${total_pass} passed, ${total_fail} failed, ${total_skip} skipped"
[ "$total_fail" = 0 ]
