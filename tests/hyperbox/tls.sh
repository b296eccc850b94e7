#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: the TLS descriptors of load_TLS under Hyper-box (AMD-V, or the
# VT-x lab).  The GDT is read-only to the kernel, so Hyper-box carries out
# each context switch's three TLS stores: the first in its exit, the two
# that follow in the same exit (protect.c, tls_follow).  hb-tls ROUNDS: two
# tasks with their own descriptor in one GDT slot switch ROUNDS times each
# and check, from the live GDT, that the slot is theirs after every switch.
# Hyper-box is loaded with monitor_compat32=0: set_thread_area exists only
# as a 32-bit system call, which the monitor refuses by default.
rounds=${1:-2000}
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
X=/sys/kernel/hyperbox/exits
insmod /alcatraz/modules/hyperbox.ko monitor_compat32=0 || { echo "FAIL: insmod hyperbox"; exit 1; }
cp $X /tmp/before
check "two tasks, one TLS slot: each finds its own descriptor after every switch" \
	timeout 300 /alcatraz/add/hb-tls "$rounds"
cp $X /tmp/after
delta() { awk -v n="$1" 'NR == FNR { if ($1 == n) b = $2; next } $1 == n { print $2 - b }' /tmp/before /tmp/after; }
tls=$(delta gdt_tls) follow=$(delta gdt_tls_follow)
echo "tls: $tls TLS descriptors written by Hyper-box, $follow of them in an earlier store's exit; L1 faults: $(delta npf)$(delta ept_violation)"
# each of the 2 x ROUNDS reads is a switch, whose load_TLS writes three descriptors
check "the switches went through Hyper-box ($tls TLS descriptors for 2 x $rounds switches)" \
	test "$tls" -ge $((6 * rounds))
# Three stores a switch, two of them followers: 2/3 (a little less where a
# switch's first store is not load_TLS's, e.g. set_thread_area's own).
check "load_TLS costs one exit a switch: $follow of $tls stores rode along" \
	test $((3 * follow)) -ge $((2 * tls - 30))
check "no GDT write refused" grep -q "^gdt_write 0$" /sys/kernel/hyperbox/violations
check "no oops" sh -c '! dmesg | grep -q -e "\[#[0-9]*\]" -e "kernel BUG" -e "BUG: unable"'
echo "hyperbox-tls: $fail failed"
[ $fail = 0 ]
