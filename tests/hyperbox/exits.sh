#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: what KVM's per-run path costs in Hyper-box exits (AMD-V).  One
# lab boot: Hyper-box, kvm_amd on top, hb-kvmtest --cpuid N (N CPUID exits
# that KVM handles in the kernel: N+1 L2 runs in one KVM_RUN), and the
# counters of /sys/kernel/hyperbox/exits before and after, per L2 run.
#   exits.sh [N] [MODE]   N default 500
#   MODE umip: the lab CPU has UMIP (ALCATRAZ_LAB_CPU_FLAGS=,+umip), so
#              KVM's LTR path must cost no LIDT/LGDT exit after the first
#              run on each CPU (at most 2 per CPU over the whole workload)
# Prints "exits: NAME DELTA PER_RUN" lines and the sysfs figures.
n=${1:-500} mode=${2:-}
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
kvmtest=/alcatraz/add/hb-kvmtest
X=/sys/kernel/hyperbox/exits
echo "lab cpu: $(tr " " "\n" < /proc/cpuinfo | grep -x -e vgif -e v_vmsave_vmload -e umip | sort -u | tr "\n" " ")"
insmod /alcatraz/modules/hyperbox.ko || { echo "FAIL: insmod hyperbox"; exit 1; }
/alcatraz/lab/load-kvm || { echo "FAIL: kvm_amd on Hyper-box"; exit 1; }
# A first VM: kvm_amd's per-CPU setup and the first LTR path are not per run.
timeout 60 "$kvmtest" --cpuid 10 > /dev/null 2>&1
cp $X /tmp/before
out=$(timeout 300 "$kvmtest" --cpuid "$n" | tr -d '\n')
cp $X /tmp/after
check "hb-kvmtest --cpuid $n halted" test "$out" = "exit: hlt"
# name delta per-run, for every counter that moved (per_run lines are figures, not counters)
awk 'NR == FNR { if ($1 !~ /_per_/) b[$1] = $2; next }
     $1 !~ /_per_/ { d[$1] = $2 - b[$1]; o[++k] = $1 }
     END { r = d["l2_runs"]; for (i = 1; i <= k; i++) if (d[o[i]]) {
		printf "exits: %s %d %.3f\n", o[i], d[o[i]], r ? d[o[i]] / r : 0
		if (o[i] !~ /^(l2_runs|shadow_fills|shadow_resets|vmcs_shadow_loads|l2_reflected_to_l1|vm_exits)$/)
			t += d[o[i]] }
	   printf "exits: sum_of_exit_counters %d %.3f\n", t, r ? t / r : 0 }' /tmp/before /tmp/after
grep _per_ $X
runs=$(awk 'NR == FNR { if ($1 == "l2_runs") b = $2; next } $1 == "l2_runs" { print $2 - b }' /tmp/before /tmp/after)
check "l2_runs grew by at least N ($runs)" test "$runs" -ge "$n"
check "sysfs prints exits_per_l2_run" grep -q "^exits_per_l2_run [0-9]*\.[0-9][0-9][0-9]$" $X
if [ "$mode" = umip ]; then
	dtr=$(awk 'NR == FNR { if ($1 == "lidt_lgdt") b = $2; next } $1 == "lidt_lgdt" { print $2 - b }' /tmp/before /tmp/after)
	check "KVM's LTR path: no LIDT/LGDT exit per run with UMIP ($dtr for $runs runs)" test "$dtr" -le 4
fi
check "no nested violations" sh -c '! grep -E "^nested_" /sys/kernel/hyperbox/violations | grep -qv " 0$"'
check "no oops in L1" sh -c '! dmesg | grep -q -e "\[#[0-9]*\]" -e "BUG:"'
echo "hyperbox-exits: $fail failed"
[ $fail = 0 ]
