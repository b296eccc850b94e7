#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: host directories in Linux microVMs over virtio-fs (issue 17),
# run inside the lab:
#   tests/volumes/run.sh BUILDDIR   (meson test lab-volumes)
# Each check prints "PASS name" or "FAIL name: why"; exit 1 when any failed.
B=${ALCATRAZ_BUILD:-/alcatraz/build}
export ALCATRAZ_KERNEL=${ALCATRAZ_KERNEL:-$B/kernel/vmlinux}
export ALCATRAZ_INIT=${ALCATRAZ_INIT:-$B/src/guest/alcatraz-init}
export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$B/src/vmm/alcatraz-vmm}
export ALCATRAZ_CMDLINE=nopv
R="$B/examples/alcatraz-run"
T=/tmp/vol; rm -rf $T; mkdir -p $T
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); failed="$failed $1"; }
run() { "$R" --cmdline nopv --timeout ${VOL_VM_TIMEOUT:-300} "$@"; }
# expect NAME WANT GOT [WANT_OUT GOT_OUT]
expect() {
	if [ "$3" != "$2" ]; then fail "$1" "status $3, want $2"; return; fi
	if [ $# -ge 5 ] && [ "$5" != "$4" ]; then fail "$1" "output '$5', want '$4'"; return; fi
	pass "$1"
}

[ -x /usr/lib/qemu/virtiofsd ] || [ -x /usr/libexec/virtiofsd ] ||
	{ echo "FAIL setup: no virtiofsd in the lab (--add it)"; exit 1; }

mkdir -p $T/rw $T/ro $T/outside
head -c 10485760 /dev/urandom > $T/rw/in
in_md5=$(md5sum < $T/rw/in | cut -d' ' -f1)
echo "read only" > $T/ro/f
echo "host secret" > $T/outside/secret
: > $T/rw/owned; chown 1234:5678 $T/rw/owned; chmod 0640 $T/rw/owned
ln -s $T/outside/secret $T/rw/link
ln -s / $T/rw/slash

# 10 MiB both ways through a read-write volume.
out=$(run --volume $T/rw:/data -- md5sum /data/in); st=$?
expect rw-host-to-guest 0 $st "$in_md5  /data/in" "$out"
out=$(run --volume $T/rw:/data -- sh -c \
	'head -c 10485760 /dev/urandom > /data/out && md5sum < /data/out'); st=$?
host_md5=$(md5sum < $T/rw/out 2>/dev/null | cut -d' ' -f1)
expect rw-guest-to-host 0 $st "$host_md5  -" "$out"

# Ownership and modes survive, both ways.
out=$(run --volume $T/rw:/data -- sh -c 'stat -c "%u %g %a" /data/owned &&
	: > /data/made && chown 4321:8765 /data/made && chmod 0604 /data/made'); st=$?
expect owner-host-to-guest 0 $st "1234 5678 640" "$out"
out=$(stat -c "%u %g %a" $T/rw/made 2>&1)
expect owner-guest-to-host 0 0 "4321 8765 604" "$out"

# A read-only volume reads, and refuses writes (the host file is unchanged).
out=$(run --volume $T/ro:/ro:ro -- sh -c 'cat /ro/f; echo x > /ro/f || exit 3;
	echo y > /ro/new || exit 4' 2>/dev/null); st=$?
expect ro-read 3 $st "read only" "$out"
expect ro-refuses-writes 3 $st "read only" "$(cat $T/ro/f)"
[ -e $T/ro/new ] && fail ro-no-new-file "$T/ro/new exists"

# Two VMs share one read-only volume at the same time.
run --volume $T/ro:/ro:ro -- sh -c 'sleep 2; cat /ro/f' > $T/a.out 2>&1 & a=$!
run --volume $T/ro:/ro:ro -- sh -c 'sleep 2; cat /ro/f' > $T/b.out 2>&1 & b=$!
wait $a; sa=$?; wait $b; sb=$?
expect two-vms-share "0 0" "$sa $sb" "read only read only" "$(cat $T/a.out $T/b.out | tr '\n' ' ' | sed 's/ $//')"
[ "$sa $sb" = "0 0" ] || sed 's/^/  /' $T/a.out $T/b.out

# No way out: symlinks resolve in the guest, '..' stops at the guest's root.
out=$(run --volume $T/rw:/data -- sh -c 'cat /data/link 2>/dev/null; ls /data/slash/tmp/vol 2>/dev/null;
	cat /data/../tmp/vol/outside/secret 2>/dev/null; echo done'); st=$?
expect no-escape 0 $st "done" "$out"

# Bad input: one line, 125, before any guest starts.
out=$(run --volume /no/such/dir:/data -- true 2>&1); st=$?
expect missing-host-dir 125 $st 1 "$(echo "$out" | wc -l | tr -d ' ')"
run --volume $T/rw:data -- true 2>/dev/null; expect relative-guest-dir 125 $?
out=$(run --rootfs $T/ro --volume $T/rw:/ -- true 2>&1); st=$?
expect two-roots 125 $st 1 "$(echo "$out" | grep -c "the root ('/') is shared already")"

# --rootfs over virtio-fs: a root with busybox and no /bin/sh nor our init;
# read-only underneath, writable in RAM above.
mkdir -p $T/root/bin
cp /bin/busybox $T/root/bin/busybox
out=$(run --rootfs $T/root -- /bin/busybox echo from the root); st=$?
expect rootfs-absolute-command 0 $st "from the root" "$out"
run --rootfs $T/root -- /bin/nothing 2>/dev/null; expect rootfs-missing-command 127 $?
# Shared, not packed: the root is the overlay on the virtio-fs share, and a
# file the host adds is there without a copy.
# Writes land in the RAM layer, never in the host directory.
echo late > $T/root/late
out=$(run --rootfs $T/root -- /bin/busybox sh -c \
	'/bin/busybox grep -c "^overlay / overlay" /proc/mounts; /bin/busybox cat /late;
	echo w > /written && /bin/busybox cat /written'); st=$?
expect rootfs-over-virtiofs 0 $st "1 late w" "$(echo $out)"
[ -e $T/root/written ] && fail rootfs-host-untouched "$T/root/written exists"
# --rootfs-pack copies the root into the initramfs: no overlay, same command.
out=$(run --rootfs-pack $T/root -- /bin/busybox sh -c \
	'/bin/busybox grep -c "^overlay / overlay" /proc/mounts; /bin/busybox cat /late'); st=$?
expect rootfs-pack 0 $st "0 late" "$(echo $out)"
rm -f $T/root/late

# A root disk with nothing of ours inside (run.sh made it: busybox and
# /etc/marker, no alcatraz-init, no /bin/sh): init comes from the initramfs.
D=/alcatraz/add/plain.ext4
if [ -f $D ]; then
	cp $D $T/plain.ext4
	out=$(run --root-disk $T/plain.ext4 -- /bin/busybox sh -c \
		'/bin/busybox cat /etc/marker && echo kept > /etc/written'); st=$?
	expect root-disk-no-init 0 $st from-plain-disk "$out"
	out=$(run --root-disk $T/plain.ext4 -- /bin/busybox cat /etc/written); st=$?
	expect root-disk-writable 0 $st kept "$out"
	# init's busybox links stay in the initramfs: "cat" is not in this root.
	run --root-disk $T/plain.ext4 -- cat /etc/marker 2>/dev/null
	expect root-disk-missing-command 127 $?
	head -c 4194304 /dev/zero > $T/zero.img
	out=$(run --root-disk $T/zero.img -- /bin/busybox true 2>&1); st=$?
	# One line (alcatraz-run's, with init's words), nothing else.
	n=$(echo "$out" | wc -l | tr -d ' ')
	line=$(echo "$out" | grep -c "^alcatraz-run: alcatraz-init: cannot mount the root file system: /dev/vda (ext4)")
	expect root-disk-unmountable 125 $st "1 1" "$n $line"
	echo "$out" | sed 's/^/  said: /'
	echo "$out" | grep -q "kernel: " || fail root-disk-kernel-words "no kernel words in: $out"
else
	fail root-disk "no $D (run through tests/volumes/run.sh)"
fi

# The debootstrapped Debian 12 root (run.sh: a stock ext4 image on /dev/vda,
# nothing of ours inside) builds and tests a C program from a volume, as a
# CI job would: once shared over virtio-fs (--rootfs, the image mounted
# read-only in the lab), once as the VM's root disk (--root-disk, the lab's
# throwaway disk).
# debian NAME ROOT-OPTIONS...: gcc --version and make test in a fresh copy
# of the program.
debian() {
	name=$1; shift
	rm -rf $T/src; mkdir -p $T/src
	printf '#include <stdio.h>\nint main(void)\n{\n\tint s = 0;\n\tfor (int i = 1; i <= 100; i++)\n\t\ts += i;\n\tprintf("sum %%d\\n", s);\n\treturn 0;\n}\n' > $T/src/sum.c
	printf 'sum: sum.c\n\tgcc -O2 -Wall -Werror -o $@ sum.c\ntest: sum\n\t./sum | grep -qx "sum 5050"\n\t@echo make test: ok\n' > $T/src/Makefile
	out=$(run --memory 256 "$@" --volume $T/src:/src -- sh -c \
		'gcc --version | head -n 1 && make -s -C /src test' 2>$T/debian.err); st=$?
	echo "$out" | sed 's/^/  said: /'
	expect $name-gcc 0 $st 1 "$(echo "$out" | grep -c '^gcc (Debian 12\.')"
	expect $name-make-test 0 $st 1 "$(echo "$out" | grep -cx 'make test: ok')"
	[ -x $T/src/sum ] || fail $name-built "no $T/src/sum on the host"
	[ $st = 0 ] || sed 's/^/  stderr: /' $T/debian.err | tail -n 5
}
if [ -s /alcatraz/lab/device-modules ]; then
	while read -r m; do
		insmod /lib/modules/lab/$m.ko 2>/dev/null
	done < /alcatraz/lab/device-modules
	i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
if [ -b /dev/vda ] && mkdir -p /mnt/debian && mount -t ext4 -o ro /dev/vda /mnt/debian; then
	debian debian-rootfs --rootfs /mnt/debian
	umount /mnt/debian
	debian debian-root-disk --root-disk /dev/vda
else
	fail debian "no Debian root disk /dev/vda to mount (run through tests/volumes/run.sh)"
fi

# Two vCPUs exec'ing the same binary from a virtio-fs root: each open of it
# drops its page cache and the other process's mappings of it, while the
# other vCPU is in kvm_amd for a CPUID of glibc's start.  Without NRIP save
# kvm_amd decodes that CPUID again from the unmapped page and ends the VM
# ("KVM internal error 1", exit reason 0x72): 2 of 10 such VMs on QEMU's
# TCG before the lab's NRIP patch (tests/lab/README.md).
mkdir -p $T/execroot/bin $T/execroot/proc $T/execroot/dev $T/execroot/tmp
cp /bin/busybox $T/execroot/bin/busybox; ln -s busybox $T/execroot/bin/sh
for r in 1 2 3 4; do
	out=$(run -v --cpus 2 --rootfs $T/execroot -- /bin/sh -c '
		loop() { i=0; while [ $i -lt 150 ]; do /bin/busybox true || exit 1; i=$((i + 1)); done; echo "$1 done"; }
		loop a & loop b & wait' 2> $T/execs.err); st=$?
	expect execs-two-vcpus-$r 0 $st "a done b done" "$(echo "$out" | sort | tr '\n' ' ' | sed 's/ $//')"
	[ $st = 0 ] || grep -v debug: $T/execs.err | sed 's/^/  execs: /' | tail -n 12
done

# A virtiofsd that dies mid-run ends the VM with an error, not a hang.
run --volume $T/rw:/data -- sh -c 'sleep 60; ls /data' > /dev/null 2> $T/die.err & v=$!
sleep 8
for p in $(pidof virtiofsd); do kill -9 $p; done
wait $v; st=$?
expect virtiofsd-dies 125 $st 1 "$(grep -c "virtio-fs 'vol0'" $T/die.err)"

echo "lab-volumes: $fails failed${failed:+:$failed}"
[ $fails = 0 ]
