#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-snapshot (issue 18), in the lab: a Linux microVM warmed up by
# alcatraz-snapshot and restored by alcatraz-run --restore. What the
# warm-up left in the guest's RAM (a file, a background counter) is there
# after restore; two clones restored at the same time are independent and
# draw different random numbers and have vsock CIDs of their own (not the
# snapshot's), with a new control session each; bad snapshot files give one
# line, 125 and no VM. The snapshot has a network (--net user): each clone
# gets a MAC of its own (neither the snapshot's) and reaches the host
# through a passt of its own; a restore without --net is refused.

# passt's sandbox pivot_roots, which the initramfs root refuses: a bind
# mount of the root moved over it in a mount namespace of our own (as
# tests/lab/net/net.sh does).
if [ -z "$NET_NEWROOT" ]; then
	export NET_NEWROOT=1
	mkdir -p /r
	exec unshare -m /bin/sh -c 'mount --rbind / /r && cd /r && mount --move . / &&
		exec chroot . /bin/sh "$0" "$@"' "$0" "$@"
fi
B=${ALCATRAZ_BUILD:-/alcatraz/build}
export ALCATRAZ_KERNEL=${ALCATRAZ_KERNEL:-$B/kernel/vmlinux}
export ALCATRAZ_INIT=${ALCATRAZ_INIT:-$B/src/guest/alcatraz-init}
export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$B/src/vmm/alcatraz-vmm}
export ALCATRAZ_PASST=${ALCATRAZ_PASST:-/alcatraz/add/passt}
RUN="$B/examples/alcatraz-run"
SNAP="$B/examples/alcatraz-snapshot"
T=/tmp/snap-test; rm -rf $T; mkdir -p $T/snap
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); failed="$failed $1"; }
restore_nonet() { "$RUN" --timeout ${SNAP_VM_TIMEOUT:-120} --restore "$@"; }
restore() { dir=$1; shift; restore_nonet "$dir" --net user "$@"; }
vmms() { cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^alcatraz-vmm$'; }
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# passt derives its addresses from an interface with a default route; the
# clones fetch a file from the lab's loopback through their passt.
insmod /alcatraz/modules/dummy.ko || { echo "lab-snapshot: no dummy.ko"; exit 3; }
ip link set lo up
ip link add d0 type dummy && ip addr add 192.0.2.10/24 dev d0 && ip link set d0 up &&
	ip route add default via 192.0.2.1 || exit 3
mkdir -p $T/www && dd if=/dev/urandom of=$T/www/f bs=64k count=4 2>/dev/null
WANT=$(md5sum < $T/www/f | cut -d' ' -f1)
httpd -p 127.0.0.1:8080 -h $T/www

# The warm-up: a file in the guest's RAM and a counter that goes on in the
# background, in a session of its own (it outlives the exec); vsock-cid
# (tests/snapshot/vsock-cid.c) written to /tmp from octal escapes, which
# prints the guest's CID as its kernel has it: the snapshot's, and later
# each clone's.
cidtool=$(od -An -v -to1 "$B/tests/snapshot/vsock-cid" | tr -s ' \n' ' ' | sed 's/ /\\/g; s/\\$//')
warmup="printf '$cidtool' > /tmp/vsock-cid && chmod +x /tmp/vsock-cid && echo warm-state > /tmp/warm && "'setsid sh -c "i=0; while :; do i=\$((i+1)); echo \$i > /tmp/count; sleep 0.1; done" </dev/null >/dev/null 2>&1 & sleep 0.5; cat /tmp/count; /tmp/vsock-cid; cat /sys/class/net/eth0/address'
t0=$(ms)
out=$("$SNAP" create $T/snap --cmdline nopv --net user -- sh -c "$warmup" 2>$T/create.err); st=$?
echo "lab-snapshot: create took $(($(ms) - t0)) ms"
if [ $st != 0 ]; then
	fail create "status $st: $(cat $T/create.err)"
	echo "lab-snapshot: $fails failed${failed:+:$failed}"; exit 1
fi
snapcid=$(echo "$out" | sed -n 2p)
snapmac=$(echo "$out" | sed -n 3p)
pass "create (the warm-up's counter at $(echo "$out" | sed -n 1p), the snapshot's CID $snapcid, MAC $snapmac)"

t0=$(ms)
out=$(restore $T/snap -- cat /tmp/warm 2>$T/r1.err); st=$?
echo "lab-snapshot: restore + cat took $(($(ms) - t0)) ms"
[ $st = 0 ] && [ "$out" = warm-state ] && pass "file from the warm-up" ||
	fail "file from the warm-up" "status $st, output '$out': $(cat $T/r1.err)"

out=$(restore $T/snap -- sh -c 'a=$(cat /tmp/count); sleep 1; b=$(cat /tmp/count); echo $a $b' 2>$T/r2.err); st=$?
set -- $out
if [ $st = 0 ] && [ $# = 2 ] && [ "$2" -gt "$1" ] 2>/dev/null; then
	pass "the background counter goes on ($1 -> $2)"
else
	fail "the background counter" "status $st, output '$out': $(cat $T/r2.err)"
fi

out=$(restore $T/snap -- sh -c 'exit 7' 2>$T/r3.err); st=$?
[ $st = 7 ] && pass "the command's status" || fail "the command's status" "status $st: $(cat $T/r3.err)"

# The command runs over the new session, after the transport reset: its
# output (the CID the guest kernel took from the reset) and its status.
out=$(restore $T/snap -- sh -c '/tmp/vsock-cid; dmesg | grep -c "alcatraz-init: new control session"; exit 9' 2>$T/r4.err); st=$?
set -- $out
if [ $st = 9 ] && [ $# = 2 ] && [ "$1" -gt 2 ] 2>/dev/null && [ "$1" != "${snapcid:-none}" ] && [ "$2" = 1 ]; then
	pass "output and status over the new session (CID $1, one new session)"
else
	fail "the new session" "status $st, output '$out': $(cat $T/r4.err)"
fi

# Two clones at once: each writes its own file and sees only its own.
clone() {
	restore $T/snap -- sh -c "head -c16 /dev/urandom | md5sum; echo $1 > /tmp/clone-$1; sleep 2; echo \$(ls /tmp | grep clone-); dmesg | grep -c 'alcatraz-init: reseeded the CRNG'; /tmp/vsock-cid; cat /sys/class/net/eth0/address; wget -q -O - http://host.alcatraz.internal:8080/f | md5sum" \
		> $T/clone$1.out 2> $T/clone$1.err
	echo $? > $T/clone$1.st
}
clone 1 & clone 2 & wait
for n in 1 2; do
	o=$(sed -n 2p $T/clone$n.out)
	[ "$(cat $T/clone$n.st)" = 0 ] && [ "$o" = "clone-$n" ] && pass "clone $n sees only its own file" ||
		fail "clone $n" "status $(cat $T/clone$n.st), output '$(cat $T/clone$n.out)': $(cat $T/clone$n.err)"
done
# Read first thing: before the guest's own CRNG reseeds (every few seconds
# in its first minutes) could tell the clones apart.
r1=$(head -n1 $T/clone1.out); r2=$(head -n1 $T/clone2.out)
[ -n "$r1" ] && [ "$r1" != "$r2" ] && pass "the clones' random numbers differ" ||
	fail "random numbers" "clone 1 '$r1', clone 2 '$r2'"
# In its first minutes the guest kernel reseeds its CRNG every few seconds
# from its own interrupts' timing, which may tell clones apart by itself:
# that each clone was reseeded from the host, once, is checked on its own.
for n in 1 2; do
	c=$(sed -n 3p $T/clone$n.out)
	[ "$c" = 1 ] && pass "clone $n reseeded from the host" ||
		fail "clone $n reseed" "$c reseeds in its kernel log, want 1"
done

# Each clone has a CID of its own, neither the snapshot's.
c1=$(sed -n 4p $T/clone1.out); c2=$(sed -n 4p $T/clone2.out)
if [ -n "$snapcid" ] && [ -n "$c1" ] && [ -n "$c2" ] && [ "$c1" != "$c2" ] && [ "$c1" != "$snapcid" ] &&
   [ "$c2" != "$snapcid" ] && [ "$c1" -gt 2 ] 2>/dev/null && [ "$c2" -gt 2 ] 2>/dev/null; then
	pass "the clones' vsock CIDs differ ($c1, $c2; the snapshot's $snapcid)"
else
	fail "the clones' CIDs" "clone 1 '$c1', clone 2 '$c2', the snapshot's '$snapcid'"
fi

# Each clone has a MAC of its own, neither the snapshot's, and reaches the
# host's loopback through its own passt.
m1=$(sed -n 5p $T/clone1.out); m2=$(sed -n 5p $T/clone2.out)
if [ -n "$snapmac" ] && [ -n "$m1" ] && [ -n "$m2" ] && [ "$m1" != "$m2" ] && [ "$m1" != "$snapmac" ] &&
   [ "$m2" != "$snapmac" ]; then
	pass "the clones' MACs differ ($m1, $m2; the snapshot's $snapmac)"
else
	fail "the clones' MACs" "clone 1 '$m1', clone 2 '$m2', the snapshot's '$snapmac'"
fi
for n in 1 2; do
	f=$(sed -n 6p $T/clone$n.out | cut -d' ' -f1)
	[ "$f" = "$WANT" ] && pass "clone $n fetched a file from the host through its passt" ||
		fail "clone $n fetch" "md5 '$f', want $WANT: $(cat $T/clone$n.err)"
done

# A snapshot with a network restored without one: one line, 125, no VM.
before=$(vmms)
restore_nonet $T/snap -- true > $T/nonet.out 2> $T/nonet.err; st=$?
if [ $st = 125 ] && [ "$(wc -l < $T/nonet.err)" = 1 ] && [ ! -s $T/nonet.out ] &&
   grep -q "saved with a network; restore it with --net" $T/nonet.err && [ "$(vmms)" = "$before" ]; then
	pass "a restore without --net refused: $(cat $T/nonet.err)"
else
	fail "a restore without --net" "status $st: $(cat $T/nonet.err)"
fi

# And a snapshot without a network restored with one (a second, plain
# snapshot: the warm-up's default, true).
mkdir -p $T/plain
if "$SNAP" create $T/plain --cmdline nopv > /dev/null 2> $T/plain-create.err; then
	before=$(vmms)
	restore $T/plain -- true > $T/plain.out 2> $T/plain.err; st=$?
	if [ $st = 125 ] && [ "$(wc -l < $T/plain.err)" = 1 ] && [ ! -s $T/plain.out ] &&
	   grep -q "saved without a network; restore it without --net" $T/plain.err &&
	   [ "$(vmms)" = "$before" ]; then
		pass "a restore with --net of a snapshot without a network refused: $(cat $T/plain.err)"
	else
		fail "a restore with --net of a snapshot without a network" "status $st: $(cat $T/plain.err)"
	fi
else
	fail "a snapshot without a network" "$(cat $T/plain-create.err)"
fi

# Bad snapshot files: one line, 125, no VM left.
bad() { # name
	before=$(vmms)
	restore $T/$1 -- true > $T/$1.out 2> $T/$1.err; st=$?
	lines=$(wc -l < $T/$1.err)
	if [ $st = 125 ] && [ "$lines" = 1 ] && grep -q "^alcatraz-run: cannot restore from" $T/$1.err &&
	   [ ! -s $T/$1.out ] && [ "$(vmms)" = "$before" ]; then
		pass "$1 snapshot refused: $(cat $T/$1.err)"
	else
		fail "$1 snapshot" "status $st, $lines lines: $(cat $T/$1.err)"
	fi
}
mk() { mkdir -p $T/$1 && cp $T/snap/state $T/$1/state && ln $T/snap/memory $T/$1/memory 2>/dev/null ||
	cp --sparse=always $T/snap/memory $T/$1/memory; }
size=$(stat -c %s $T/snap/state)
mk truncated && truncate -s $((size / 2)) $T/truncated/state && bad truncated
mk flipped && printf '\377' | dd of=$T/flipped/state bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null && bad flipped
mk version && printf '\143' | dd of=$T/version/state bs=1 seek=8 conv=notrunc 2>/dev/null && bad version
mk oversized && truncate -s 17M $T/oversized/state && bad oversized

echo "lab-snapshot: $fails failed${failed:+:$failed}"
[ $fails = 0 ]
