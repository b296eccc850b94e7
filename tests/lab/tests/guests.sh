#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: the tiny guests run under alcatraz-run inside the lab (nested KVM
# on kvm_amd) with the same output and exit statuses as on the host.
# /alcatraz/expected/NAME.{status,out,err} come from tests/lab/compare-guests.sh;
# without them only the statuses listed in guest-cases are checked.
cases=/alcatraz/tests/lab/tests/guest-cases
exp=/alcatraz/expected
run=/alcatraz/build/examples/alcatraz-run
export ALCATRAZ_VMM=/alcatraz/build/src/vmm/alcatraz-vmm
guests=/alcatraz/build/tests/guests
[ -x "$run" ] || { echo "guests: $run is missing (build alcatraz-run first)"; exit 1; }
[ -d "$guests" ] || { echo "guests: $guests is missing (build the tiny guests first)"; exit 1; }
cd "$guests" || exit 1
pass=0 fail=0
while read -r name want args; do
    case $name in ''|'#'*) continue ;; esac
    t0=$(cut -d' ' -f1 /proc/uptime)
    # shellcheck disable=SC2086  # args are split on purpose
    "$run" $args > "/tmp/$name.out" 2> "/tmp/$name.err" < /dev/null
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    bad=
    [ "$rc" = "$want" ] || bad="$bad status $rc, want $want;"
    if [ -f "$exp/$name.status" ]; then
        host=$(cat "$exp/$name.status")
        [ "$rc" = "$host" ] || bad="$bad status $rc, host $host;"
        cmp -s "/tmp/$name.out" "$exp/$name.out" || bad="$bad stdout differs from the host's;"
        cmp -s "/tmp/$name.err" "$exp/$name.err" || bad="$bad stderr differs from the host's;"
    fi
    if [ -z "$bad" ]; then
        pass=$((pass + 1))
        echo "ok: $name (status $rc, $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s)"
    else
        fail=$((fail + 1))
        echo "FAIL: $name:$bad"
        echo "--- lab stdout:"; cat "/tmp/$name.out"
        echo "--- lab stderr:"; cat "/tmp/$name.err"
        if [ -f "$exp/$name.status" ]; then
            echo "--- host stdout:"; cat "$exp/$name.out"
            echo "--- host stderr:"; cat "$exp/$name.err"
        fi
    fi
done < "$cases"
[ -f "$exp/NO-HOST" ] && echo "guests: note: $(cat "$exp/NO-HOST")"
echo "guests: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
