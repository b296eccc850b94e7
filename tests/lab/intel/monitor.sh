#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# VT-x lab test (tests/lab/run --vendor intel): Hyper-box's escape monitor,
# the AMD-V replays (tests/monitor/replays.sh, shared with monitor.sh).  Started with --no-kvm: Hyper-box first,
# then kvm_intel on top, then the test module hb_montest.  int 0x80 is
# refused through the DPL-0 gate and the #GP exit; SYSCALL outside 64-bit
# mode is #UD on Intel CPUs (SIGILL), with or without Hyper-box; SYSENTER
# is refused through the VMCALL stub behind L1's SYSENTER_EIP (also with
# TF set, whose trap is taken at the stub), before kvm_intel runs a guest
# and again on each CPU after its guests ran (an exit from L2 reloads L1's
# SYSENTER_EIP from VMCS12's host state).  Last, in the same boot:
# unload (the gate is DPL 3 again, SYSENTER reaches the kernel) and
# log-only mode (int 0x80 and SYSENTER logged and delivered).
#   1. no false kills: a setuid-root program, su-like changes by root, a busy
#      loop of archive builds and shell scripts;
#   2. forged and late registrations are refused;
#   3. replays: registered VMM forks+execs a shell, execs a shell, a usermode
#      helper from its KVM_RUN path (and the same unregistered, as control),
#      credential overwrites (pointer, in place) and a commit_creds from a
#      module, each followed by a privileged act; static 32-bit programs
#      using int 0x80, the 32-bit SYSCALL instruction and SYSENTER.
# Exit 0 pass, 1 fail.
. /alcatraz/tests/monitor/lib.sh

# control: without Hyper-box int 0x80 and SYSENTER work on this kernel
check "control: int 0x80 program runs without Hyper-box" sh -c "$A/hb-int80 | grep -q alive"
$A/hb-syscall32; rc=$?
check "control: 32-bit SYSCALL is #UD on an Intel CPU (SIGILL)" test $rc = 132
out=$($A/hb-sysenter); rc=$?
check "control: SYSENTER program runs without Hyper-box" sh -c "test $rc = 0 && echo '$out' | grep -q alive"
out=$($A/hb-sysenter tf); rc=$?
check "control: SYSENTER with TF: the call runs, then SIGTRAP in user space" sh -c \
	"test $rc = 133 && echo '$out' | grep -q alive"
insmod $M/hyperbox.ko allow_unload=1 || { echo "FAIL: insmod hyperbox"; exit 1; }
out=$($A/hb-sysenter); rc=$?
check "VT-x: static 32-bit SYSENTER program killed (SIGSEGV)" test $rc = 139
check "... before its first system call" test -z "$out"
out=$($A/hb-sysenter tf); rc=$?
check "VT-x: SYSENTER with TF (trap at the stub) killed (SIGSEGV) before its first call" \
	sh -c "test $rc = 139 && test -z '$out'"
check "... and the kernel saw no single-step trap of its own" sh -c '! dmesg | grep -q "exc_debug"'
/alcatraz/lab/load-kvm || { echo "FAIL: kvm_intel on top of Hyper-box"; exit 1; }
. /alcatraz/tests/monitor/replays.sh
$A/hb-syscall32; rc=$?
check "VT-x: 32-bit SYSCALL is still #UD (SIGILL)" test $rc = 132
# After KVM guests ran: L1's SYSENTER_EIP came back from VMCS12's host state.
for mask in 1 2; do
	out=$(taskset $mask $A/hb-sysenter); rc=$?
	check "VT-x: SYSENTER after KVM guests ran, CPU mask $mask: killed (SIGSEGV)" \
		sh -c "test $rc = 139 && test -z '$out'"
done

check_refusals sysenter "used SYSENTER"
check "#DB exits reach the monitor (VT-x exception exits)" sh -c 'grep -q "^exception [1-9]" /sys/kernel/hyperbox/exits'

echo "--- 4. unload, then log-only mode"
rmmod hb_montest; rmmod kvm_intel; rmmod kvm; rmmod irqbypass
rmmod hyperbox
check "unloaded (allow_unload=1)" test ! -d /sys/module/hyperbox
check "after unload: int 0x80 works again (gate DPL 3)" sh -c "$A/hb-int80 | grep -q alive"
out=$($A/hb-sysenter); rc=$?
check "after unload: SYSENTER works again (the kernel's entry in the MSR)" sh -c \
	"test $rc = 0 && echo '$out' | grep -q alive"
insmod $M/hyperbox.ko monitor=1 allow_unload=1
check "log-only monitor loaded" sh -c 'grep -q "^mode log" /sys/kernel/hyperbox/monitor/status'
out=$($A/hb-int80); rc=$?
check "log-only: int 0x80 program runs" sh -c "test $rc = 0 && echo '$out' | grep -q alive"
out=$($A/hb-sysenter); rc=$?
check "log-only: SYSENTER program runs" sh -c "test $rc = 0 && echo '$out' | grep -q alive"
out=$($A/hb-sysenter tf); rc=$?
check "log-only: SYSENTER with TF: the call runs, then SIGTRAP in user space" sh -c \
	"test $rc = 133 && echo '$out' | grep -q alive"
sleep 1
check "log-only: act int80 counted" test "$(act int80)" -ge 1
check "log-only: act sysenter counted (two programs, two calls each)" test "$(act sysenter)" -ge 3
check "log-only: logged as not enforced" sh -c \
	'dmesg | grep -q "hyperbox: monitor: logged (not enforced): .*used int 0x80"'
check "log-only: SYSENTER logged as not enforced" sh -c \
	'dmesg | grep -q "hyperbox: monitor: logged (not enforced): .*used SYSENTER"'
dmesg | grep "hyperbox: monitor" | tail -n 3
echo "monitor-intel: $fail failed"
[ $fail = 0 ]
