#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: Hyper-box's escape monitor (issue 7).  Started with --no-kvm:
# Hyper-box first, then kvm_amd on top, then the test module hb_montest.
#   1. no false kills: a setuid-root program, su-like changes by root, a busy
#      loop of archive builds and shell scripts;
#   2. forged and late registrations are refused;
#   3. replays: registered VMM forks+execs a shell, execs a shell, a usermode
#      helper from its KVM_RUN path (and the same unregistered, as control),
#      credential overwrites (pointer, in place) and a commit_creds from a
#      module, each followed by a privileged act; a static 32-bit int 0x80
#      program, and one using the 32-bit SYSCALL instruction.
# Exit 0 pass, 1 fail.
. /alcatraz/tests/monitor/lib.sh

# control: without Hyper-box both 32-bit entries work on this kernel
check "control: int 0x80 program runs without Hyper-box" sh -c "$A/hb-int80 | grep -q alive"
check "control: 32-bit SYSCALL program runs without Hyper-box" sh -c "$A/hb-syscall32 | grep -q alive"
insmod $M/hyperbox.ko || { echo "FAIL: insmod hyperbox"; exit 1; }
/alcatraz/lab/load-kvm || { echo "FAIL: kvm_amd on top of Hyper-box"; exit 1; }
. /alcatraz/tests/monitor/replays.sh
out=$($A/hb-syscall32); rc=$?
check "static 32-bit SYSCALL (CSTAR) program killed (SIGSEGV)" test $rc = 139
check "... before its first system call" test -z "$out"

check_refusals syscall32 "used the 32-bit SYSCALL entry"
echo "monitor: $fail failed"
[ $fail = 0 ]
