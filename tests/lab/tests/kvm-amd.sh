#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: kvm_amd is loaded with nested paging and /dev/kvm is there.
fail=0
check() { # description command...
    d=$1; shift
    if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi
}
dmesg_has() { dmesg | grep -q "$1"; }
check "dmesg says 'SVM: kvm: Nested Paging enabled'" dmesg_has 'SVM: kvm: Nested Paging enabled'
check "/sys/module/kvm_amd is there" test -d /sys/module/kvm_amd
check "kvm_amd npt=Y" grep -qx Y /sys/module/kvm_amd/parameters/npt
check "kvm_amd nested=1" grep -qx 1 /sys/module/kvm_amd/parameters/nested
check "/dev/kvm is a character device" test -c /dev/kvm
check "the CPU has svm and npt" grep -q ' svm .* npt' /proc/cpuinfo
# The patched QEMU offers NRIP save, and kvm_amd takes it: it skips the
# instructions it handles by next_rip, not by decoding them again.
if [ "${ALCATRAZ_LAB_EMULATOR:-}" = qemu-patched ]; then
    check "the CPU has nrip_save" grep -q ' nrip_save' /proc/cpuinfo
    check "kvm_amd nrips=1" grep -qx -e 1 -e Y /sys/module/kvm_amd/parameters/nrips
fi
echo "kvm-amd: $fail failed"
[ "$fail" = 0 ]
