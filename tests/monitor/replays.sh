# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tests/monitor/monitor.sh (AMD-V lab) and tests/lab/intel/monitor.sh
# (VT-x lab) once Hyper-box and KVM are loaded: the vendor-neutral part of
# the monitor's lab test (no false kills, registration, the VMM and
# credential replays, int 0x80).  Uses lib.sh's check(), act(), $M, $A, $T.
insmod $M/hb_montest.ko || { echo "FAIL: insmod hb_montest"; exit 1; }
check "/dev/hyperbox exists" test -c /dev/hyperbox
check "monitor enforcing" sh -c 'grep -q "^mode enforce" /sys/kernel/hyperbox/monitor/status'

echo "--- 1. no false kills"
# (a vendor's test may have refused its 32-bit entry before: counted from here)
kills0=$(decisions)
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
check "no decisions against legitimate work" test "$(decisions)" = "$kills0"
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
