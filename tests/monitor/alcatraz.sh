#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: libalcatraz registers each jailed VMM with Hyper-box and says so
# in its log; the guest runs unharmed under the enforcing monitor; without
# Hyper-box the log says the VM is not protected.  Started with --no-kvm and
# the build dir (alcatraz-run, tiny guests).  Exit 0 pass, 1 fail.
. /alcatraz/tests/monitor/lib.sh
R=/alcatraz/build/examples/alcatraz-run
export ALCATRAZ_VMM=/alcatraz/build/src/vmm/alcatraz-vmm
cd /alcatraz/build/tests/guests || exit 1

/alcatraz/lab/load-kvm || exit 1
"$R" -v --guest hello.img > /tmp/without.out 2> /tmp/without.err; rc=$?
cat /tmp/without.err
check "without Hyper-box: the guest runs" test $rc = 0
check "without Hyper-box: the log says the VM is not protected" grep -q "hyperbox: not loaded: this VM is not protected" /tmp/without.err
rmmod kvm_amd kvm irqbypass

insmod $M/hyperbox.ko || { echo "FAIL: insmod hyperbox"; exit 1; }
/alcatraz/lab/load-kvm || exit 1
"$R" -v --guest hello.img > /tmp/with.out 2> /tmp/with.err; rc=$?
cat /tmp/with.err /tmp/with.out
check "with Hyper-box: the guest runs" test $rc = 0
check "... with the same output" cmp -s /tmp/without.out /tmp/with.out
check "... and the log says the VM is protected" grep -q "hyperbox: VM protected: VMM registered with the escape monitor (enforcing)" /tmp/with.err
sleep 1
dmesg | grep "hyperbox: monitor"
check "Hyper-box registered the VMM" sh -c 'dmesg | grep -q "hyperbox: monitor: registered VMM pid [0-9]* (alcatraz-vmm): enforcing"'
check "no decisions against the VMM or anything else" test "$(decisions)" = 0
echo "monitor-alcatraz: $fail failed"
[ $fail = 0 ]
