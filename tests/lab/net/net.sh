#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: networking end to end in the lab (issue 16, test lab-net):
#   tests/lab/run --cpus 2 --module .../dummy.ko --module .../tun.ko \
#     --add <guest vmlinux> --add /usr/bin/passt tests/lab/net/net.sh
# (a) a guest fetches 10 MiB from a server on the lab's 127.0.0.1 by the name
#     host.alcatraz.internal, md5 checked; (b) a client in the lab fetches
#     10 MiB from the guest's server through --publish; (c) the tap backend
#     carries a fetch between the guest and a peer in a network namespace
#     made here; (d) two VMs on user networking: one reaches the other's
#     published port only through the host; (e) bad input: exit 125, one
#     line, no VM. Every address is loopback or in namespaces made here.
# Prints PASS/FAIL per check; exits 1 if any failed.

# passt's sandbox pivot_roots, which the initramfs root refuses (and a
# chroot cannot make user namespaces): a bind mount of the root moved over
# it in a mount namespace of our own.
if [ -z "$NET_NEWROOT" ]; then
	export NET_NEWROOT=1
	mkdir -p /r
	exec unshare -m /bin/sh -c 'mount --rbind / /r && cd /r && mount --move . / &&
		exec chroot . /bin/sh "$0" "$@"' "$0" "$@"
fi
B=${ALCATRAZ_BUILD:-/alcatraz/build}
export ALCATRAZ_KERNEL=${ALCATRAZ_KERNEL:-/alcatraz/add/vmlinux}
export ALCATRAZ_INIT=${ALCATRAZ_INIT:-$B/src/guest/alcatraz-init}
export ALCATRAZ_PASST=${ALCATRAZ_PASST:-/alcatraz/add/passt}
export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$B/src/vmm/alcatraz-vmm}
R="$B/examples/alcatraz-run --cmdline nopv --timeout 200"
T=/tmp/net; mkdir -p $T/www
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); failed="$failed $1"; }
ms() { cut -d' ' -f1 /proc/uptime | tr -d .; }

for m in dummy tun; do insmod /alcatraz/modules/$m.ko || { echo "net.sh: no $m.ko"; exit 3; }; done
# passt derives its addresses from an interface with a default route.
ip link set lo up
ip link add d0 type dummy && ip addr add 192.0.2.10/24 dev d0 && ip link set d0 up &&
	ip route add default via 192.0.2.1 || exit 3
dd if=/dev/urandom of=$T/www/f bs=1M count=10 2>/dev/null
WANT=$(md5sum < $T/www/f | cut -d' ' -f1)
httpd -p 127.0.0.1:8080 -h $T/www
# One KVM VM held open for the run (see tests/e2e/e2e.sh).
[ -x "$B/tests/hyperbox/hb-kvmtest" ] && { "$B/tests/hyperbox/hb-kvmtest" --hold 3000 > /dev/null 2>&1 & sleep 1; }

# (a)
G='wget -q -O /tmp/f http://host.alcatraz.internal:8080/f && md5sum < /tmp/f'
t0=$(ms); $R --net user -- sh -c "$G" > $T/a.out 2> $T/a.err; st=$?; t1=$(ms)
if [ $st = 0 ] && grep -q "^$WANT" $T/a.out; then pass "guest-fetches-host-loopback ($((t1 - t0))0 ms)"
else fail guest-fetches-host-loopback "status $st: $(cat $T/a.out $T/a.err | tr '\n' ' ')"; fi

# (b) and (d): VM A serves a file on its port 80, published on 18080.
G='mkdir /tmp/w && dd if=/dev/urandom of=/tmp/w/g bs=1M count=10 2>/dev/null &&
md5sum < /tmp/w/g && httpd -p 80 -h /tmp/w && echo serving && sleep 120'
# -v: if it fails, b.err holds the library's and the VMM's log.
$R -v --net user --publish 127.0.0.1:18080:80 -- sh -c "$G" > $T/b.out 2> $T/b.err &
vm=$!
i=0; while ! grep -q serving $T/b.out && [ $i -lt 150 ]; do sleep 1; i=$((i + 1)); done
t0=$(ms); GOT=$(wget -q -O - http://127.0.0.1:18080/g | md5sum | cut -d' ' -f1); t1=$(ms)
if grep -q "^$GOT " $T/b.out; then pass "host-fetches-published-port ($((t1 - t0))0 ms)"
else fail host-fetches-published-port "got $GOT: $(cat $T/b.out $T/b.err | tr '\n' ' ')"; fi
# VM B: A's port through the host works; A's guest address is B's own.
G='wget -q -O - http://host.alcatraz.internal:18080/g | md5sum
wget -q -T 5 -O - http://10.0.2.15:80/g > /dev/null 2>&1 && echo direct-reached || echo direct-refused'
$R --net user -- sh -c "$G" > $T/d.out 2> $T/d.err
if grep -q "^$GOT " $T/d.out && grep -q direct-refused $T/d.out; then pass two-vms-only-through-host
else fail two-vms-only-through-host "$(cat $T/d.out $T/d.err | tr '\n' ' ')"; fi
kill $vm 2>/dev/null; wait $vm 2>/dev/null

# (c) a tap, its peer (httpd) in a network namespace of its own.
unshare -n /bin/sh -c '
ip link set lo up; tunctl -t tap0 > /dev/null && ip addr add 10.1.0.1/24 dev tap0 &&
ip link set tap0 up && httpd -p 10.1.0.1:8081 -h '$T/www' &&
'"$R"' --net tap=tap0,ip=10.1.0.2/24,gw=10.1.0.1 -- sh -c "wget -q -O - http://10.1.0.1:8081/f | md5sum"' \
	> $T/c.out 2> $T/c.err; st=$?
if [ $st = 0 ] && grep -q "^$WANT" $T/c.out; then pass tap-peer-in-netns
else fail tap-peer-in-netns "status $st: $(cat $T/c.out $T/c.err | tr '\n' ' ')"; fi

# (e) bad input: status 125, one line naming the problem, no VM.
bad() {
	name=$1 want=$2; shift 2
	"$@" > $T/e.out 2> $T/e.err; st=$?
	if [ $st = 125 ] && [ "$(wc -l < $T/e.err)" = 1 ] && grep -q -e "$want" $T/e.err; then pass "$name"
	else fail "$name" "status $st: $(cat $T/e.err | tr '\n' ' ')"; fi
}
bad bad-tap "tap=nope0: no such tap device" $R --net tap=nope0 -- true
bad bad-publish "--publish" $R --net user --publish 1:2:3:4 -- true
bad port-in-use "already in use" $R --net user --publish 127.0.0.1:8080:80 -- true
ALCATRAZ_PASST=/nonexistent bad no-passt "passt" $R --net user -- true
[ -z "$(pidof passt)" ] && pass no-passt-left || fail no-passt-left "$(pidof passt)"

echo "net.sh: $fails failed${failed:+:$failed}"
[ $fails = 0 ]
