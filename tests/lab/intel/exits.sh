#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# VT-x lab: what one exit of a KVM guest costs in Hyper-box exits
# (tests/lab/run --vendor intel --no-kvm --module hyperbox.ko
#  --add hb-kvmtest:/alcatraz/add/hb-kvmtest tests/lab/intel/exits.sh [N [PARAMS]]).
# kvm_intel on Hyper-box runs `hb-kvmtest --cpuid N` (N CPUID exits that
# KVM handles in the kernel, one KVM_RUN) and the counters of
# /sys/kernel/hyperbox/exits are compared before and after: every counter
# that moved, then Hyper-box exits per L2 run, VMREAD/VMWRITE exits per L2
# exit and EPT violations per L2 run (at most 2.5 Hyper-box exits per L2
# run passes), then the same for two VMs at once on one CPU.  PARAMS:
# Hyper-box's module parameters, e.g. "vmcs_shadowing=0".
# Exit 0 pass, 1 fail.
M=/alcatraz/modules
kvmtest=/alcatraz/add/hb-kvmtest
n=${1:-2000}
max=2.5
params=$2
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
E=/sys/kernel/hyperbox/exits

# shellcheck disable=SC2086  # params are split on purpose
insmod $M/hyperbox.ko $params
check "insmod hyperbox $params" test -d /sys/module/hyperbox
[ -d /sys/module/hyperbox ] || { echo "hyperbox-exits: not loaded, stopping"; exit 1; }
dmesg | grep 'hyperbox: VMCS shadowing'
/alcatraz/lab/load-kvm
check "kvm_intel loads after hyperbox" test $? = 0
# One short run first: the VM's setup (VMCS fields written once per vCPU,
# the first shadow EPT fills) is not what an L2 exit costs.
"$kvmtest" --cpuid 10 > /dev/null 2>&1
cp $E /tmp/exits.before
t0=$(cut -d' ' -f1 /proc/uptime)
out=$(timeout 300 "$kvmtest" --cpuid "$n" | tr -d '\n')
t1=$(cut -d' ' -f1 /proc/uptime)
cp $E /tmp/exits.after
check "hb-kvmtest --cpuid $n halted" test "$out" = "exit: hlt"
echo "hb-kvmtest --cpuid $n took $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
. /alcatraz/tests/lab/intel/figures.sh
exit_figures /tmp/exits.before /tmp/exits.after hyperbox-exits
runs=$(exit_delta /tmp/exits.before /tmp/exits.after l2_runs)
all=$(exit_delta /tmp/exits.before /tmp/exits.after vm_exits)
check "one L2 run per CPUID at least ($runs for $n)" test "${runs:-0}" -ge "$n"
check "at most $max Hyper-box exits per L2 run ($all for $runs)" \
	awk -v r="${runs:-0}" -v a="${all:-0}" -v m="$max" 'BEGIN { exit !(r > 0 && a <= m * r) }'
# Two VMs at once on one CPU: kvm_intel switches between their VMCSs and
# EPT roots at every context switch; Hyper-box keeps a shadow EPT per root
# (VMX_SHADOWS), so a switch does not empty and refill one.
cp $E /tmp/exits.before
taskset 1 "$kvmtest" --cpuid "$n" > /tmp/vm1.out 2>&1 &
taskset 1 "$kvmtest" --cpuid "$n" > /tmp/vm2.out 2>&1
wait
cp $E /tmp/exits.after
check "two VMs on one CPU both halted" sh -c 'grep -q "exit: hlt" /tmp/vm1.out && grep -q "exit: hlt" /tmp/vm2.out'
exit_figures /tmp/exits.before /tmp/exits.after "hyperbox-exits: two VMs on one CPU"
resets=$(exit_delta /tmp/exits.before /tmp/exits.after shadow_resets)
ptrld=$(exit_delta /tmp/exits.before /tmp/exits.after vmptrld)
echo "hyperbox-exits: two VMs on one CPU: $ptrld VMPTRLD, $resets shadow EPTs started empty"
# Each VM's root starts empty once, and again after each INVEPT kvm_intel
# issues for it while setting the VM up: a handful, not one per switch.
check "two VMs on one CPU: a shadow EPT per root, not one per switch ($resets for $ptrld VMPTRLD)" \
	awk -v r="${resets:-99}" -v p="${ptrld:-0}" 'BEGIN { exit !(r <= 6 && p >= 4 * r) }'
check "no oops" sh -c "! dmesg | grep -q 'Oops\|invalid opcode\|BUG:'"
echo "hyperbox-exits: $fail failed"
sleep 0.5	# let the console drain before power-off
[ $fail = 0 ]
