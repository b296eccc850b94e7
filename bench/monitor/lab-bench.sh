#!/bin/sh
# Inside the lab: the same workloads with no Hyper-box ("none"), Hyper-box
# with the escape monitor off ("hyperbox", monitor=0) and enforcing
# ("monitor", monitor=2); one boot, Hyper-box loaded and unloaded
# (allow_unload=1) for each.  The three configurations are interleaved over
# ROUNDS rounds and each metric keeps its best value: the lab shares two
# cores with other work, and noise only ever adds time.  Prints ratios.
B=/alcatraz/add/hb-bench
K=/alcatraz/modules/hyperbox.ko
R=/alcatraz/build/examples/alcatraz-run
ROUNDS=${1:-3}
export ALCATRAZ_KERNEL=/alcatraz/build/kernel/vmlinux ALCATRAZ_INIT=/alcatraz/build/src/guest/alcatraz-init
up() { cut -d' ' -f1 /proc/uptime; }

# run NAME: the micro-benchmarks twice, then one Linux microVM boot (KVM on top).
run() {
	$B >> /tmp/$1.raw && $B >> /tmp/$1.raw || exit 1
	if [ -x "$R" ] && [ -f "$ALCATRAZ_KERNEL" ]; then
		/alcatraz/lab/load-kvm || exit 1
		t0=$(up)
		timeout 300 "$R" --insecure-no-sandbox -- true > /dev/null 2>&1 < /dev/null || echo "microVM failed ($1)" >&2
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
	insmod $K monitor=2 allow_unload=1 || exit 1
	run on
	[ $r = 0 ] && grep -E "^(hits_|checks)" /sys/kernel/hyperbox/monitor/status
	kills=$(awk '$1 ~ /^(spawn|exec|cred_|umh|int80|syscall32)/ { s += $2 } END { print s + 0 }' /sys/kernel/hyperbox/monitor/status)
	[ "$kills" = 0 ] || { echo "monitor decided against the benchmark ($kills)"; exit 1; }
	rmmod hyperbox || exit 1
	r=$((r + 1))
done
best none; best off; best on
echo "metric none hyperbox monitor ratio_monitor_vs_hyperbox ratio_monitor_vs_none (best of $ROUNDS rounds)"
paste /tmp/none.txt /tmp/off.txt /tmp/on.txt |
	awk '{ printf "%s %s %s %s %.3fx %.3fx\n", $1, $2, $4, $6, $6 / $4, $6 / $2 }'
