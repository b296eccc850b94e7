#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: virtio-fs volumes and roots (not a test). Runs inside the lab,
# where Alcatraz and QEMU use the same real (nested) KVM:
#   bench/fs/run.sh     (from the host: boots the lab with QEMU and virtiofsd)
# 1. On a shared directory: write a 256 MiB file (dd, 1 MiB blocks, fsync),
#    read it back after dropping the guest's caches, create 1000 empty files
#    and stat them all (ls -l, caches dropped), through:
#    - the lab itself on the same directory (tmpfs): the ceiling;
#    - Alcatraz, `alcatraz-run --volume DIR:/data`;
#    - QEMU -M microvm with vhost-user-fs-device and the same virtiofsd
#      (/usr/lib/qemu/virtiofsd, cache=auto as Alcatraz starts it).
#    Both guests are the same kernel and initramfs; times are taken inside.
#    Best of two runs each, in the order Alcatraz, QEMU, QEMU, Alcatraz: the
#    first VM after the lab booted pays for warming it up (seen with QEMU
#    first: its 256 MiB read took 6.3 s, the same read in later runs 1.7 to
#    3.0 s), which one fixed order charged to Alcatraz alone.
#    (QEMU with modern virtio-mmio: vhost-user-fs needs VIRTIO_F_VERSION_1.)
# 2. The lab's debootstrapped Debian 12 root (bench/fs/run.sh gives its
#    stock ext4 image as the lab's disk /dev/vda, mounted read-only here):
#    `alcatraz-run --rootfs DIR` (virtio-fs) against `--rootfs-pack DIR`
#    (packed into the initramfs), wall time of `/bin/true` in it.
# Prints MB/s, files/s, ms and the ratios; never fails on speed.
B=${ALCATRAZ_BUILD:-/alcatraz/build}
K=${ALCATRAZ_KERNEL:-$B/kernel/vmlinux}
INIT=${ALCATRAZ_INIT:-$B/src/guest/alcatraz-init}
VFSD=${ALCATRAZ_VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
export ALCATRAZ_KERNEL=$K ALCATRAZ_INIT=$INIT ALCATRAZ_VIRTIOFSD=$VFSD
export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$B/src/vmm/alcatraz-vmm}
T=/tmp/fsbench; rm -rf $T; mkdir -p $T/vol
MB=${FS_BENCH_MB:-256}
FILES=1000
VM_TIMEOUT=${FS_BENCH_VM_TIMEOUT:-300}
[ -x "$VFSD" ] || { echo "fs bench: no $VFSD in the lab"; exit 1; }
"$B/src/guest/alcatraz-mkinitrd" -o $T/initrd.cpio --init "$INIT" --busybox /bin/busybox || exit 1

now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# The workload on directory $1, timed with /proc/uptime wherever it runs;
# prints write=, read=, create=, stat= in ms.
work() {
	echo "D=$1
up() { cut -d' ' -f1 /proc/uptime; }
d() { echo \"\$1 \$2\" | awk '{print int((\$2-\$1)*1000)}'; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
rm -rf \$D/f \$D/s; drop
s=\$(up); dd if=/dev/zero of=\$D/f bs=1M count=$MB conv=fsync 2>/dev/null || exit 1; e=\$(up); echo write=\$(d \$s \$e)
drop; s=\$(up); dd if=\$D/f of=/dev/null bs=1M 2>/dev/null || exit 1; e=\$(up); echo read=\$(d \$s \$e)
mkdir \$D/s || exit 1
s=\$(up); i=0; while [ \$i -lt $FILES ]; do : > \$D/s/f\$i || exit 1; i=\$((i+1)); done; e=\$(up); echo create=\$(d \$s \$e)
drop; s=\$(up); n=\$(ls -l \$D/s | grep -c ' f'); e=\$(up); [ \$n = $FILES ] || exit 1; echo stat=\$(d \$s \$e)
rm -rf \$D/f \$D/s"
}

host_run() { sh -c "$(work $T/vol)"; }

alc_run() {
	"$B/examples/alcatraz-run" --cmdline nopv --memory 256 --timeout $VM_TIMEOUT \
		--volume $T/vol:/data --initrd $T/initrd.cpio -- sh -c "$(work /data)" \
		> $T/a.out 2> $T/a.err
	cat $T/a.out
	grep -q '^stat=' $T/a.out || { echo "alcatraz failed:" >&2; tail -n 5 $T/a.out $T/a.err >&2; }
}

qemu_run() {
	rm -f $T/vfs.sock $T/q.log
	# As Alcatraz starts it in an initramfs root (src/lib/volume.c).
	timeout $((VM_TIMEOUT + 30)) unshare -m -n -i "$VFSD" --socket-path=$T/vfs.sock \
		-o source=$T/vol -o sandbox=chroot -o cache=auto -o log_level=warn \
		> $T/vfsd.log 2>&1 &
	vp=$!
	i=0; while [ ! -S $T/vfs.sock ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S $T/vfs.sock ] || { echo "virtiofsd did not start:" >&2; cat $T/vfsd.log >&2; return; }
	b64=$(printf 'sh\0-c\0%s' "mkdir -p /data && mount -t virtiofs data /data || exit 1
$(work /data)" | base64 -w0)
	timeout $VM_TIMEOUT qemu-system-x86_64 -M microvm,acpi=off,memory-backend=mem -accel kvm \
		-cpu host -m 256 -object memory-backend-memfd,id=mem,size=256M,share=on \
		-smp 1 -global virtio-mmio.force-legacy=false -nodefaults -no-user-config -nographic -no-reboot -serial file:$T/q.log \
		-chardev socket,id=c0,path=$T/vfs.sock -device vhost-user-fs-device,chardev=c0,tag=data \
		-kernel "$K" -initrd $T/initrd.cpio \
		-append "console=ttyS0 reboot=t panic=-1 acpi=off tsc=reliable no_timer_check nopv alcatraz.cmd64=$b64" \
		> $T/q.err 2>&1 || { echo "qemu failed:" >&2; tail -n 3 $T/q.err >&2; }
	kill $vp 2>/dev/null; wait $vp 2>/dev/null
	tr -d '\r' < $T/q.log | grep -E '^(write|read|create|stat)='
	tr -d '\r' < $T/q.log | grep -q '^stat=' ||
		{ echo "qemu guest output:" >&2; tr -d '\r' < $T/q.log | tail -n 8 >&2; }
}

val() { sed -n "s/^$1=//p" | tail -n 1; }
# best KEY OUTPUT... -> the smallest time, or nothing
best() {
	k=$1; shift
	for o in "$@"; do echo "$o" | val $k; done |
		awk 'NF && $1 > 0 && (m == "" || $1 < m) { m = $1 } END { print (m == "" ? 0 : m) }'
}
h=$(host_run); a1=$(alc_run); q1=$(qemu_run); q2=$(qemu_run); a2=$(alc_run)
echo "virtio-fs volume, $MB MiB file (1 MiB blocks) and $FILES empty files (best of 2):"
for k in write read create stat; do
	echo "  ($k: alcatraz $(echo "$a1" | val $k), $(echo "$a2" | val $k) ms; qemu $(echo "$q1" | val $k), $(echo "$q2" | val $k) ms)" >&2
	echo "$k $(echo "$h" | val $k) $(best $k "$a1" "$a2") $(best $k "$q1" "$q2")"
done | awk -v mb=$MB -v n=$FILES '
function f(k, ms) {
	if (ms <= 0) return "        ?"
	if (k == "write" || k == "read") return sprintf("%7.1f MB/s (%d ms)", mb * 1000 / ms, ms)
	return sprintf("%7.0f files/s (%d ms)", n * 1000 / ms, ms)
}
{
	printf "  %-6s host %s\n         alcatraz %s\n         qemu microvm %s\n", $1, f($1, $2), f($1, $3), f($1, $4)
	if ($3 > 0 && $4 > 0)
		printf "         alcatraz/qemu %.2fx of the qemu rate, alcatraz/host %.2fx\n", $4 / $3, ($2 > 0 ? $2 / $3 : 0)
}'

# 2. The Debian root, from the lab's disk.
if [ -s /alcatraz/lab/device-modules ]; then
	while read -r m; do insmod /lib/modules/lab/$m.ko 2>/dev/null; done < /alcatraz/lab/device-modules
	i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
R=/mnt/debian; mkdir -p $R
mount -t ext4 -o ro /dev/vda $R 2>/dev/null || { echo "Debian root: skipped (no disk /dev/vda: bench/fs/run.sh gives it)"; exit 0; }
size=$(du -sm $R | cut -f1); nfiles=$(find $R | wc -l)
root_run() { # --rootfs|--rootfs-pack -> ms, or "?"
	s=$(now_ms)
	"$B/examples/alcatraz-run" --cmdline nopv --memory 3072 --timeout $VM_TIMEOUT "$1" $R \
		-- /bin/true > $T/r.out 2>&1 || { echo "$1 failed:" >&2; tail -n 3 $T/r.out >&2; echo "?"; return; }
	e=$(now_ms); echo $((e - s))
}
v1=$(root_run --rootfs); p1=$(root_run --rootfs-pack)
v2=$(root_run --rootfs); p2=$(root_run --rootfs-pack)
umount $R
echo "Debian 12 root of $size MiB ($nfiles files), wall time of /bin/true, 3 GiB guests (two runs each):"
echo "  --rootfs (virtio-fs):      $v1 ms, $v2 ms"
echo "  --rootfs-pack (initramfs): $p1 ms, $p2 ms"
awk -v v="$v2" -v p="$p2" 'BEGIN { if (v > 0 && p > 0) printf "  second runs: --rootfs-pack takes %.2fx the time of --rootfs\n", p / v }'
