#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: what KVM's per-run path costs in Hyper-box exits (AMD-V).  One
# lab boot: Hyper-box, kvm_amd on top, hb-kvmtest --cpuid N (N CPUID exits
# that KVM handles in the kernel: N+1 L2 runs in one KVM_RUN), and the
# counters of /sys/kernel/hyperbox/exits before and after, per L2 run; then
# the same for 3N, and what the 2N more runs cost each (the start and end of
# the process, the same in both, drop out: per L2 run alone).
#   exits.sh [N [FEATURE...]]   N default 500
#   umip: the lab CPU has UMIP (ALCATRAZ_LAB_CPU_FLAGS=,+umip): KVM's LTR
#         path costs no LIDT/LGDT exit per run
#   vgif: the lab CPU has virtual GIF (,+vgif): L1's STGI costs no exit per run
#   vls: the lab CPU has virtual VMLOAD/VMSAVE (,+v-vmsave-vmload, the lab's
#        patched QEMU): KVM's VMLOADs and VMSAVE cost no exit per run
#   off: the lab CPU has vGIF and virtual VMLOAD/VMSAVE, Hyper-box is loaded
#        with vgif=0 vls=0: the fallback by turning them off
#   nowin: Hyper-box is loaded with gif_window=0: CLGI exits every run (with
#        vgif and vls, the GIF window takes L1's CLGI and STGI exits away)
#   nortss: kvm_amd is /alcatraz/modules/kvm-amd-nortss.ko, built without
#         reload_tss as Linux 6.5 and later have it (tests/hyperbox/kvm-amd/):
#         no GDT write per run, and STGI is where the VMLOAD window closes
#   none given: the fallback (two LIDT/LGDT and one STGI exit per run)
# Prints "exits: NAME DELTA PER_RUN" lines and the sysfs figures.  Then two
# VMs at once: the shadow nested page tables are kept per L1 root.
n=${1:-500}
[ $# -gt 0 ] && shift
umip=0 vgif=0 vls=0 nortss=0 nowin=0 params=
for f in "$@"; do
	case $f in umip) umip=1 ;; vgif) vgif=1 ;; vls) vls=1 ;; off) params="vgif=0 vls=0" ;;
	nortss) nortss=1 ;; nowin) nowin=1 params="gif_window=0" ;;
	*) echo "exits.sh: unknown feature '$f'"; exit 2 ;; esac
done
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
kvmtest=/alcatraz/add/hb-kvmtest
X=/sys/kernel/hyperbox/exits
echo "lab cpu: $(tr " " "\n" < /proc/cpuinfo | grep -x -e vgif -e v_vmsave_vmload -e umip | sort -u | tr "\n" " ")"
if [ -n "$params" ]; then
	check "the lab CPU has vGIF and virtual VMLOAD/VMSAVE to turn off" sh -c \
		"grep -qw vgif /proc/cpuinfo && grep -qw v_vmsave_vmload /proc/cpuinfo"
fi
# shellcheck disable=SC2086 # module parameters, split on purpose
insmod /alcatraz/modules/hyperbox.ko $params || { echo "FAIL: insmod hyperbox"; exit 1; }
if [ $nortss = 1 ]; then
	cp /alcatraz/modules/kvm-amd-nortss.ko /lib/modules/lab/kvm-amd.ko || { echo "FAIL: no kvm-amd-nortss.ko"; exit 1; }
fi
/alcatraz/lab/load-kvm || { echo "FAIL: kvm_amd on Hyper-box"; exit 1; }
if [ $nortss = 1 ]; then
	check "kvm_amd is the out-of-tree one, without reload_tss (taint $(cat /sys/module/kvm_amd/taint))" \
		grep -q O /sys/module/kvm_amd/taint
fi
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
		if (o[i] !~ /^(l2_runs|shadow_fills|shadow_resets|vmcs_shadow_loads|shadow_ahead|l2_reflected_to_l1|vm_exits|gdt_.*)$/)
			t += d[o[i]] }
	   printf "exits: sum_of_exit_counters %d %.3f\n", t, r ? t / r : 0 }' /tmp/before /tmp/after
grep _per_ $X
runs=$(awk 'NR == FNR { if ($1 == "l2_runs") b = $2; next } $1 == "l2_runs" { print $2 - b }' /tmp/before /tmp/after)
check "l2_runs grew by at least N ($runs)" test "$runs" -ge "$n"
check "sysfs prints exits_per_l2_run" grep -q "^exits_per_l2_run [0-9]*\.[0-9][0-9][0-9]$" $X
# delta NAME [BEFORE AFTER]: how much a counter grew over the workload
delta() { awk -v n="$1" 'NR == FNR { if ($1 == n) b = $2; next } $1 == n { print $2 - b }' \
	"${2:-/tmp/before}" "${3:-/tmp/after}"; }
cp $X /tmp/before3
out3=$(timeout 600 "$kvmtest" --cpuid $((3 * n)) | tr -d '\n')
cp $X /tmp/after3
check "hb-kvmtest --cpuid $((3 * n)) halted" test "$out3" = "exit: hlt"
# per_run_more NAME: what each L2 run of the longer workload cost beyond the shorter's, in NAME exits
per_run_more() {
	awk -v a="$(($(delta "$1" /tmp/before3 /tmp/after3) - $(delta "$1")))" \
	    -v r="$(($(delta l2_runs /tmp/before3 /tmp/after3) - $(delta l2_runs)))" \
	    'BEGIN { printf "%.3f\n", (r > 0 ? a / r : 999) }'
}
marginal=$(per_run_more vm_exits)
echo "exits: per L2 run, $((2 * n)) more runs: vm_exits $marginal, npf $(per_run_more npf)," \
	"cpuid $(per_run_more cpuid), stgi $(per_run_more stgi), clgi $(per_run_more clgi)," \
	"l1_intr $(per_run_more l1_intr)"
dtr=$(delta lidt_lgdt) stgi=$(delta stgi) clgi=$(delta clgi)
vlx=$(($(delta vmload) + $(delta vmsave)))
win=0
[ $vgif = 1 ] && [ $vls = 1 ] && [ $nowin = 0 ] && win=1
tss=$(($(delta gdt_tss_type) + $(delta gdt_ltr)))
if [ $umip = 1 ]; then
	check "KVM's LTR path: no LIDT/LGDT exit per run with UMIP ($dtr for $runs runs)" test "$dtr" -le 4
else
	check "without UMIP: two LIDT/LGDT exits per run ($dtr for $runs runs)" test "$dtr" -ge $((2 * n))
fi
if [ $nortss = 1 ]; then
	check "kvm_amd without reload_tss: no TSS descriptor write or LTR per run ($tss for $runs runs)" \
		test "$tss" -le 4
else
	check "kvm_amd 6.1's reload_tss: a TSS descriptor write and an LTR per run ($tss for $runs runs)" \
		test "$tss" -ge $((2 * n))
fi
if [ $win = 1 ]; then
	# The GIF window: from the #VMEXIT to the next VMRUN L1's STGI and CLGI
	# run without exits; its interrupts exit instead (a few per workload).
	check "the GIF window: no CLGI exit per run ($clgi for $runs runs)" test "$clgi" -le $((n / 10))
	check "the GIF window: no STGI exit per run ($stgi for $runs runs)" test "$stgi" -le $((n / 10))
	if [ $nortss = 1 ]; then
		check "at most 2.5 Hyper-box exits per L2 run ($marginal)" \
			awk -v m="$marginal" 'BEGIN { exit !(m ~ /^[0-9]+\.[0-9]+$/ && m + 0 <= 2.5) }'
	else
		check "at most 4.5 Hyper-box exits per L2 run, reload_tss's two GDT writes included ($marginal)" \
			awk -v m="$marginal" 'BEGIN { exit !(m ~ /^[0-9]+\.[0-9]+$/ && m + 0 <= 4.5) }'
	fi
else
	check "without the GIF window: a CLGI exit per run ($clgi for $runs runs)" test "$clgi" -ge "$n"
	if [ $nortss = 1 ]; then
		# No exit between KVM's VMLOAD of its own state and its STGI: STGI's
		# exit closes the VMLOAD window and checks TR and LDTR.
		check "kvm_amd without reload_tss: an STGI exit per run ($stgi for $runs runs)" test "$stgi" -ge "$n"
	elif [ $vgif = 1 ]; then
		check "L1's STGI: no exit per run with vGIF ($stgi for $runs runs)" test "$stgi" -le 4
	else
		check "without vGIF: an STGI exit per run ($stgi for $runs runs)" test "$stgi" -ge "$n"
	fi
fi
if [ $vls = 1 ]; then
	check "the lab CPU has virtual VMLOAD/VMSAVE (the patched QEMU)" grep -qw v_vmsave_vmload /proc/cpuinfo
	check "KVM's VMLOAD/VMSAVE: no exit per run with virtual VMLOAD/VMSAVE ($vlx for $runs runs)" \
		test "$vlx" -le $((n / 10))
else
	check "without virtual VMLOAD/VMSAVE: three VMLOAD/VMSAVE exits per run ($vlx for $runs runs)" \
		test "$vlx" -ge $((3 * n))
fi
if [ $win = 1 ]; then
	# KVM_RUN's return to user space, at the end, in the GIF window
	check "a SYSCALL/SYSRET trapped in the GIF window only when KVM_RUN returns ($(delta vls_syscall_ud))" \
		test "$(delta vls_syscall_ud)" -le 1
else
	check "no SYSCALL/SYSRET trapped in a VMLOAD/VMSAVE window" test "$(delta vls_syscall_ud)" = 0
fi
# Two VMs taking turns on one CPU (the lab has one): each keeps its shadow
# nested page table, so a switch neither resets nor refills one.
cp $X /tmp/before
timeout 300 "$kvmtest" --cpuid 1000 > /tmp/vm1 2>&1 & p1=$!
timeout 300 "$kvmtest" --cpuid 1000 > /tmp/vm2 2>&1
wait $p1
cp $X /tmp/after
check "two VMs halted" test "$(cat /tmp/vm1 /tmp/vm2 | tr -d '\n')" = "exit: hltexit: hlt"
resets=$(delta shadow_resets) runs=$(delta l2_runs)
echo "exits: two VMs: $runs L2 runs, $resets shadow resets, $(delta shadow_fills) fills"
check "two VMs on one CPU: no shadow reset per switch ($resets for $runs runs)" test "$resets" -le 4
check "no nested or TR/LDTR violations" sh -c '! grep -E "^(nested_|l1_tr_ldtr)" /sys/kernel/hyperbox/violations | grep -qv " 0$"'
# (soft-lockup reports are left out: a host loaded by other work starves the
# emulator for tens of seconds, which the lab's watchdog reports)
check "no oops in L1" sh -c '! dmesg | grep -q -e "\[#[0-9]*\]" -e "kernel BUG" -e "BUG: unable"'
echo "hyperbox-exits: $fail failed"
[ $fail = 0 ]
