#!/bin/sh
# bench/hyperbox/run.sh [BUILD_DIR]: one lab run, with and without Hyper-box.
# Not a test: prints ratios (goals: CPU-bound <= 1.02x, syscalls <= 1.2x).
# The lab is emulated (TCG): exit costs there are no guide to hardware.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -static -o "$tmp/hb-bench" "$here/bench.c"
ko=$build/src/hypervisor/hyperbox.ko
[ -f "$ko" ] || { "$root/src/hypervisor/kbuild.sh" "$root/src/hypervisor" "$tmp/hyperbox.ko"; ko=$tmp/hyperbox.ko; }
exec "$root/tests/lab/run" --no-build --no-kvm --timeout 600 --module "$ko" \
	--add "$tmp/hb-bench:/alcatraz/add/hb-bench" "$here/lab-bench.sh"
