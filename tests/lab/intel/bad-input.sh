#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# VT-x lab, bad input for Hyper-box (tests/lab/run --vendor intel --module
# hyperbox.ko; kvm_intel loaded at boot).  One refusal line per insmod, the
# module not loaded, the machine fine afterwards.
#   bad-input.sh in-use    VMX owned by kvm_intel (a VM exists): "already in use"
#   bad-input.sh no-ept    (CPU model core2_penryn_t9600) "has VMX but no EPT"
#   bad-input.sh no-vmx    (CPU model p4_prescott_celeron_336) "has no VT-x"
#   bad-input.sh locked    "VMX is disabled and locked by firmware": for a
#                          real machine whose firmware disabled VT-x (Bochs
#                          always starts with the MSR locked, VMX on)
# Several cases may be given; each is checked in turn.  Exit 0 pass, 1 fail.
M=/alcatraz/modules
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
refused() { # case expected-text
	before=$(dmesg | wc -l)
	insmod $M/hyperbox.ko 2>/tmp/insmod.err
	rc=$?
	# busybox insmod tries finit_module, then init_module: one line per attempt, all the same
	dmesg | tail -n +$((before + 1)) | grep 'hyperbox:' | grep -v 'taints kernel\|module verification failed' |
		sed 's/^\[[^]]*\] //' | sort -u > /tmp/refusal
	cat /tmp/refusal
	check "$1: insmod refused" test $rc != 0
	check "$1: one distinct hyperbox line" test "$(wc -l < /tmp/refusal)" = 1
	check "$1: it says 'refusing to load: $2'" grep -q "^hyperbox: refusing to load: $2" /tmp/refusal
	check "$1: not loaded" test ! -d /sys/module/hyperbox
}
for c in "$@"; do
	case $c in
	in-use)
		# kvm_intel turns CR4.VMXE on (VMXON) when a VM is created; hb-kvmtest --hold
		# creates one and sleeps.  (A guest spinning in L2 starves the lab's shell in Bochs.)
		hold=/alcatraz/add/hb-kvmtest
		[ -x $hold ] || { echo "FAIL: in-use: $hold missing (--add build/tests/hyperbox/hb-kvmtest)"; fail=$((fail + 1)); continue; }
		$hold --hold 20 > /dev/null 2>&1 &
		vm=$!
		sleep 2
		check "in-use: a VM exists (hb-kvmtest holding it)" test -d /proc/$vm
		refused in-use 'VMX already in use'
		kill $vm 2>/dev/null; wait $vm 2>/dev/null
		;;
	no-ept) refused no-ept 'CPU has VMX but no EPT' ;;
	no-vmx) refused no-vmx 'CPU has no VT-x (VMX)' ;;
	locked) refused locked 'VMX is disabled and locked by firmware' ;;
	*) echo "bad-input.sh: unknown case $c"; fail=$((fail + 1)) ;;
	esac
done
echo "hyperbox-intel-bad-input: $fail failed"
sleep 0.2
[ $fail = 0 ]
