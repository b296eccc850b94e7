#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: with SVM already taken (kvm_amd loaded and running... the lab
# loads kvm_amd at boot, which turns EFER.SVME on when a VM is created), or
# on a CPU without SVM, Hyper-box refuses with one clear line.  Here: the
# one-line refusal when kvm_amd already owns SVM.
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
# Make kvm_amd enable SVM on every CPU: it does so when the first VM is created.
/alcatraz/add/hb-kvmtest --hold 3 >/dev/null 2>&1 &
sleep 1
insmod /alcatraz/modules/hyperbox.ko 2>/dev/null
rc=$?
wait
check "insmod refused" test $rc != 0
# busybox insmod tries finit_module, then init_module: one line per attempt, all the same.
check "one clear refusal line per load attempt" sh -c \
	'test "$(dmesg | grep "hyperbox: refusing to load: SVM already in use" | sed "s/^\[[^]]*\] //" | sort -u | wc -l)" = 1 &&
	 test "$(dmesg | grep "hyperbox:" | grep -v "taints kernel\|module verification failed" |
		 grep -vc "refusing to load: SVM already in use")" = 0'
dmesg | grep "hyperbox:"
check "not loaded" test ! -d /sys/module/hyperbox
echo "hyperbox-bad-input: $fail failed"
[ $fail = 0 ]
