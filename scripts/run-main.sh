#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job: build Alcatraz (the guest kernel too, once), then run a
# command in a Linux microVM with alcatraz-run on the default guest.
#
# On a host whose /dev/kvm cannot boot Linux at a useful speed (kvm_pvm,
# where guest kernel code is emulated), alcatraz-run refuses at once with
# one line; this script then runs the same job inside the lab, an emulated
# AMD-V machine with real KVM (tests/lab/run), and says so.
set -uo pipefail
cd "$(dirname "$0")/.."

[ -f build/build.ninja ] || meson setup build || exit 1
ninja -C build || exit 1
# The uninstalled alcatraz-run finds the build tree's kernel and init through
# these (what `meson devenv -C build` sets); nothing of the build tree is
# compiled in.
export ALCATRAZ_KERNEL=${ALCATRAZ_KERNEL:-$PWD/build/kernel/vmlinux}
export ALCATRAZ_INIT=${ALCATRAZ_INIT:-$PWD/build/src/guest/alcatraz-init}

cmd=(build/examples/alcatraz-run -- sh -c 'echo Hello from an Alcatraz microVM; uname -sr; id -u')
echo "+ ${cmd[*]}"
out=$("${cmd[@]}" 2>&1); rc=$?
printf '%s\n' "$out"
if [ $rc = 125 ] && grep -q kvm_pvm <<<"$out"; then
	echo
	echo "run-main: this host's /dev/kvm is kvm_pvm, so the job runs in the lab instead"
	echo "run-main: (an emulated AMD-V machine with kvm_amd; see tests/lab/README.md)"
	exec tests/lab/run --memory 1024 --timeout 600 scripts/main-job-lab.sh
fi
exit $rc
