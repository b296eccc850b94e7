#!/bin/sh
# VT-x lab test (tests/lab/run --vendor intel): Hyper-box's escape monitor,
# the AMD-V replays of tests/monitor/monitor.sh, kept in step with it.  Started with --no-kvm: Hyper-box first,
# then kvm_intel on top, then the test module hb_montest.  int 0x80 is
# refused through the DPL-0 gate and the #GP exit; SYSCALL outside 64-bit
# mode is #UD on Intel CPUs (SIGILL), with or without Hyper-box; SYSENTER
# is not watched (the load says so).  Last, in the same boot: unload (the
# gate is DPL 3 again) and log-only mode (int 0x80 logged and delivered).
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
$A/hb-syscall32; rc=$?
check "control: 32-bit SYSCALL is #UD on an Intel CPU (SIGILL)" test $rc = 132
insmod $M/hyperbox.ko allow_unload=1 || { echo "FAIL: insmod hyperbox"; exit 1; }
/alcatraz/lab/load-kvm || { echo "FAIL: kvm_intel on top of Hyper-box"; exit 1; }
insmod $M/hb_montest.ko || { echo "FAIL: insmod hb_montest"; exit 1; }
check "/dev/hyperbox exists" test -c /dev/hyperbox
check "monitor enforcing" sh -c 'grep -q "^mode enforce" /sys/kernel/hyperbox/monitor/status'

echo "--- 1. no false kills"
cp $T /tmp/suid && chmod 4755 /tmp/suid
check "setuid-root program run by uid 1000 finishes" $T runas 1000 /tmp/suid suid-check
check "su-like identity changes by root finish" $T su-like
busy() {
	i=0
	while [ $i -lt 30 ]; do
		tar cf - /alcatraz/tests 2>/dev/null | gzip -1 | gzip -d | tar tf - | wc -l > /dev/null || return 1
		sh -c 'for f in /alcatraz/tests/*; do case "$f" in *.sh) head -1 "$f" > /dev/null;; esac; done; id -u > /dev/null' || return 1
		( cd /tmp && mkdir -p b$i && echo "x$i" > b$i/f && cat b$i/f | grep -q "x$i" && rm -r b$i ) || return 1
		i=$((i + 1))
	done
}
check "busy loop (archives, shell scripts, subshells) finishes" busy
kills=0
for k in spawn exec cred_gain cred_path cred_tamper umh int80 syscall32; do kills=$((kills + $(act $k))); done
check "no decisions against legitimate work" test "$kills" = 0
grep -E "^(hits_|checks)" /sys/kernel/hyperbox/monitor/status

echo "--- 2. registration"
check "forged registrations refused (not PID 1, user-space VMMCALL, threaded)" $T register-bad
check "late registration (after the VM exists) refused" $T register-bad-after-vm

echo "--- 3. replays"
rm -f /tmp/vmm-shell-ran
$T vmm fork-exec; rc=$?
check "registered VMM forking (to exec a shell) after its guest ran: killed" test $rc = 137
check "... and no shell ran" test ! -e /tmp/vmm-shell-ran
$T vmm exec; rc=$?
check "registered VMM executing a shell after its guest ran: killed" test $rc = 137
check "... and no shell ran" test ! -e /tmp/vmm-shell-ran
$T vmm umh noreg; sleep 1
check "control: unregistered VMM's KVM_RUN starts the usermode helper" test -e /tmp/hb-umh-ctl-ran
$T vmm umh; rc=$?; sleep 1
check "registered VMM: usermode helper from its KVM_RUN path refused (-EPERM)" sh -c \
	'dmesg | grep -q "hb_montest: usermode helper from KVM_RUN of pid [0-9]* (hb-umh-vmm) returned -1$"'
check "... and the helper never ran" test ! -e /tmp/hb-umh-vmm-ran
host=$(hostname)
for m in cred-ptr cred-inplace commit-root; do
	$T cred $m; rc=$?
	check "$m, then sethostname: killed before the act" test $rc = 137
	check "... hostname unchanged" test "$(hostname)" = "$host"
done
out=$($A/hb-int80); rc=$?
check "static 32-bit int 0x80 program killed (SIGSEGV)" test $rc = 139
check "... before its first system call" test -z "$out"
$A/hb-syscall32; rc=$?
check "VT-x: 32-bit SYSCALL is still #UD (SIGILL)" test $rc = 132
check "VT-x: the load says SYSENTER is not watched" sh -c \
	"dmesg | grep -q 'hyperbox: monitor: SYSENTER from 32-bit programs is not refused on VT-x yet'"

sleep 1		# the log drain runs every 100 ms
dmesg | grep -E "hyperbox: monitor|hb_montest"
cat /sys/kernel/hyperbox/monitor/status
for k in spawn exec umh cred_path int80; do
	check "act $k counted" test "$(act $k)" -ge 1
done
check "act cred_tamper counted twice" test "$(act cred_tamper)" -ge 2
for w in "creates a process" "executes a program" "usermode helper from registered VMM" \
	 "credentials changed without commit_creds" "outside the legitimate paths" "used int 0x80"; do
	check "logged: $w" sh -c "dmesg | grep -q 'hyperbox: monitor: refused.*$w'"
done
check "#DB exits reach the monitor (VT-x exception exits)" sh -c 'grep -q "^exception [1-9]" /sys/kernel/hyperbox/exits'
check "no violations of the core's protections" sh -c \
	'! grep -v "^text_poke_allowed" /sys/kernel/hyperbox/violations | grep -qv " 0$"'

echo "--- 4. unload, then log-only mode"
rmmod hb_montest; rmmod kvm_intel; rmmod kvm; rmmod irqbypass
rmmod hyperbox
check "unloaded (allow_unload=1)" test ! -d /sys/module/hyperbox
check "after unload: int 0x80 works again (gate DPL 3)" sh -c "$A/hb-int80 | grep -q alive"
insmod $M/hyperbox.ko monitor=1 allow_unload=1
check "log-only monitor loaded" sh -c 'grep -q "^mode log" /sys/kernel/hyperbox/monitor/status'
out=$($A/hb-int80); rc=$?
check "log-only: int 0x80 program runs" sh -c "test $rc = 0 && echo '$out' | grep -q alive"
sleep 1
check "log-only: act int80 counted" test "$(act int80)" -ge 1
check "log-only: logged as not enforced" sh -c \
	'dmesg | grep -q "hyperbox: monitor: logged (not enforced): .*used int 0x80"'
dmesg | grep "hyperbox: monitor" | tail -n 3
echo "monitor-intel: $fail failed"
[ $fail = 0 ]
