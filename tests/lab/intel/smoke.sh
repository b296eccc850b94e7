#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# VT-x lab smoke test (tests/lab/run --vendor intel): kvm_intel is loaded
# with EPT, unrestricted guest, VPID and shadow VMCS, and the project's tiny
# guest runs through alcatraz-run on it (nested in Bochs's VMX).  With
# --module hyperbox.ko also: Hyper-box's refusal while kvm_intel owns VMX.
fail=0
check() { # description command...
    d=$1; shift
    if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi
}
param() { # name value
    grep -qx "$2" "/sys/module/kvm_intel/parameters/$1"
}
check "the CPU has vmx and ept" grep -q ' vmx .* ept' /proc/cpuinfo
check "/sys/module/kvm_intel is there" test -d /sys/module/kvm_intel
check "kvm_intel ept=Y" param ept Y
check "kvm_intel unrestricted_guest=Y" param unrestricted_guest Y
check "kvm_intel vpid=Y" param vpid Y
check "kvm_intel enable_shadow_vmcs=Y" param enable_shadow_vmcs Y
check "/dev/kvm is a character device" test -c /dev/kvm
run=/alcatraz/build/examples/alcatraz-run
export ALCATRAZ_VMM=/alcatraz/build/src/vmm/alcatraz-vmm
img=/alcatraz/build/tests/guests/hello.img
if [ -x "$run" ] && [ -f "$img" ]; then
    t0=$(cut -d' ' -f1 /proc/uptime)
    out=$("$run" --guest "$img" 2>/tmp/hello.err < /dev/null)
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    echo "hello: status $rc in $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s: $out"
    [ -s /tmp/hello.err ] && sed 's/^/hello stderr: /' /tmp/hello.err
    check "alcatraz-run --guest hello.img exits 0" test "$rc" = 0
    check "hello.img says hello" test "$out" = "Hello from an Alcatraz tiny guest!"
else
    echo "FAIL: $run or $img is missing (build alcatraz-run and the tiny guests)"
    fail=$((fail + 1))
fi
# With Hyper-box given (--module): it refuses to load while kvm_intel owns VMX.
if [ -f /alcatraz/modules/hyperbox.ko ]; then
    sh /alcatraz/tests/lab/intel/bad-input.sh in-use
    check "hyperbox refuses while kvm_intel owns VMX" test $? = 0
fi
echo "intel-smoke: $fail failed"
sleep 0.2    # let the console drain before power-off
[ "$fail" = 0 ]
