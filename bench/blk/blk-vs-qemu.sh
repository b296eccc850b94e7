#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: virtio-blk sequential throughput (not a test). Runs inside the
# lab, where Alcatraz and QEMU use the same real (nested) KVM:
#   bench/blk/run.sh     (from the host: boots the lab with QEMU added)
# The same 256 MiB image is read and written by dd (1 MiB blocks, O_DIRECT
# in the guest so the guest's page cache does not answer) through:
#   - the host (the lab machine) reading the file: the ceiling;
#   - Alcatraz's virtio-blk (restricted io_uring engine, jailed VMM);
#   - QEMU -M microvm's virtio-blk on the same file.
# (QEMU runs with acpi=off so that it lists its virtio-mmio devices on the
# kernel command line, which is how our guest kernel finds them.)
# Prints MB/s for each and the ratios against the host and QEMU. The image
# sits on the lab's tmpfs, so both VMMs go through the host page cache.
B=${ALCATRAZ_BUILD:-/alcatraz/build}
K=${ALCATRAZ_KERNEL:-$B/kernel/vmlinux}
INIT=${ALCATRAZ_INIT:-$B/src/guest/alcatraz-init}
export ALCATRAZ_KERNEL=$K ALCATRAZ_INIT=$INIT
export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$B/src/vmm/alcatraz-vmm}
T=/tmp/blkbench; mkdir -p $T
MB=256
dd if=/dev/urandom of=$T/disk.img bs=1M count=$MB 2>/dev/null || exit 1
"$B/src/guest/alcatraz-mkinitrd" -o $T/initrd.cpio --init "$INIT" --busybox /bin/busybox || exit 1

now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# Guest side: dd with O_DIRECT, timed inside the guest; prints "ms=N".
READ_CMD="s=\$(cut -d' ' -f1 /proc/uptime); dd if=/dev/vda of=/dev/null bs=1M iflag=direct 2>/dev/null || exit 1; e=\$(cut -d' ' -f1 /proc/uptime); echo ms=\$(echo \"\$s \$e\" | awk '{print int((\$2-\$1)*1000)}')"
WRITE_CMD="s=\$(cut -d' ' -f1 /proc/uptime); dd if=/dev/zero of=/dev/vda bs=1M count=$MB oflag=direct conv=fsync 2>/dev/null || exit 1; e=\$(cut -d' ' -f1 /proc/uptime); echo ms=\$(echo \"\$s \$e\" | awk '{print int((\$2-\$1)*1000)}')"

mbps() { awk -v mb=$MB -v ms="$1" 'BEGIN { if (ms > 0) printf "%.0f", mb * 1000 / ms; else print "?" }'; }

# The host ceiling: the lab machine reading the same file (page cache warm).
cat $T/disk.img > /dev/null
s=$(now_ms); dd if=$T/disk.img of=/dev/null bs=1M 2>/dev/null; e=$(now_ms)
host_ms=$((e - s)); [ $host_ms -gt 0 ] || host_ms=1

alc() { # read|write -> ms
	cmd=$READ_CMD; [ "$1" = write ] && cmd=$WRITE_CMD
	"$B/examples/alcatraz-run" --memory 256 --timeout 300 --disk $T/disk.img \
		--initrd $T/initrd.cpio -- sh -c "$cmd" 2>/dev/null | sed -n 's/^ms=//p' | tail -n 1
}

qemu() { # read|write -> ms
	cmd=$READ_CMD; [ "$1" = write ] && cmd=$WRITE_CMD
	# The fallback path of alcatraz-init takes its command from the kernel
	# command line; base64 keeps the shell text intact.
	b64=$(printf 'sh\0-c\0%s' "$cmd" | base64 -w0)
	timeout 300 qemu-system-x86_64 -M microvm,acpi=off -accel kvm -cpu host -m 256 -smp 1 -nodefaults \
		-no-user-config -nographic -no-reboot -serial file:$T/q.log \
		-drive if=none,id=d0,file=$T/disk.img,format=raw \
		-device virtio-blk-device,drive=d0 \
		-kernel "$K" -initrd $T/initrd.cpio \
		-append "console=ttyS0 reboot=t panic=-1 acpi=off tsc=reliable no_timer_check alcatraz.cmd64=$b64" \
		>$T/q.err 2>&1 || { echo "qemu failed:" >&2; tail -n 3 $T/q.err >&2; }
	tr -d '\r' < $T/q.log | sed -n 's/^ms=//p' | tail -n 1
	tr -d '\r' < $T/q.log | grep -q '^ms=' || { echo "qemu guest output:" >&2; tr -d '\r' < $T/q.log | tail -n 8 >&2; }
}

a_r=$(alc read); a_w=$(alc write); q_r=$(qemu read); q_w=$(qemu write)
echo "blk sequential, ${MB} MiB, 1 MiB blocks, O_DIRECT in the guest:"
echo "  host read (page cache):       $(mbps $host_ms) MB/s"
echo "  alcatraz virtio-blk read:     $(mbps "$a_r") MB/s  (${a_r} ms)"
echo "  qemu microvm virtio-blk read: $(mbps "$q_r") MB/s  (${q_r} ms)"
echo "  alcatraz virtio-blk write:    $(mbps "$a_w") MB/s  (${a_w} ms)"
echo "  qemu microvm virtio-blk write:$(mbps "$q_w") MB/s  (${q_w} ms)"
awk -v ar="$a_r" -v qr="$q_r" -v aw="$a_w" -v qw="$q_w" -v h="$host_ms" 'BEGIN {
	if (ar > 0) printf "  read:  alcatraz/host %.2fx of host throughput, alcatraz/qemu %.2fx\n", h / ar, (qr > 0 ? qr / ar : 0)
	if (aw > 0 && qw > 0) printf "  write: alcatraz/qemu %.2fx of qemu throughput\n", qw / aw
}'
