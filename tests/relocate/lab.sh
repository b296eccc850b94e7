#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside the lab (relocate.sh): the installed tree is at PREFIX, the
# build dir is not in the lab (--no-build) and nothing points at it.
# Usage: lab.sh PREFIX BINDIR DATADIR LIBEXECDIR HOST_BUILD_DIR
# Exit 0 pass, 1 fail.
prefix=$1 bindir=$2 datadir=$3 libexecdir=$4 host_build=$5
R=$bindir/alcatraz-run
kernel=$datadir/alcatraz/vmlinux init=$libexecdir/alcatraz/alcatraz-init
check=/alcatraz/add/check.sh
fail=0
t() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
unset ALCATRAZ_KERNEL ALCATRAZ_INIT ALCATRAZ_BUSYBOX ALCATRAZ_BUILD
cd /

t "no build dir in the lab" test ! -e /alcatraz/build -a ! -e "$host_build"
t "installed kernel, init and alcatraz-run are there" test -f "$kernel" -a -x "$init" -a -x "$R"

# 1. nothing: no /dev/kvm (booted with --no-kvm), no Hyper-box
echo "--- --check with no /dev/kvm:"
t "--check with no /dev/kvm: exit 1, one line per missing item" sh "$check" "$R" 1
t "--check finds the installed kernel" sh -c "'$R' --check | grep -q '^kernel *ok   $kernel\$'"
t "--check finds the installed init" sh -c "'$R' --check | grep -q '^init *ok   $init\$'"

# 2. kvm_amd, no Hyper-box: the main job on the installed files
/alcatraz/lab/load-kvm || { echo "FAIL: kvm_amd does not load"; exit 1; }
echo "--- --check with kvm_amd, without Hyper-box:"
t "--check with kvm_amd alone: exit 1, reports kvm_amd" sh "$check" "$R" 1 kvm_amd
# nopv: the lab's emulated SVM and KVM's paravirtual features (tests/lab/README.md)
timeout 300 "$R" --timeout 240 --cmdline nopv -- sh -c 'echo relocated-ok; cat /proc/version' \
	> /tmp/job.out 2> /tmp/job.err < /dev/null
rc=$?
echo "--- the main job (status $rc):"; cat /tmp/job.out /tmp/job.err
t "the main job ran on the installed files (status 0, output)" \
	test "$rc:$(head -n 1 /tmp/job.out)" = "0:relocated-ok"
# the guest's banner (its build time included) is the installed vmlinux's
banner=$(sed -n 2p /tmp/job.out)
t "the guest ran the installed kernel ($banner)" sh -c 'case $1 in "Linux version "*) strings "$2" | grep -qxF "$1" ;; *) false ;; esac' - "$banner" "$kernel"

# a broken install: one line each, status 125
mv "$kernel" "$kernel.gone"
out=$("$R" -- true 2>&1); rc=$?
echo "$out"
t "missing kernel: one line, 125" test "$rc:$out" = "125:alcatraz-run: no guest kernel: $kernel is missing (reinstall alcatraz; in a build tree: meson devenv -C BUILDDIR; or give --kernel PATH or set ALCATRAZ_KERNEL)"
mv "$kernel.gone" "$kernel"
mv "$init" "$init.gone"
out=$("$R" -- true 2>&1); rc=$?
echo "$out"
t "missing init: one line, 125" test "$rc:$out" = "125:alcatraz-run: no alcatraz-init: $init is missing (reinstall alcatraz; in a build tree: meson devenv -C BUILDDIR; or set ALCATRAZ_INIT)"
mv "$init.gone" "$init"

# 3. Hyper-box under kvm_amd: ready
rmmod kvm_amd && rmmod kvm && rmmod irqbypass
insmod /alcatraz/modules/hyperbox.ko || { echo "FAIL: insmod hyperbox"; exit 1; }
/alcatraz/lab/load-kvm || { echo "FAIL: kvm_amd does not load on Hyper-box"; exit 1; }
echo "--- --check with Hyper-box and kvm_amd:"
t "--check with Hyper-box and kvm_amd: exit 0" sh "$check" "$R" 0 kvm_amd

echo "relocate-lab: $fail failed"
[ "$fail" = 0 ]
