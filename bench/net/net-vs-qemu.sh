#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: user-mode networking throughput and request rate (not a
# test). Runs inside the lab, where Alcatraz and QEMU use the same real
# (nested) KVM:
#   bench/net/run.sh     (from the host: boots the lab with QEMU and passt)
# A Linux guest fetches a 64 MiB file with wget from an httpd on the lab's
# 127.0.0.1 (host to guest), sends 16 MiB with nc to a sink there (guest
# to host: the sink closes after the last byte), then makes 200 sequential
# 1 KiB GETs, through:
#   - the lab itself (wget to 127.0.0.1): the ceiling;
#   - Alcatraz, `alcatraz-run --net user` (passt, host.alcatraz.internal);
#   - QEMU -M microvm, virtio-net on virtio-mmio, -netdev stream to a passt
#     started with the same addresses as Alcatraz's.
# Both guests are the same kernel and initramfs; times are taken inside the
# guest, the best of two rounds; an upload counts only when the sink got
# all of it with the right md5. Prints MB/s, requests/s and the ratios;
# never fails on speed.

# passt's sandbox pivot_roots, which the initramfs root refuses: the script
# goes on in a bind mount of the root moved over / (as tests/lab/net/net.sh).
if [ -z "$NET_NEWROOT" ]; then
	export NET_NEWROOT=1
	mkdir -p /r
	exec unshare -m /bin/sh -c 'mount --rbind / /r && cd /r && mount --move . / &&
		exec chroot . /bin/sh "$0" "$@"' "$0" "$@"
fi
B=${ALCATRAZ_BUILD:-/alcatraz/build}
K=${ALCATRAZ_KERNEL:-$B/kernel/vmlinux}
INIT=${ALCATRAZ_INIT:-$B/src/guest/alcatraz-init}
PASST=${ALCATRAZ_PASST:-/usr/bin/passt}
export ALCATRAZ_KERNEL=$K ALCATRAZ_INIT=$INIT ALCATRAZ_PASST=$PASST
export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$B/src/vmm/alcatraz-vmm}
T=/tmp/netbench; mkdir -p $T/www
MB=64
# Debian 12's passt (0.0~git20230309) resets a guest's long upload to the
# lab's loopback after 23-49 MB, QEMU's as well as Alcatraz's, at MTU 65520
# and 9000: the upload is 16 MiB, which arrives whole.
UP_MB=16
REQS=200
RUNS=${NET_BENCH_RUNS:-2}
VM_TIMEOUT=${NET_BENCH_VM_TIMEOUT:-300}

for m in dummy tun; do
	[ -f /alcatraz/modules/$m.ko ] && insmod /alcatraz/modules/$m.ko 2>/dev/null
done
# passt takes its addresses from the interface with the default route.
ip link set lo up
ip link add d0 type dummy && ip addr add 192.0.2.10/24 dev d0 && ip link set d0 up &&
	ip route add default via 192.0.2.1 || { echo "net bench: no dummy interface"; exit 1; }
dd if=/dev/urandom of=$T/www/big bs=1M count=$MB 2>/dev/null || exit 1
head -c 1024 /dev/urandom > $T/www/small
httpd -p 127.0.0.1:8080 -h $T/www || exit 1
# The upload's sink: each connection's 64 MiB kept (checked after the run),
# then the connection closed.
printf '#!/bin/sh\nexec head -c %d > %s/up.bin\n' $((UP_MB * 1048576)) $T > $T/sink.sh
chmod +x $T/sink.sh
up_md5=$(head -c $((UP_MB * 1048576)) /dev/zero | md5sum | cut -d' ' -f1)
nc -ll -p 9000 -e $T/sink.sh &
sinkpid=$!
trap 'kill $sinkpid 2>/dev/null' EXIT
"$B/src/guest/alcatraz-mkinitrd" -o $T/initrd.cpio --init "$INIT" --busybox /bin/busybox || exit 1

now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# Prints "big=MS", "up=MS" and "reqs=MS" (times inside the guest) for the
# host named $1 (httpd on 8080, the sink on 9000).
guest_cmd() {
	echo "up() { cut -d' ' -f1 /proc/uptime; }
d() { echo \"\$1 \$2\" | awk '{print int((\$2-\$1)*1000)}'; }
s=\$(up); wget -q -O /dev/null http://$1:8080/big || exit 1; e=\$(up); echo big=\$(d \$s \$e)
s=\$(up); if dd if=/dev/zero bs=1M count=$UP_MB 2>/dev/null | nc $1 9000; then e=\$(up); echo up=\$(d \$s \$e); fi
s=\$(up); i=0; while [ \$i -lt $REQS ]; do wget -q -O /dev/null http://$1:8080/small || exit 1; i=\$((i+1)); done
e=\$(up); echo reqs=\$(d \$s \$e)"
}

# Passes a run's lines through, its up= line only when the sink got the
# upload whole (md5 right); says what arrived otherwise. $1 names the run.
check_up() {
	out=$(cat)
	got=$(md5sum < $T/up.bin 2>/dev/null | cut -d' ' -f1)
	if [ "$got" != "$up_md5" ]; then
		echo "$1: upload incomplete: $(wc -c < $T/up.bin 2>/dev/null || echo 0) bytes arrived" >&2
		out=$(echo "$out" | grep -v '^up=')
	fi
	echo "$out"
}

# The ceiling: the lab fetching from its own loopback.
host_run() {
	wget -q -O /dev/null http://127.0.0.1:8080/big # warm the page cache
	s=$(now_ms); wget -q -O /dev/null http://127.0.0.1:8080/big; e=$(now_ms)
	echo big=$((e - s))
	rm -f $T/up.bin
	s=$(now_ms); dd if=/dev/zero bs=1M count=$UP_MB 2>/dev/null | nc 127.0.0.1 9000; e=$(now_ms)
	echo up=$((e - s)) | check_up host
	s=$(now_ms); i=0
	while [ $i -lt $REQS ]; do wget -q -O /dev/null http://127.0.0.1:8080/small; i=$((i + 1)); done
	e=$(now_ms); echo reqs=$((e - s))
}

alc_run() {
	rm -f $T/up.bin
	"$B/examples/alcatraz-run" --cmdline nopv --memory 256 --timeout $VM_TIMEOUT --net user \
		--initrd $T/initrd.cpio -- sh -c "$(guest_cmd host.alcatraz.internal)" \
		2>$T/a.err > $T/a.out
	check_up alcatraz < $T/a.out
	grep -q '^reqs=' $T/a.out || { echo "alcatraz failed:" >&2; tail -n 5 $T/a.err >&2; }
}

qemu_run() {
	rm -f $T/q.log $T/s/passt.sock $T/up.bin
	mkdir -p $T/s && chmod 1777 $T/s # passt binds its socket as nobody
	# Alcatraz's passt arguments (src/lib/net.c), on a socket for QEMU.
	timeout $((VM_TIMEOUT + 30)) "$PASST" --foreground --quiet --one-off --socket $T/s/passt.sock \
		--ipv4-only --address 10.0.2.15 --netmask 24 --gateway 10.0.2.2 \
		--dns-forward 10.0.2.3 --runas 65534:65534 > $T/passt.log 2>&1 &
	pp=$!
	i=0; while ! grep -qs 'socket bound' $T/passt.log && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	grep -qs 'socket bound' $T/passt.log ||
		{ echo "passt did not start:" >&2; cat $T/passt.log >&2; return; }
	b64=$(printf 'sh\0-c\0%s' "$(guest_cmd 10.0.2.2)" | base64 -w0)
	timeout $VM_TIMEOUT qemu-system-x86_64 -M microvm,acpi=off -accel kvm -cpu host -m 256 \
		-smp 1 -global virtio-mmio.force-legacy=false -nodefaults -no-user-config -nographic -no-reboot -serial file:$T/q.log \
		-netdev stream,id=n0,server=off,addr.type=unix,addr.path=$T/s/passt.sock \
		-device virtio-net-device,netdev=n0 \
		-kernel "$K" -initrd $T/initrd.cpio \
		-append "console=ttyS0 reboot=t panic=-1 acpi=off tsc=reliable no_timer_check nopv alcatraz.net=ip=10.0.2.15/24,gw=10.0.2.2,dns=10.0.2.3,mtu=65520,host=10.0.2.2 alcatraz.cmd64=$b64" \
		> $T/q.err 2>&1 || { echo "qemu failed:" >&2; tail -n 3 $T/q.err >&2; }
	kill $pp 2>/dev/null; wait $pp 2>/dev/null
	tr -d '\r' < $T/q.log | grep -E '^(big|up|reqs)=' | check_up qemu
	tr -d '\r' < $T/q.log | grep -q '^reqs=' ||
		{ echo "qemu guest output:" >&2; tr -d '\r' < $T/q.log | tail -n 8 >&2; }
}

# The best of RUNS rounds (the lab shares its host's CPUs), in turn.
val() { sed -n "s/^$1=//p" | sort -n | head -n 1; }
h=; a=; q=; r=0
while [ $r -lt $RUNS ]; do
	h="$h
$(host_run)"; a="$a
$(alc_run)"; q="$q
$(qemu_run)"; r=$((r + 1))
done
h_b=$(echo "$h" | val big); h_r=$(echo "$h" | val reqs); h_u=$(echo "$h" | val up)
a_b=$(echo "$a" | val big); a_r=$(echo "$a" | val reqs); a_u=$(echo "$a" | val up)
q_b=$(echo "$q" | val big); q_r=$(echo "$q" | val reqs); q_u=$(echo "$q" | val up)

echo "user-mode networking (passt), guest wget from the lab's 127.0.0.1, best of $RUNS:"
awk -v mb=$MB -v umb=$UP_MB -v n=$REQS -v hb="$h_b" -v hr="$h_r" -v ab="$a_b" -v ar="$a_r" \
	-v qb="$q_b" -v qr="$q_r" -v hu="$h_u" -v au="$a_u" -v qu="$q_u" '
function mbps(ms, size) { if (!size) size = mb
	return ms > 0 ? sprintf("%7.1f MB/s (%d ms)", size * 1000 / ms, ms) : "      ? MB/s" }
function rps(ms) { return ms > 0 ? sprintf("%7.1f req/s (%d ms)", n * 1000 / ms, ms) : "      ? req/s" }
BEGIN {
	printf "  %d MiB fetch:  host %s\n", mb, mbps(hb)
	printf "                 alcatraz %s\n", mbps(ab)
	printf "                 qemu microvm %s\n", mbps(qb)
	printf "  %d MiB upload: host %s\n", umb, mbps(hu, umb)
	printf "                 alcatraz %s\n", mbps(au, umb)
	printf "                 qemu microvm %s\n", mbps(qu, umb)
	printf "  %d x 1 KiB GET: host %s\n", n, rps(hr)
	printf "                 alcatraz %s\n", rps(ar)
	printf "                 qemu microvm %s\n", rps(qr)
	if (ab > 0 && qb > 0)
		printf "  fetch: alcatraz/qemu %.2fx of qemu throughput, alcatraz/host %.2fx\n", qb / ab, (hb > 0 ? hb / ab : 0)
	if (au > 0 && qu > 0)
		printf "  upload: alcatraz/qemu %.2fx of qemu throughput, alcatraz/host %.2fx\n", qu / au, (hu > 0 ? hu / au : 0)
	if (ar > 0 && qr > 0)
		printf "  GETs:  alcatraz/qemu %.2fx of qemu request rate, alcatraz/host %.2fx\n", qr / ar, (hr > 0 ? hr / ar : 0)
}'
