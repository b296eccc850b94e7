#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/hyperbox/run.sh [BUILD_DIR]: one lab run, with and without Hyper-box.
# Not a test: prints ratios (goals: CPU-bound <= 1.02x, syscalls <= 1.2x),
# and a Linux microVM boot on kvm_amd when the build has alcatraz-run;
# then Hyper-box's exits per getpid, per fork+exec, per second of CPU-bound
# work and per L2 run of KVM (exit counts, which the emulator cannot skew).
# The lab is emulated (TCG): exit costs there are no guide to hardware.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -static -o "$tmp/hb-bench" "$here/bench.c"
cc -O2 -static -o "$tmp/hb-kvmtest" "$root/tests/hyperbox/kvmtest.c"
ko=$build/src/hypervisor/hyperbox.ko
[ -f "$ko" ] || { "$root/src/hypervisor/kbuild.sh" "$root/src/hypervisor" "$tmp/hyperbox.ko"; ko=$tmp/hyperbox.ko; }
# The build dir goes into the lab only when it has alcatraz-run (microVM boot).
nobuild=--no-build
[ -x "$build/examples/alcatraz-run" ] && nobuild="--build $build"
# shellcheck disable=SC2086  # $nobuild is one or two words on purpose
exec "$root/tests/lab/run" $nobuild --cpus 2 --memory 768 --no-kvm --timeout 900 --module "$ko" \
	--add "$tmp/hb-bench:/alcatraz/add/hb-bench" --add "$tmp/hb-kvmtest:/alcatraz/add/hb-kvmtest" \
	"$here/lab-bench.sh"
