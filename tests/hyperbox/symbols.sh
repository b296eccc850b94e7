#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: on a kernel that lacks a symbol Hyper-box needs, insmod is
# refused with one line naming it, and nothing is left: the next load
# works.  The module's hide_symbol= (testing) makes one lookup fail, in each
# of the places that look symbols up.  Exit 0 pass, 1 fail.
M=/alcatraz/modules/hyperbox.ko
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
lines() { dmesg | grep 'hyperbox: refusing' | sed 's/^\[[^]]*\] //' | sort -u; }
#   max_pfn: the physical memory size   _text: the host page table
#   poking_mm: the text_poke path       commit_creds: a monitor breakpoint
#   (lines: what the failed load said; the monitor announces itself before the
#   later steps run, so only "refusing" lines are counted)
for s in max_pfn _text poking_mm commit_creds; do
	dmesg -c > /dev/null
	insmod $M hide_symbol=$s 2>/dev/null
	check "without $s: insmod refused" test $? != 0
	check "... one line: kernel symbol $s not found" \
		test "$(lines)" = "hyperbox: refusing to load: kernel symbol $s not found"
	check "... nothing loaded" test ! -d /sys/module/hyperbox
	dmesg | grep "hyperbox:" | grep -v "taints kernel\|module verification failed"
done
dmesg -c > /dev/null
insmod $M
check "then a normal load works" sh -c 'grep -q "^active cpus=1/1" /sys/kernel/hyperbox/state'
echo "hyperbox-symbols: $fail failed"
[ $fail = 0 ]
