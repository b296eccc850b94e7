#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job: build Alcatraz (the guest kernel too, once), then run a
# command in a Linux microVM with alcatraz-run on the default guest.
#
# Where this host's /dev/kvm cannot boot Linux guests (it does not exist, is
# not accessible, or is kvm_pvm, whose emulated guest kernel code makes Linux
# crawl and fail), the same job runs inside the lab instead, an emulated
# AMD-V machine with real KVM (tests/lab/run, scripts/main-job-lab.sh), and
# one line says why.  The library's own probe (tests/kvm/kvm-probe) decides,
# before anything runs.  On VT-x or AMD-V hardware the job runs directly.
#
# Environment: ALCATRAZ_BUILD_DIR, the build dir (default build).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${ALCATRAZ_BUILD_DIR:-build}

[ -f "$build/build.ninja" ] || meson setup "$build" || exit 1
ninja -C "$build" || exit 1

why=$("$build/tests/kvm/kvm-probe")
case $? in
0)
	# The build tree's kernel, init and VMM (what `meson devenv` sets).
	b=$(cd "$build" && pwd)
	export ALCATRAZ_KERNEL=${ALCATRAZ_KERNEL:-$b/kernel/vmlinux}
	export ALCATRAZ_INIT=${ALCATRAZ_INIT:-$b/src/guest/alcatraz-init}
	export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$b/src/vmm/alcatraz-vmm}
	cmd=("$build/examples/alcatraz-run" -- sh -c 'echo Hello from an Alcatraz microVM; uname -sr; id -u')
	echo "+ ${cmd[*]}"
	exec "${cmd[@]}"
	;;
1 | 2)
	echo "run-main: $why: running the main job in the lab instead (emulated AMD-V with kvm_amd, tests/lab/README.md)"
	exec tests/lab/run --build "$build" --memory 1024 --timeout 600 scripts/main-job-lab.sh
	;;
*)
	echo "run-main: $build/tests/kvm/kvm-probe failed: $why" >&2
	exit 125
	;;
esac
