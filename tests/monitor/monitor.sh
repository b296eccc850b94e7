#!/bin/sh
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
M=/alcatraz/modules
A=/alcatraz/add
T=$A/hb-montest
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
act() { awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/hyperbox/monitor/status; }

# control: without Hyper-box both 32-bit entries work on this kernel
check "control: int 0x80 program runs without Hyper-box" sh -c "$A/hb-int80 | grep -q alive"
check "control: 32-bit SYSCALL program runs without Hyper-box" sh -c "$A/hb-syscall32 | grep -q alive"
insmod $M/hyperbox.ko || { echo "FAIL: insmod hyperbox"; exit 1; }
/alcatraz/lab/load-kvm || { echo "FAIL: kvm_amd on top of Hyper-box"; exit 1; }
. /alcatraz/tests/monitor/replays.sh
out=$($A/hb-syscall32); rc=$?
check "static 32-bit SYSCALL (CSTAR) program killed (SIGSEGV)" test $rc = 139
check "... before its first system call" test -z "$out"

sleep 1		# the log drain runs every 100 ms
dmesg | grep -E "hyperbox: monitor|hb_montest"
cat /sys/kernel/hyperbox/monitor/status
for k in spawn exec umh cred_path int80 syscall32; do
	check "act $k counted" test "$(act $k)" -ge 1
done
check "act cred_tamper counted twice" test "$(act cred_tamper)" -ge 2
for w in "creates a process" "executes a program" "usermode helper from registered VMM" \
	 "credentials changed without commit_creds" "outside the legitimate paths" "used int 0x80" \
	 "used the 32-bit SYSCALL entry"; do
	check "logged: $w" sh -c "dmesg | grep -q 'hyperbox: monitor: refused.*$w'"
done
check "no violations of the core's protections" sh -c \
	'! grep -v "^text_poke_allowed" /sys/kernel/hyperbox/violations | grep -qv " 0$"'
echo "monitor: $fail failed"
[ $fail = 0 ]
