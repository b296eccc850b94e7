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

one_line() { # name expected-status expected-output-regex -- command...: and nothing else
	local name=$1 want=$2 pattern=$3; shift 4
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = "$want" ] && [[ "$out" =~ $pattern ]] && [ "$(wc -l <<<"$out")" = 1 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $name: status $rc (want $want, one line), output: $out"
	fi
}

# Options refused where they would do nothing (before any VM: no KVM needed).
img=$guests/hello.img
for opt in "--disk $img" --serial "--kernel $img" "--rootfs /" "--root-disk $img" "--env A=b" \
	"--workdir /" "--initrd $img" "--cmdline quiet"; do
	# shellcheck disable=SC2086  # opt is an option and its argument
	one_line "guest-refuses-${opt%% *}" 125 "^alcatraz-run: ${opt%% *} applies to a Linux guest \(-- COMMAND\), not to --guest IMAGE: " \
		-- "$run" $opt --guest "$img"
done
one_line irqchip-off-command 125 '^alcatraz-run: --irqchip off applies to --guest IMAGE' -- "$run" --irqchip off -- true
one_line initrd-and-rootfs 125 '^alcatraz-run: --initrd excludes --rootfs' -- "$run" --initrd "$img" --rootfs / -- true
one_line rootfs-and-root-disk 125 '^alcatraz-run: --rootfs excludes --root-disk' -- "$run" --rootfs / --root-disk "$img" -- true
one_line check-takes-no-option 125 '^alcatraz-run: --check takes no other option, not --cpus$' -- "$run" --check --cpus 2
one_line check-takes-no-command 125 '^alcatraz-run: --check takes no command$' -- "$run" --check -- true
# A missing kernel or init: one line each, before /dev/kvm is looked at.
one_line missing-kernel 125 '^alcatraz-run: no guest kernel: ALCATRAZ_KERNEL=/nonexistent/vmlinux is missing or unreadable$' \
	-- env ALCATRAZ_KERNEL=/nonexistent/vmlinux "$run" -- true
one_line missing-init 125 '^alcatraz-run: no alcatraz-init: ALCATRAZ_INIT=/nonexistent/init is missing or unreadable$' \
	-- env ALCATRAZ_KERNEL="$img" ALCATRAZ_INIT=/nonexistent/init "$run" -- true

if [ ! -w /dev/kvm ]; then
	echo "$pass passed, $fail failed; SKIP the rest: /dev/kvm is not usable here"
	[ "$fail" = 0 ] && exit 77
	exit 1
fi

check hello 0 '^Hello from an Alcatraz tiny guest!$' -- "$run" --guest "$guests/hello.img"
check exit42 42 'exiting with 42' -- "$run" --guest "$guests/exit_status.img"
check halt 0 '^halting$' -- "$run" --guest "$guests/halt.img"
check timeout 124 'timed out' -- "$run" --timeout 0.3 --guest "$guests/endless.img"
check crash 125 'guest crashed: vcpu0: triple fault' -- "$run" --guest "$guests/triple_fault.img"
check smp 0 'cpu 1 of 2 reporting' -- "$run" --cpus 2 --guest "$guests/smp.img"
# Options that apply to raw guests too do what they say.
check guest-no-sandbox 0 'INSECURE: the VMM runs without its sandbox.*Hello from an Alcatraz tiny guest!' \
	-- "$run" --verbose --insecure-no-sandbox --guest "$guests/hello.img"
check guest-stats 42 '"end": "status", "exit_code": 42\}' -- "$run" --stats --guest "$guests/exit_status.img"
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
