#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-snapshot (issue 18), in the lab: a Linux microVM warmed up by
# alcatraz-snapshot and restored by alcatraz-run --restore. What the
# warm-up left in the guest's RAM (a file, a background counter) is there
# after restore; two clones restored at the same time are independent and
# draw different random numbers and have vsock CIDs of their own (not the
# snapshot's), with a new control session each; bad snapshot files give one
# line, 125 and no VM.
B=${ALCATRAZ_BUILD:-/alcatraz/build}
export ALCATRAZ_KERNEL=${ALCATRAZ_KERNEL:-$B/kernel/vmlinux}
export ALCATRAZ_INIT=${ALCATRAZ_INIT:-$B/src/guest/alcatraz-init}
export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$B/src/vmm/alcatraz-vmm}
RUN="$B/examples/alcatraz-run"
SNAP="$B/examples/alcatraz-snapshot"
T=/tmp/snap-test; rm -rf $T; mkdir -p $T/snap
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
restore() { "$RUN" --timeout ${SNAP_VM_TIMEOUT:-120} --restore "$@"; }
vmms() { cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^alcatraz-vmm$'; }
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# The warm-up: a file in the guest's RAM and a counter that goes on in the
# background, in a session of its own (it outlives the exec); vsock-cid
# (tests/snapshot/vsock-cid.c) written to /tmp from octal escapes, which
# prints the guest's CID as its kernel has it: the snapshot's, and later
# each clone's.
cidtool=$(od -An -v -to1 "$B/tests/snapshot/vsock-cid" | tr -s ' \n' ' ' | sed 's/ /\\/g; s/\\$//')
warmup="printf '$cidtool' > /tmp/vsock-cid && chmod +x /tmp/vsock-cid && echo warm-state > /tmp/warm && "'setsid sh -c "i=0; while :; do i=\$((i+1)); echo \$i > /tmp/count; sleep 0.1; done" </dev/null >/dev/null 2>&1 & sleep 0.5; cat /tmp/count; /tmp/vsock-cid'
t0=$(ms)
out=$("$SNAP" create $T/snap --cmdline nopv -- sh -c "$warmup" 2>$T/create.err); st=$?
echo "lab-snapshot: create took $(($(ms) - t0)) ms"
if [ $st != 0 ]; then
	fail create "status $st: $(cat $T/create.err)"
	echo "lab-snapshot: $fails failed"; exit 1
fi
snapcid=$(echo "$out" | sed -n 2p)
pass "create (the warm-up's counter at $(echo "$out" | sed -n 1p), the snapshot's CID $snapcid)"

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
	restore $T/snap -- sh -c "head -c16 /dev/urandom | md5sum; echo $1 > /tmp/clone-$1; sleep 2; echo \$(ls /tmp | grep clone-); dmesg | grep -c 'alcatraz-init: reseeded the CRNG'; /tmp/vsock-cid" \
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

echo "lab-snapshot: $fails failed"
[ $fails = 0 ]
