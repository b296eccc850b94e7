#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Inside the lab: the same workloads with no Hyper-box ("none"), Hyper-box
# with the escape monitor off ("hyperbox", monitor=0) and enforcing
# ("monitor", monitor=2), and enforcing with no breakpoint armed
# ("monitor_nobp", monitor_watch=0); one boot, Hyper-box loaded and unloaded
# (allow_unload=1) for each.  The three configurations are interleaved over
# ROUNDS rounds and each metric keeps its best value: the lab shares two
# cores with other work, and noise only ever adds time.  Prints ratios.
B=/alcatraz/add/hb-bench
K=/alcatraz/modules/hyperbox.ko
R=/alcatraz/build/examples/alcatraz-run
ROUNDS=${1:-3}
export ALCATRAZ_KERNEL=/alcatraz/build/kernel/vmlinux ALCATRAZ_INIT=/alcatraz/build/src/guest/alcatraz-init
export ALCATRAZ_VMM=/alcatraz/build/src/vmm/alcatraz-vmm
up() { cut -d' ' -f1 /proc/uptime; }
# Each run is stopped after TMO s (BENCH_RUN_TIMEOUT) and said so: one hung
# run costs TMO, not the lab's whole --timeout.
TMO=${BENCH_RUN_TIMEOUT:-300}
tmo() { timeout $TMO "$@"; st=$?; [ $st != 143 ] || echo "bench: no end within $TMO s: $*" >&2; return $st; }

# run NAME: the micro-benchmarks twice, then one Linux microVM boot (KVM on top).
run() {
	tmo $B >> /tmp/$1.raw && tmo $B >> /tmp/$1.raw || exit 1
	if [ -x "$R" ] && [ -f "$ALCATRAZ_KERNEL" ]; then
		/alcatraz/lab/load-kvm || exit 1
		t0=$(up)
		tmo "$R" --insecure-no-sandbox -- true > /dev/null 2>&1 < /dev/null || echo "microVM failed ($1)" >&2
		t1=$(up)
		echo "microvm_boot_s $(awk "BEGIN{print $t1 - $t0}")" >> /tmp/$1.raw
		rmmod kvm_amd kvm irqbypass
	fi
}

best() {
	awk '!($1 in m) || $2 < m[$1] { m[$1] = $2 } !($1 in o) { o[$1] = n++ }
	     END { for (k in o) r[o[k]] = k; for (i = 0; i < n; i++) print r[i], m[r[i]] }' /tmp/$1.raw > /tmp/$1.txt
}

r=0
while [ $r -lt "$ROUNDS" ]; do
	run none
	insmod $K monitor=0 allow_unload=1 || exit 1
	run off
	rmmod hyperbox || exit 1
	# the monitor with its intercepts but no breakpoint armed: what the
	# breakpoints themselves cost (under TCG, QEMU's breakpoint checks)
	insmod $K monitor=2 monitor_watch=0 allow_unload=1 || exit 1
	run nobp
	rmmod hyperbox || exit 1
	insmod $K monitor=2 allow_unload=1 || exit 1
	if [ $r = 0 ]; then
		# monitor exits per operation (deterministic, unlike lab timings)
		h0=$(awk '$1 ~ /^hits_/ { s += $2 } END { print s + 0 }' /sys/kernel/hyperbox/monitor/status)
		tmo $B > /dev/null
		h1=$(awk '$1 ~ /^hits_/ { s += $2 } END { print s + 0 }' /sys/kernel/hyperbox/monitor/status)
		echo "monitor exits in one hb-bench run (200000 getpid, 50 fork+exec, CPU loop): $((h1 - h0))"
	fi
	run on
	kills=$(awk '$1 ~ /^(spawn|exec|cred_|umh|int80|syscall32|sysenter)/ { s += $2 } END { print s + 0 }' /sys/kernel/hyperbox/monitor/status)
	[ "$kills" = 0 ] || { echo "monitor decided against the benchmark ($kills)"; exit 1; }
	rmmod hyperbox || exit 1
	r=$((r + 1))
done
best none; best off; best nobp; best on
echo "metric none hyperbox monitor_nobp monitor | monitor/hyperbox monitor_nobp/hyperbox monitor/none (best of $ROUNDS rounds)"
paste /tmp/none.txt /tmp/off.txt /tmp/nobp.txt /tmp/on.txt |
	awk '{ printf "%s %s %s %s %s | %.3fx %.3fx %.3fx\n", $1, $2, $4, $6, $8, $8 / $4, $6 / $4, $8 / $2 }'
