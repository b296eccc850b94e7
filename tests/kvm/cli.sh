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
# The cgroup options: a parent that is no cgroup v2 directory, and no cgroup
# without the sandbox.
one_line cgroup-parent-missing 125 "^alcatraz-run: --cgroup-parent '/nonexistent/cg': No such file or directory\$" \
	-- "$run" --require-cgroup --cgroup-parent /nonexistent/cg --guest "$img"
one_line cgroup-parent-not-cgroup 125 "^alcatraz-run: --cgroup-parent '/' is not a cgroup v2 directory\$" \
	-- "$run" --cgroup-parent / --guest "$img"
one_line cgroup-parent-relative 125 "^alcatraz-run: --cgroup-parent wants an absolute path, not 'cg'\$" \
	-- "$run" --cgroup-parent cg -- true
one_line require-cgroup-no-sandbox 125 '^alcatraz-run: --require-cgroup excludes --insecure-no-sandbox: an unsandboxed VMM gets no cgroup$' \
	-- "$run" --insecure-no-sandbox --require-cgroup --guest "$img"

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
check guest-no-sandbox 0 'INSECURE: the VMM runs without its .*Hello from an Alcatraz tiny guest!' \
	-- "$run" --verbose --insecure-no-sandbox --guest "$guests/hello.img"
check guest-stats 42 '"end": "status", "exit_code": 42\}' -- "$run" --stats --guest "$guests/exit_status.img"
# --stats has the usage figures: a VM that ran used vCPU time and memory.
usage_re='"vcpu_cpu_ms": ([0-9.]+), "vmm_peak_rss_bytes": ([0-9]+), "disk_read_bytes": 0, "disk_written_bytes": 0,'
out=$("$run" --stats --guest "$guests/exit_status.img" 2>&1)
if [[ $out =~ $usage_re ]] && [ "${BASH_REMATCH[1]//[.0]/}" != "" ] && [ "${BASH_REMATCH[2]}" -gt 0 ]; then
	pass=$((pass + 1))
	echo "usage: vcpu ${BASH_REMATCH[1]} ms, VMM peak RSS ${BASH_REMATCH[2]} bytes"
else
	fail=$((fail + 1))
	echo "FAIL guest-stats-usage: want vcpu_cpu_ms > 0 and vmm_peak_rss_bytes > 0, output: $out"
fi
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

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL $*"; }

# The child of process $1 (the VMM of an alcatraz-run), once it exists.
child_of() {
	local f
	for _ in $(seq 100); do
		for f in /proc/[0-9]*/status; do
			if grep -qx "PPid:[[:space:]]*$1" "$f" 2>/dev/null; then
				f=${f#/proc/}; echo "${f%/status}"; return 0
			fi
		done
		sleep 0.1
	done
	return 1
}

cgroup_checks() {
	local parent=$cgroot/alcatraz-cli-$$ busy=$cgroot/alcatraz-cli-busy-$$ vmm cg rc holder
	echo "+memory +pids +cpu" >"$cgroot/cgroup.subtree_control" 2>/dev/null
	if ! mkdir "$parent" || ! echo "+memory +pids +cpu" >"$parent/cgroup.subtree_control"; then
		ko "cgroup-parent-setup: cannot delegate memory, pids and cpu to $parent"
		return
	fi
	# While it runs, the VMM (alcatraz-run's child) is in a cgroup of its
	# own under the parent; the cgroup goes with the VM.
	"$run" --require-cgroup --cgroup-parent "$parent" --timeout 5 --guest "$guests/endless.img" \
		>/dev/null 2>&1 &
	local runner=$!
	if vmm=$(child_of $runner); then
		cg=$(sed -n 's/^0:://p' "/proc/$vmm/cgroup")
		echo "VMM $vmm in cgroup $cg"
		if [[ $cg == ${parent#"$cgroot"}/alcatraz-vm-* ]] && [ -d "$cgroot$cg" ] &&
			grep -qx "$vmm" "$cgroot$cg/cgroup.procs"; then ok
		else ko "cgroup-parent-used: the VMM's cgroup is '$cg', not under $parent"; fi
	else
		ko "cgroup-parent-used: no child of alcatraz-run ($runner) found"
	fi
	wait $runner; rc=$?
	if [ $rc = 124 ]; then ok; else ko "cgroup-parent-run: status $rc (want 124, the timeout)"; fi
	if [ -n "${cg:-}" ] && [ ! -e "$cgroot$cg" ] && [ -z "$(ls -d "$parent"/alcatraz-vm-* 2>/dev/null)" ]; then ok
	else ko "cgroup-parent-removed: '$cgroot${cg:-?}' is left after the VM"; fi
	rmdir "$parent"
	# A parent whose controllers cannot be enabled (a process lives in it,
	# so the no-internal-process rule forbids them): the VM runs without
	# limits, unless --require-cgroup makes that an error.
	mkdir "$busy" || { ko "cgroup-busy-setup: cannot make $busy"; return; }
	sleep 600 &
	holder=$!
	echo $holder >"$busy/cgroup.procs" || ko "cgroup-busy-setup: cannot move $holder into $busy"
	check cgroup-not-required 0 'Hello from an Alcatraz tiny guest!' -- "$run" --cgroup-parent "$busy" --guest "$img"
	one_line cgroup-required 125 "^alcatraz-run: cannot create the VM: the VMM sandbox could not be installed \(--require-cgroup: .* $busy\?\) \(run with --verbose for details\)\$" \
		-- "$run" --require-cgroup --cgroup-parent "$busy" --guest "$img"
	check cgroup-required-verbose 125 "cgroup v2 limits required but not applied: the memory, pids and cpu controllers are not available in $busy" \
		-- "$run" --verbose --require-cgroup --cgroup-parent "$busy" --guest "$img"
	kill $holder; wait $holder 2>/dev/null
	rmdir "$busy"
}

# --cgroup-parent and --require-cgroup on a cgroup v2 hierarchy (the lab's,
# mounted here when nothing is; a host's own when it is root's to write).
cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$cgroot" ] && [ -d /sys/fs/cgroup ] && [ -z "$(ls -A /sys/fs/cgroup)" ] &&
	mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null; then
	cgroot=/sys/fs/cgroup
fi
if [ -n "$cgroot" ] && [ -w "$cgroot/cgroup.subtree_control" ]; then
	cgroup_checks
else
	echo "SKIP the --cgroup-parent checks: no writable cgroup v2 hierarchy here"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
