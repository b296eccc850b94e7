#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs in the lab booted from the Debian root where lab-install.sh installed
# the .debs (tests/lab/run --root: the root's own systemd booted it; this
# script starts after multi-user.target and loads nothing itself).
# Prints "ok: ..." or "FAIL: ..." per check, then "lab-install: N failed".
fail=0
check() { # description command...
    d=$1; shift
    if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi
}

# udev loads kvm_amd (the CPU's svm modalias) while the boot goes on.
udevadm settle --timeout=120

check "Hyper-box loaded at boot (not by this script)" test -d /sys/module/hyperbox
check "it is the DKMS-built module of this kernel ($(modinfo -n hyperbox 2>/dev/null))" \
    sh -c '[ "$(modinfo -n hyperbox)" = "/lib/modules/$(uname -r)/updates/dkms/hyperbox.ko" ]'
echo "state: $(cat /sys/kernel/hyperbox/state 2>/dev/null)"
check "Hyper-box active" sh -c 'grep -q . /sys/kernel/hyperbox/state'
echo "boot log: $(journalctl -b -o cat 2>/dev/null | grep -i "module 'hyperbox'" | tr '\n' ' ')"
# /proc/modules lists the newest module first.
order=$(awk '$1 == "hyperbox" || $1 == "kvm_amd" { print $1 }' /proc/modules | tr '\n' ' ')
echo "/proc/modules, newest first: $order"
check "kvm_amd loaded, after Hyper-box" test "$order" = "kvm_amd hyperbox "
check "the package's parameters: allow_unload=N" \
    sh -c '[ "$(cat /sys/module/hyperbox/parameters/allow_unload)" = N ]'
check "unloading is refused" sh -c '! rmmod hyperbox 2>/dev/null && test -d /sys/module/hyperbox'

# --verbose: the VMM's log (on stderr) says whether Hyper-box protects the VM.
out=$(timeout 600 /usr/bin/alcatraz-run --verbose -- echo ok 2>/tmp/run.err)
rc=$?
echo "alcatraz-run --verbose -- echo ok: status $rc, stdout '$out'"
sed 's/^/  stderr: /' /tmp/run.err
check "alcatraz-run -- echo ok (installed guest kernel and init)" test "$rc.$out" = "0.ok"
check "it reports the VM protected by Hyper-box" grep -q "hyperbox: VM protected" /tmp/run.err

timeout 300 /usr/bin/alcatraz-run --check > /tmp/check.out 2>&1
rc=$?
sed 's/^/  --check: /' /tmp/check.out
check "alcatraz-run --check exits 0 (status $rc)" test "$rc" = 0

echo "lab-install: $fail failed"
exit "$fail"
