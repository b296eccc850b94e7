#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Inside the lab: the benchmark without, then with Hyper-box; ratios.
# With the build dir in the lab (run.sh copies it when alcatraz-run is
# built), also a Linux microVM boot through alcatraz-run on kvm_amd: kvm_amd
# alone first, then unloaded, Hyper-box loaded and kvm_amd on top.
# Then Hyper-box's exits: per getpid, per fork+exec and per second of
# CPU-bound work (from hb-bench), and per L2 run of KVM (hb-kvmtest --cpuid,
# and the microVM boots): figures that do not depend on the lab's speed.
B=/alcatraz/add/hb-bench
K=/alcatraz/add/hb-kvmtest
X=/sys/kernel/hyperbox/exits
R=/alcatraz/build/examples/alcatraz-run
export ALCATRAZ_KERNEL=/alcatraz/build/kernel/vmlinux ALCATRAZ_INIT=/alcatraz/build/src/guest/alcatraz-init
export ALCATRAZ_VMM=/alcatraz/build/src/vmm/alcatraz-vmm
# Each run below is stopped after TMO s (BENCH_RUN_TIMEOUT) and said so: one
# hung run costs TMO, not the lab's whole --timeout.
TMO=${BENCH_RUN_TIMEOUT:-300}
tmo() { timeout $TMO "$@"; st=$?; [ $st != 143 ] || echo "bench: no end within $TMO s: $*" >&2; return $st; }
microvm=0
[ -x "$R" ] && [ -f "$ALCATRAZ_KERNEL" ] && [ -x "$ALCATRAZ_INIT" ] && microvm=1

# microvm_ms: mean wall time of 3 runs of `true` in a Linux microVM, in ms
microvm_ms() {
	t0=$(cut -d' ' -f1 /proc/uptime)
	for i in 1 2 3; do
		tmo "$R" --insecure-no-sandbox -- true > /dev/null 2>&1 < /dev/null || echo "microvm run failed" >&2
	done
	t1=$(cut -d' ' -f1 /proc/uptime)
	awk "BEGIN { printf \"microvm_boot_ms %.0f\\n\", ($t1 - $t0) * 1000 / 3 }"
}

# per_run NAME CMD...: Hyper-box's exits per L2 run while CMD runs
per_run() {
	name=$1; shift
	cp $X /tmp/x0
	tmo "$@" > /dev/null 2>&1 < /dev/null || echo "bench: $name: '$*' failed" >&2
	cp $X /tmp/x1
	awk -v n="$name" 'NR == FNR { b[$1] = $2; next } { d[$1] = $2 - b[$1] }
		END { if (d["l2_runs"] > 0)
			printf "exits_per_l2_run_%s %.3f\nl1_exits_per_l2_run_%s %.3f\nl2_runs_%s %d\n",
			       n, d["vm_exits"] / d["l2_runs"], n,
			       (d["vm_exits"] - d["l2_exit"]) / d["l2_runs"], n, d["l2_runs"]
		      else printf "exits_per_l2_run_%s none (no L2 run)\n", n }' /tmp/x0 /tmp/x1
}

echo "bench: without Hyper-box" >&2
tmo $B > /tmp/without.txt
if [ $microvm = 1 ]; then
	echo "bench: microVM, kvm_amd alone" >&2
	/alcatraz/lab/load-kvm && microvm_ms >> /tmp/without.txt
	rmmod kvm_amd && rmmod kvm && rmmod irqbypass
fi
insmod /alcatraz/modules/hyperbox.ko || exit 1
echo "bench: with Hyper-box" >&2
tmo $B > /tmp/with-all.txt
grep -v '^exits_' /tmp/with-all.txt > /tmp/with.txt
grep '^exits_' /tmp/with-all.txt > /tmp/exits.txt
/alcatraz/lab/load-kvm || echo "bench: kvm_amd does not load on Hyper-box" >&2
if [ -x $K ]; then
	tmo $K --cpuid 10 > /dev/null 2>&1	# kvm_amd's per-CPU setup is not per run
	per_run cpuid $K --cpuid 500 >> /tmp/exits.txt
fi
if [ $microvm = 1 ]; then
	echo "bench: microVM, kvm_amd on Hyper-box" >&2
	cp $X /tmp/m0
	microvm_ms >> /tmp/with.txt
	cp $X /tmp/m1
	awk 'NR == FNR { b[$1] = $2; next } { d[$1] = $2 - b[$1] }
		END { if (d["l2_runs"] > 0) printf "exits_per_l2_run_microvm %.3f\n", d["vm_exits"] / d["l2_runs"] }' \
		/tmp/m0 /tmp/m1 >> /tmp/exits.txt
fi
echo "metric without with ratio"
paste /tmp/without.txt /tmp/with.txt | awk '{ printf "%s %s %s %.3fx\n", $1, $2, $4, $4 / $2 }'
echo "hyperbox exits (counted, not timed):"
cat /tmp/exits.txt
