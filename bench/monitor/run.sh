#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/monitor/run.sh [BUILD_DIR]: one lab run; getpid loop, fork+exec loop,
# CPU-bound loop and a Linux microVM boot with no Hyper-box, Hyper-box with
# the escape monitor off, and with it on; ratios.  Not a test.
# Goals (issue 7): syscall-heavy <= 1.2x, CPU-bound <= 1.02x.
# The lab is emulated (TCG): a VM exit there costs tens of microseconds, so
# exit-heavy ratios overstate hardware; compare with bench/hyperbox.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -static -o "$tmp/hb-bench" "$root/bench/hyperbox/bench.c"
ko=${HYPERBOX_KO:-$build/src/hypervisor/hyperbox.ko}
[ -f "$ko" ] || { "$root/src/hypervisor/kbuild.sh" "$root/src/hypervisor" "$tmp/hyperbox.ko"; ko=$tmp/hyperbox.ko; }
exec "$root/tests/lab/run" --build "$build" --no-kvm --timeout 900 --module "$ko" \
	--add "$tmp/hb-bench:/alcatraz/add/hb-bench" "$here/lab-bench.sh" "${ROUNDS:-3}"
