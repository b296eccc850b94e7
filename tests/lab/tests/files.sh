#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: --no-kvm, --module, --add and script arguments reach the lab.
# Usage (via the runner): files.sh MODULE-NAME ADDED-FILE 'an argument'
fail=0
check() {
    d=$1; shift
    if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi
}
mod=$1 added=$2
check "3 arguments" test $# = 3
check "argument with spaces and a quote" test "$3" = "two words'q"
check "--no-kvm: no /dev/kvm at start" test ! -e /dev/kvm
check "--no-kvm: kvm not loaded" test ! -d /sys/module/kvm
check "--module: /alcatraz/modules/$mod.ko is there" test -f "/alcatraz/modules/$mod.ko"
check "--module: insmod $mod" insmod "/alcatraz/modules/$mod.ko"
check "--module: /sys/module/$mod" test -d "/sys/module/$mod"
check "--add: $added" grep -q "lab add marker" "$added"
check "tests/ copied to /alcatraz/tests" test -f /alcatraz/tests/lab/tests/files.sh
check "load-kvm" load-kvm
check "load-kvm: /dev/kvm" test -c /dev/kvm
echo "files: $fail failed"
[ "$fail" = 0 ]
