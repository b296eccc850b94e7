#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: the monitor in logging-only mode (monitor=1): the same replays
# are logged and counted but not stopped; the policy cannot be changed at
# run time.  Started with --no-kvm.  Exit 0 pass, 1 fail.
. /alcatraz/tests/monitor/lib.sh

insmod $M/hyperbox.ko monitor=1 || { echo "FAIL: insmod hyperbox monitor=1"; exit 1; }
/alcatraz/lab/load-kvm || exit 1
insmod $M/hb_montest.ko || exit 1
check "mode is log" sh -c 'grep -q "^mode log" /sys/kernel/hyperbox/monitor/status'
check "policy change at run time refused (read-only parameter)" sh -c \
	'! echo 2 2>/dev/null > /sys/module/hyperbox/parameters/monitor && grep -qx 1 /sys/module/hyperbox/parameters/monitor'
rm -f /tmp/vmm-shell-ran
$T vmm fork-exec; rc=$?
check "registered VMM fork+exec: allowed (exit 12 = fork returned)" test $rc = 12
check "... the shell ran" test -e /tmp/vmm-shell-ran
$T cred cred-ptr; rc=$?
check "credential overwrite: the privileged act succeeds (rc 3)" test $rc = 3
out=$($A/hb-int80); rc=$?
check "int 0x80 program runs" sh -c "test $rc = 0 && echo '$out' | grep -q alive"
sleep 1
dmesg | grep "hyperbox: monitor"
for k in spawn cred_tamper int80; do
	check "act $k counted" test "$(act $k)" -ge 1
done
check "logged as not enforced" sh -c 'dmesg | grep -q "hyperbox: monitor: logged (not enforced): registered VMM"'
echo "monitor-logonly: $fail failed"
[ $fail = 0 ]
