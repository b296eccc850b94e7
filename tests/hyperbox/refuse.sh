#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: on a CPU Hyper-box cannot use, insmod is refused with one clear
# dmesg line and nothing is left loaded.  The lab's CPU is cut down with the
# kernel's clearcpuid= (ALCATRAZ_LAB_APPEND), so the kernel sees:
#   refuse.sh svm   no AMD-V at all
#   refuse.sh npt   AMD-V without nested paging
# Exit 0 pass, 1 fail.
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
case $1 in
svm) want="refusing to load: CPU has no AMD-V (SVM)" ;;
npt) want="refusing to load: CPU has SVM but no nested paging" ;;
*) echo "usage: refuse.sh svm|npt"; exit 2 ;;
esac
check "the lab's CPU lacks $1" sh -c "! grep -qw $1 /proc/cpuinfo"
insmod /alcatraz/modules/hyperbox.ko 2>/dev/null
check "insmod refused" test $? != 0
# busybox insmod may try twice (finit_module, init_module): the same line each time.
check "one line: $want" sh -c \
	"test \"\$(dmesg | grep 'hyperbox:' | grep -v 'taints kernel\|module verification failed' |
		 sed 's/^\[[^]]*\] //' | sort -u)\" = 'hyperbox: $want'"
dmesg | grep "hyperbox:"
check "not loaded" test ! -d /sys/module/hyperbox
check "the kernel goes on (a process runs)" sh -c 'test "$(echo ok | cat)" = ok'
echo "hyperbox-refuse-$1: $fail failed"
[ $fail = 0 ]
