#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test (2 CPUs): the kernel patches its own text while the other CPU
# runs through the patched sites, with Hyper-box and its monitor enforcing.
# A static key toggle is text_poke_bp(): INT3 on the site, the rest, then
# the first byte, with a sync on every CPU between.  A CPU that meets the
# INT3 exits on the monitor's INT n intercept (QEMU reports INT3 there),
# and by the time Hyper-box reads the instruction it may be the new one.
# This replays that race thousands of times; it once ended in a #GP in
# __schedule.  Exit 0 pass, 1 fail.
M=/alcatraz/modules
N=${1:-200}
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
k=/proc/sys/kernel/sched_schedstats
[ -w $k ] || { echo "FAIL: no $k"; exit 1; }
insmod $M/hyperbox.ko || { echo "FAIL: insmod hyperbox"; exit 1; }
st=/sys/kernel/hyperbox/monitor/status
check "monitor enforcing, int 0x80 refused" sh -c "grep -q '^mode enforce' $st && grep -q '^compat32 refused' $st"
# Context switches on both CPUs: every switch runs __schedule's patched sites.
for cpu in 1 2 1 2; do
	taskset $cpu sh -c 'while :; do dd if=/dev/zero bs=512 count=200 2>/dev/null | cat > /dev/null; done' &
done
t0=$(cut -d' ' -f1 /proc/uptime)
i=0
while [ $i -lt "$N" ]; do
	echo 1 > $k; echo 0 > $k
	i=$((i + 1))
	[ $((i % 100)) = 0 ] && echo "  $i toggles, $(cut -d' ' -f1 /proc/uptime) s, int_refetched $(awk '$1 == "int_refetched" { print $2 }' $st)"
done
t1=$(cut -d' ' -f1 /proc/uptime)
# shellcheck disable=SC2046  # the job list is meant to split
kill $(jobs -p) 2>/dev/null; wait 2>/dev/null
echo "toggled a static key $((2 * N)) times in $(echo "$t1 $t0" | awk '{print $1 - $2}') s"
check "all toggles done" test $i = "$N"
check "no oops (#GP, stray int3) or lockup" sh -c '! dmesg | grep -q -e "\[#[0-9]*\]" -e "BUG:"'
check "Ring -1 still active on both CPUs" sh -c 'grep -q "^active cpus=2/2" /sys/kernel/hyperbox/state'
check "no violations from the kernel's own patching" sh -c \
	'! grep -v "^text_poke_allowed" /sys/kernel/hyperbox/violations | grep -qv " 0$"'
grep -E "^(int_refetched|checks)" $st
grep -E "^text_poke_allowed" /sys/kernel/hyperbox/violations
echo "textpoke: $fail failed"
[ $fail = 0 ]
