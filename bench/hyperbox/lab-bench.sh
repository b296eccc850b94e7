#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Inside the lab: the benchmark without, then with Hyper-box; ratios.
# With the build dir in the lab (run.sh copies it when alcatraz-run is
# built), also a Linux microVM boot through alcatraz-run on kvm_amd: kvm_amd
# alone first, then unloaded, Hyper-box loaded and kvm_amd on top.
B=/alcatraz/add/hb-bench
R=/alcatraz/build/examples/alcatraz-run
export ALCATRAZ_KERNEL=/alcatraz/build/kernel/vmlinux ALCATRAZ_INIT=/alcatraz/build/src/guest/alcatraz-init
microvm=0
[ -x "$R" ] && [ -f "$ALCATRAZ_KERNEL" ] && [ -x "$ALCATRAZ_INIT" ] && microvm=1

# microvm_ms: mean wall time of 3 runs of `true` in a Linux microVM, in ms
microvm_ms() {
	t0=$(cut -d' ' -f1 /proc/uptime)
	for i in 1 2 3; do
		"$R" --insecure-no-sandbox -- true > /dev/null 2>&1 < /dev/null || echo "microvm run failed" >&2
	done
	t1=$(cut -d' ' -f1 /proc/uptime)
	awk "BEGIN { printf \"microvm_boot_ms %.0f\\n\", ($t1 - $t0) * 1000 / 3 }"
}

echo "bench: without Hyper-box" >&2
$B > /tmp/without.txt
if [ $microvm = 1 ]; then
	echo "bench: microVM, kvm_amd alone" >&2
	/alcatraz/lab/load-kvm && microvm_ms >> /tmp/without.txt
	rmmod kvm_amd && rmmod kvm && rmmod irqbypass
fi
insmod /alcatraz/modules/hyperbox.ko || exit 1
echo "bench: with Hyper-box" >&2
$B > /tmp/with.txt
if [ $microvm = 1 ]; then
	echo "bench: microVM, kvm_amd on Hyper-box" >&2
	/alcatraz/lab/load-kvm && microvm_ms >> /tmp/with.txt
fi
echo "metric without with ratio"
paste /tmp/without.txt /tmp/with.txt | awk '{ printf "%s %s %s %.3fx\n", $1, $2, $4, $4 / $2 }'
