#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: boot-to-init time of Alcatraz vs QEMU -M microvm (not a test).
# Runs inside the lab, where both use the same real (nested) KVM:
#   bench/boot/run.sh            (from the host: boots the lab with QEMU added)
# Both VMMs boot the same kernel and the same initramfs (alcatraz-mkinitrd:
# alcatraz-init + busybox), 1 vCPU, 128 MiB. Two measures, each run RUNS
# times (argument 1, default 3), medians compared as a ratio:
#  - boot-to-init: wall time from launching the VMM until the kernel prints
#    "Run /init as init process" on the serial port (full kernel log, so
#    both pay the same UART exits), seen the same way for both: a log file
#    polled every 10 ms;
#  - boot-to-exit: wall time of a quiet boot that runs `true` and leaves
#    the VMM (QEMU: init's kernel-command-line fallback and a reboot with
#    -no-reboot; it gets a virtio console too so init finds hvc0 at once).
B=${ALCATRAZ_BUILD:-/alcatraz/build}
K=${ALCATRAZ_KERNEL:-$B/kernel/vmlinux}
INIT=${ALCATRAZ_INIT:-$B/src/guest/alcatraz-init}
RUNS=${1:-3}
# Each VMM run is stopped after TMO s (BENCH_RUN_TIMEOUT), said so and left
# out of the medians: one hung run costs TMO, not the lab's whole --timeout.
TMO=${BENCH_RUN_TIMEOUT:-120}
T=/tmp/bench; mkdir -p $T
export ALCATRAZ_KERNEL=$K ALCATRAZ_INIT=$INIT
export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$B/src/vmm/alcatraz-vmm}
"$B/src/guest/alcatraz-mkinitrd" -o $T/initrd.cpio --init "$INIT" --busybox /bin/busybox || exit 1
MARK="Run /init as init process"
# Same kernel options as the VMM's own (platform.c), minus the devices.
APPEND="console=ttyS0 reboot=t panic=-1 acpi=off pci=off nomodule i8042.noaux i8042.nomux i8042.dumbkbd tsc=reliable no_timer_check random.trust_cpu=on"

now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# wait_mark LOG PID: ms until MARK shows up in LOG (or -1), then kill PID.
wait_mark() {
	n=0
	while [ $n -lt $((TMO * 100)) ]; do
		if grep -q "$MARK" "$1" 2>/dev/null; then
			now_ms; kill -9 "$2" 2>/dev/null; wait "$2" 2>/dev/null; return
		fi
		usleep 10000; n=$((n + 1))
	done
	echo -1; kill -9 "$2" 2>/dev/null; wait "$2" 2>/dev/null
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: > $T/a.times; : > $T/q.times
i=0
while [ $i -lt $RUNS ]; do
	rm -f $T/a.log $T/q.log
	s=$(now_ms)
	"$B/examples/alcatraz-run" --insecure-no-sandbox --serial --initrd $T/initrd.cpio \
		-- sleep 10 2>$T/a.log >/dev/null &
	e=$(wait_mark $T/a.log $!)
	if [ "$e" = -1 ]; then echo "alcatraz run $i: no init within $TMO s (left out)"
	else echo "alcatraz run $i: $((e - s)) ms"; echo $((e - s)) >> $T/a.times; fi

	s=$(now_ms)
	qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 128 -smp 1 -nodefaults \
		-no-user-config -nographic -no-reboot -serial file:$T/q.log \
		-kernel "$K" -initrd $T/initrd.cpio -append "$APPEND" >/dev/null 2>&1 &
	e=$(wait_mark $T/q.log $!)
	if [ "$e" = -1 ]; then echo "qemu     run $i: no init within $TMO s (left out)"
	else echo "qemu     run $i: $((e - s)) ms"; echo $((e - s)) >> $T/q.times; fi
	i=$((i + 1))
done
a=$(median < $T/a.times); q=$(median < $T/q.times)
echo "boot-to-init median: alcatraz $a ms, qemu -M microvm $q ms"
awk -v a="$a" -v q="$q" 'BEGIN { if (q > 0) printf "boot-to-init ratio alcatraz/qemu: %.2fx (goal <= 0.5x)\n", a / q }'

: > $T/a2.times; : > $T/q2.times; : > $T/ai.times
i=0
while [ $i -lt $RUNS ]; do
	s=$(now_ms)
	timeout $TMO "$B/examples/alcatraz-run" --insecure-no-sandbox --initrd $T/initrd.cpio --stats \
		-- true 2>$T/stats >/dev/null
	st=$?
	if [ $st != 143 ]; then	# busybox timeout's status when it killed the run
		e=$(now_ms)
		ai=$(sed -n 's/.*"init_start_ms": \([0-9]*\).*/\1/p' $T/stats)
		echo "alcatraz quiet run $i: exit after $((e - s)) ms (init reported at ${ai:-?} ms)"
		echo $((e - s)) >> $T/a2.times; echo "${ai:-0}" >> $T/ai.times
	else
		echo "alcatraz quiet run $i: no exit within $TMO s (left out)"
	fi
	s=$(now_ms)
	timeout $TMO qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 128 -smp 1 -nodefaults \
		-no-user-config -nographic -no-reboot -serial null \
		-device virtio-serial-device -chardev null,id=c0 -device virtconsole,chardev=c0 \
		-kernel "$K" -initrd $T/initrd.cpio -append "$APPEND quiet alcatraz.cmd=true" \
		>/dev/null 2>&1
	st=$?; e=$(now_ms)
	if [ $st != 143 ]; then echo "qemu     quiet run $i: exit after $((e - s)) ms"; echo $((e - s)) >> $T/q2.times
	else echo "qemu     quiet run $i: no exit within $TMO s (left out)"; fi
	i=$((i + 1))
done
a=$(median < $T/a2.times); q=$(median < $T/q2.times); ai=$(median < $T/ai.times)
echo "boot-to-exit median: alcatraz $a ms (init at $ai ms), qemu -M microvm $q ms"
awk -v a="$a" -v q="$q" 'BEGIN { if (q > 0) printf "boot-to-exit ratio alcatraz/qemu: %.2fx (goal <= 0.5x)\n", a / q }'
