#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-snapshot-hyperbox (issue 18), in the lab started with --no-kvm and
# hyperbox.ko: Hyper-box, then kvm_amd on top; a Linux microVM warmed up by
# alcatraz-snapshot and restored by alcatraz-run --restore.  The restored
# command's output and status are the warm-up's state; both VMMs registered
# with Hyper-box's monitor (enforcing), their guests ran on it (l2_runs
# grew across the restore), and no violation or monitor decision.
B=/alcatraz/build
M=/alcatraz/modules
export ALCATRAZ_KERNEL=$B/kernel/vmlinux ALCATRAZ_INIT=$B/src/guest/alcatraz-init
export ALCATRAZ_VMM=$B/src/vmm/alcatraz-vmm
RUN=$B/examples/alcatraz-run
SNAP=$B/examples/alcatraz-snapshot
T=/tmp/snap-hb; rm -rf $T; mkdir -p $T/snap
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); failed="$failed $1"; }
l2_runs() { awk '$1 == "l2_runs" { print $2 }' /sys/kernel/hyperbox/exits; }
registered() { dmesg | grep -c "hyperbox: monitor: registered VMM pid [0-9]* (alcatraz-vmm): enforcing"; }
decisions() {
	awk '$1 ~ /^(spawn|exec|cred_|umh|int80|syscall32|sysenter)/ { s += $2 } END { print s + 0 }' \
		/sys/kernel/hyperbox/monitor/status
}
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

insmod $M/hyperbox.ko || { echo "FAIL insmod hyperbox"; exit 1; }
/alcatraz/lab/load-kvm || { echo "FAIL kvm_amd on Hyper-box"; exit 1; }
grep -q "^active cpus=" /sys/kernel/hyperbox/state && pass "Hyper-box active: $(head -n1 /sys/kernel/hyperbox/state)" ||
	fail "Hyper-box state" "$(cat /sys/kernel/hyperbox/state)"

t0=$(ms)
out=$("$SNAP" create $T/snap -v --cmdline nopv -- sh -c 'echo warm-under-hyperbox > /tmp/warm; echo done' 2>$T/create.err); st=$?
echo "lab-snapshot-hyperbox: create took $(($(ms) - t0)) ms"
if [ $st != 0 ] || [ "$out" != done ]; then
	fail create "status $st, output '$out': $(tail -n 20 $T/create.err)"
	echo "lab-snapshot-hyperbox: $fails failed${failed:+:$failed}"; exit 1
fi
grep -q "hyperbox: VM protected" $T/create.err && pass "create: the VM was protected" ||
	fail "create protected" "$(grep hyperbox $T/create.err)"
reg0=$(registered) runs0=$(l2_runs)

t0=$(ms)
out=$("$RUN" -v --timeout 120 --restore $T/snap -- sh -c 'cat /tmp/warm; exit 7' 2>$T/restore.err); st=$?
echo "lab-snapshot-hyperbox: restore + cat took $(($(ms) - t0)) ms"
[ $st = 7 ] && [ "$out" = warm-under-hyperbox ] && pass "restore: the warm-up's file and the command's status" ||
	fail restore "status $st, output '$out': $(tail -n 20 $T/restore.err)"
grep -q "hyperbox: VM protected" $T/restore.err && pass "restore: the VM was protected" ||
	fail "restore protected" "$(grep hyperbox $T/restore.err)"
sleep 1		# the monitor's log drain runs every 100 ms
reg1=$(registered) runs1=$(l2_runs)
[ "$reg0" -ge 1 ] && [ "$reg1" -gt "$reg0" ] && pass "Hyper-box registered both VMMs ($reg1)" ||
	fail registration "registered VMMs: $reg0 after create, $reg1 after restore"
[ "$runs1" -gt "$runs0" ] 2>/dev/null && pass "the restored guest ran on Hyper-box (l2_runs $runs0 -> $runs1)" ||
	fail l2_runs "l2_runs $runs0 -> $runs1"
# text_poke_allowed counts text patches Hyper-box let through (static keys
# that kvm_amd flips): the rest are violations.
v=$(grep -v -e " 0$" -e "^text_poke_allowed " /sys/kernel/hyperbox/violations)
[ -z "$v" ] && pass "no violations" || fail violations "$v"
d=$(decisions)
[ "$d" = 0 ] && pass "no monitor decisions" || fail decisions "$(cat /sys/kernel/hyperbox/monitor/status)"
dmesg | grep -q -e "\[#[0-9]*\]" -e "BUG:" && fail "L1 oops" "$(dmesg | tail -n 30)" || pass "no oops in L1"

echo "lab-snapshot-hyperbox: $fails failed${failed:+:$failed}"
[ $fails = 0 ]
