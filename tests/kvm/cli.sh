#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: alcatraz-run's exit statuses, output and one-line errors on bad input.
# Usage: cli.sh ALCATRAZ_RUN GUEST_DIR
set -u
run=$1 guests=$2
pass=0 fail=0

check() { # name expected-status expected-output-regex -- command...
	local name=$1 want=$2 pattern=$3; shift 4
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ] && [[ "$out" =~ $pattern ]]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $name: status $rc (want $want), output: $out"
	fi
}

if [ ! -w /dev/kvm ]; then echo "SKIP: /dev/kvm is not usable here"; exit 77; fi

check hello 0 '^Hello from an Alcatraz tiny guest!$' -- "$run" --guest "$guests/hello.img"
check exit42 42 'exiting with 42' -- "$run" --guest "$guests/exit_status.img"
check halt 0 '^halting$' -- "$run" --guest "$guests/halt.img"
check timeout 124 'timed out' -- "$run" --timeout 0.3 --guest "$guests/endless.img"
check crash 125 'guest crashed: vcpu0: triple fault' -- "$run" --guest "$guests/triple_fault.img"
check smp 0 'cpu 1 of 2 reporting' -- "$run" --cpus 2 --guest "$guests/smp.img"
check help 0 'Usage: alcatraz-run' -- "$run" --help
check version 0 '^alcatraz-run [0-9]+\.[0-9]+' -- "$run" --version
# Bad input: one line, status 125.
check unknown-flag 125 "^alcatraz-run: unknown option '--bogus'" -- "$run" --bogus
check missing-arg 125 "needs an argument" -- "$run" --guest
check no-guest 125 '^alcatraz-run: nothing to run' -- "$run"
check zero-cpus 125 '^alcatraz-run: --cpus wants' -- "$run" --cpus 0 --guest "$guests/hello.img"
check huge-memory 125 '^alcatraz-run: --memory wants' -- "$run" --memory 999999 --guest "$guests/hello.img"
check missing-image 125 "^alcatraz-run: cannot read guest image '/nonexistent.img'" -- "$run" --guest /nonexistent.img
check empty-image 125 '^alcatraz-run: cannot create the VM: not a guest image' -- "$run" --guest /dev/null
check bad-timeout 125 '^alcatraz-run: --timeout wants' -- "$run" --timeout -1 --guest "$guests/hello.img"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
