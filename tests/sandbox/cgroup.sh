#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: inside the lab (a pure cgroup v2 host once mounted), each VMM
# process runs in its own cgroup with memory, pids and cpu limits, and the
# cgroup is removed with the VM. Usage: tests/lab/run tests/sandbox/cgroup.sh
B=${ALCATRAZ_BUILD:-/alcatraz/build}
export ALCATRAZ_VMM=$B/src/vmm/alcatraz-vmm
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
grep -q " /sys/fs/cgroup cgroup2 " /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup || { echo "FAIL: cannot mount cgroup2"; exit 1; }

"$B/examples/alcatraz-run" -v --memory 64 --cpus 2 --timeout 4 --guest "$B/tests/guests/endless.img" \
	>/tmp/out 2>/tmp/log &
run=$!
sleep 2
cg=$(ls -d /sys/fs/cgroup/alcatraz-vm-* 2>/dev/null | head -n 1)
check "a cgroup exists for the VM" test -n "$cg"
if [ -n "$cg" ]; then
	echo "cgroup: $cg"
	check "memory.max is guest RAM + 64 MiB" test "$(cat $cg/memory.max)" = $(((64 + 64) * 1048576))
	check "pids.max is vCPUs + 8" test "$(cat $cg/pids.max)" = 10
	check "cpu.max is two CPUs" test "$(cat $cg/cpu.max)" = "200000 100000"
	# born in it (clone3 CLONE_INTO_CGROUP). The cgroup is made before the
	# VMM starts: wait for it (at most 10 s). KVM attaches its per-VM kernel
	# threads (kvm-nx-lpage-recovery) to the VMM's cgroup: those aside, the
	# VMM is its one process.
	count() {
		vmms=0 others=0
		for p in $(cat $cg/cgroup.procs); do
			if [ "$(cat /proc/$p/comm)" = alcatraz-vmm ]; then
				vmms=$((vmms + 1))
			elif [ "$(awk '$1 == "PPid:" { print $2 }' /proc/$p/status)" != 2 ]; then
				others=$((others + 1))	# not a kernel thread
			fi
		done
	}
	for i in 1 2 3 4 5 6 7 8 9 10; do
		count
		[ $vmms = 1 ] && break	# until it has exec'd alcatraz-vmm
		sleep 1
	done
	check "alcatraz-vmm is in it" test $vmms = 1
	check "no other process is (kernel threads aside)" test $others = 0
fi
wait $run
st=$?
check "the VM ran to its timeout (124)" test $st = 124
check "the log says the limits were applied" grep -q "cgroup v2 limits applied" /tmp/log
check "the cgroup is gone with the VM" test ! -e "$cg"
cat /tmp/log
echo "cgroup: $fail failed"
[ $fail = 0 ]
