#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-oci-containerd's checks, in the lab booted from the containerd root
# (tests/oci-containerd/run.sh): containerd from its systemd unit, the test's
# image imported with `ctr image import`, then the same containers run with
# `ctr run --runtime io.containerd.runc.v2 --runc-binary B` for B = Debian's
# runc and the build's alcatraz-oci, each seen by containerd's runc shim:
#   - a container's stdout, env (the image's and --env), bind mount
#     (ro: a write fails) and exit status, compared between the two;
#   - a detached container: `ctr task exec` (output and status 5),
#     `ctr task pause` and `resume` (PAUSED, RUNNING), `ctr task ps`,
#     `ctr task kill` (SIGTERM caught by the guest's shell: 143; then
#     SIGKILL of another: 137), `ctr task delete`, `ctr container delete`;
#     the task's network namespace a new one under both;
#   - `ctr run -t` in a terminal of script(1)'s: a window change of that
#     terminal reaches the container's process (SIGWINCH, `stty size`)
#     through ctr, the shim's ResizePty and the runtime;
#   - a container in a network namespace of the lab's (--with-ns
#     network:PATH) fetches a file over a veth pair (md5; under
#     alcatraz-oci from the guest, through a passt started in PATH);
#   - nothing left: no VMM, virtiofsd, passt or shim after the deletes.
# Each check prints "PASS name" or "FAIL name: why"; exit 1 when any failed.
B=/alcatraz/build
OCI=$B/src/oci/alcatraz-oci
IMG=docker.io/library/alcatraz-test:1
T=/tmp/ctr
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); failed="$failed $1"; }
expect() { if [ "$3" = "$2" ]; then pass "$1"; else fail "$1" "got '$3', want '$2'"; fi; }
now() { cut -d' ' -f1 /proc/uptime; }
mkdir -p $T/data && echo "from the host" > $T/data/hello

[ -e /dev/kvm ] || modprobe kvm_amd || { echo "FAIL setup: no /dev/kvm"; exit 1; }
echo "containerd $(containerd --version | cut -d' ' -f3), $(runc --version | head -n 1)"
i=0
until ctr version > /dev/null 2>&1; do
	i=$((i + 1)); [ $i -gt 300 ] && { echo "FAIL setup: containerd did not answer"; systemctl status containerd; exit 1; }
	sleep 0.2
done
ctr image import /alcatraz/image.tar > $T/import.out 2>&1
rc=$?
sed 's/^/  import: /' $T/import.out
expect import-status 0 $rc
ctr image ls -q | grep -qx "$IMG" && pass import-listed || fail import-listed "$(ctr image ls)"

# log FILE: the runtime's log lines for the failure message
show_logs() {
	for f in /run/containerd/io.containerd.runtime.v2.task/default/*/log.json; do
		[ -s "$f" ] && sed "s|^|  $f: |" "$f" | tail -n 5
	done
	journalctl -u containerd --no-pager -n 15 | sed 's/^/  journal: /'
}

# 1. A container run to its end, under each runtime.
# run NAME RUNTIME-BINARY: stdout in $T/NAME.out, status in $T/NAME.rc
run() {
	t=$(now)
	ctr run --rm --runtime io.containerd.runc.v2 --runc-binary "$2" --env GREETING=hi \
		--mount type=bind,src=$T/data,dst=/data,options=rbind:ro \
		$IMG "$1" sh -c 'echo out $GREETING $IMAGE_VAR $(pwd) $(cat /data/hello); echo err >&2;
			echo x > /data/new 2>/dev/null && echo data-writable || echo data-read-only; exit 7' \
		> $T/$1.out 2> $T/$1.err
	echo $? > $T/$1.rc
	echo "  $1: status $(cat $T/$1.rc) in $(awk -v a=$t -v b=$(now) 'BEGIN { print b - a }') s"
}
run c-runc runc
run c-alcatraz $OCI
sed 's/^/  runc stdout: /' $T/c-runc.out; sed 's/^/  alcatraz stdout: /' $T/c-alcatraz.out
sed 's/^/  alcatraz stderr: /' $T/c-alcatraz.err
expect runc-status 7 "$(cat $T/c-runc.rc)"
expect runc-stdout "out hi from-image /tmp from the host
data-read-only" "$(cat $T/c-runc.out)"
expect alcatraz-status "$(cat $T/c-runc.rc)" "$(cat $T/c-alcatraz.rc)"
expect alcatraz-stdout "$(cat $T/c-runc.out)" "$(cat $T/c-alcatraz.out)"
expect alcatraz-stderr "$(cat $T/c-runc.err)" "$(cat $T/c-alcatraz.err)"
[ -e $T/data/new ] && fail host-data-unchanged "$T/data/new exists"
ctr container ls -q | grep -q '^c-' && fail run-rm-deleted "$(ctr container ls)" || pass run-rm-deleted

# exit_code TEXT: the task's status from ctr task delete's warning (ctr
# itself exits 0), 0 without one
exit_code() {
	c=$(echo "$1" | sed -n 's/.*exit with non-zero exit code \([0-9]*\).*/\1/p')
	echo ${c:-0}
}

# 2. A detached container: exec, kill, delete.
# detached NAME RUNTIME-BINARY: exec's output and status, kill TERM, delete
detached() {
	ctr run -d --runtime io.containerd.runc.v2 --runc-binary "$2" $IMG "$1" \
		sh -c 'trap "echo got-term; exit 143" TERM; while :; do sleep 1; done' > $T/$1.run 2>&1
	expect "$1-run-d" 0 $?
	st=$(ctr task ls | awk -v c="$1" '$1 == c { print $3 }')
	expect "$1-running" RUNNING "$st"
	# ctr's spec has a network namespace without a path: runc makes a new
	# one, alcatraz-oci's pid-file process too (the VM has no NIC), so
	# joining /proc/PID/ns/net (--network container:X) gives no host network.
	pid=$(ctr task ls | awk -v c="$1" '$1 == c { print $2 }')
	ns=$(readlink /proc/$pid/ns/net)
	[ -n "$ns" ] && [ "$ns" != "$(readlink /proc/self/ns/net)" ] && pass "$1-own-netns" ||
		fail "$1-own-netns" "pid $pid in ${ns:-?}, the lab in $(readlink /proc/self/ns/net)"
	# (stdout and stderr apart: ctr copies its two FIFOs in any order)
	out=$(ctr task exec --exec-id e1 "$1" sh -c 'echo exec $IMAGE_VAR; echo exec-err >&2; exit 5' 2> $T/$1.exec-err)
	rc=$?
	expect "$1-exec-stdout" "exec from-image" "$out"
	expect "$1-exec-stderr" "exec-err" "$(cat $T/$1.exec-err)"
	expect "$1-exec-status" 5 $rc
	ctr task pause "$1"
	expect "$1-pause" 0 $?
	expect "$1-paused" PAUSED "$(ctr task ls | awk -v c="$1" '$1 == c { print $3 }')"
	ctr task resume "$1"
	expect "$1-resume" 0 $?
	expect "$1-resumed" RUNNING "$(ctr task ls | awk -v c="$1" '$1 == c { print $3 }')"
	# ctr task ps: a header and the runtime's pids (runc ps --format json)
	n=$(ctr task ps "$1" | awk 'NR > 1 && $1 ~ /^[0-9]+$/' | wc -l)
	[ "$n" -ge 1 ] && pass "$1-ps" || fail "$1-ps" "$(ctr task ps "$1" 2>&1)"
	ctr task kill -s SIGTERM "$1"
	expect "$1-kill-status" 0 $?
	i=0
	until [ "$(ctr task ls | awk -v c="$1" '$1 == c { print $3 }')" = STOPPED ]; do
		i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.2
	done
	expect "$1-stopped" STOPPED "$(ctr task ls | awk -v c="$1" '$1 == c { print $3 }')"
	out=$(ctr task delete "$1" 2>&1)
	expect "$1-task-delete" 0 $?
	echo "  $1 task delete: $out"
	exit_code "$out" > $T/$1.exit
	expect "$1-task-gone" "" "$(ctr task ls | awk -v c="$1" '$1 == c')"
	ctr container delete "$1"
	expect "$1-container-delete" 0 $?
}
detached d-runc runc
detached d-alcatraz $OCI
expect d-runc-exit-status 143 "$(cat $T/d-runc.exit)"
expect d-alcatraz-exit-status "$(cat $T/d-runc.exit)" "$(cat $T/d-alcatraz.exit)"

# 3. SIGKILL of a running container, and its status through the shim.
ctr run -d --runtime io.containerd.runc.v2 --runc-binary $OCI $IMG k-alcatraz sleep 1000 > /dev/null 2>&1
expect kill9-run-d 0 $?
ctr task kill -s SIGKILL k-alcatraz
expect kill9-kill 0 $?
i=0
until [ "$(ctr task ls | awk '$1 == "k-alcatraz" { print $3 }')" = STOPPED ]; do
	i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.2
done
out=$(ctr task delete k-alcatraz 2>&1)
expect kill9-task-delete 0 $?
echo "  k-alcatraz task delete: $out"
expect kill9-exit-status 137 "$(exit_code "$out")"
expect kill9-task-gone "" "$(ctr task ls | awk '$1 == "k-alcatraz"')"
ctr container delete k-alcatraz

# 4. ctr run -t in a terminal of script(1)'s, under each runtime: a window
# change (stty on ctr's terminal; the kernel signals ctr, which resizes the
# task: the shim's ResizePty on the console's master) reaches the
# container's process, whose WINCH trap ends it with status 3 once its
# terminal is 40x120 (other sizes, such as ctr's first resize, are let
# pass); without the resize it gives up after 60 s with status 4.
# tty_run NAME RUNTIME-BINARY: the terminal's bytes in $T/NAME.tty,
# script's (the container's) status in $T/NAME.rc
cat > $T/tty.sh <<'EOF'
exec ctr run -t --rm --runtime io.containerd.runc.v2 --runc-binary "$2" docker.io/library/alcatraz-test:1 "$1" \
	sh -c 'trap "s=\$(busybox stty size); [ \"\$s\" = \"40 120\" ] && { echo winch \$s; exit 3; }" WINCH; echo trap-set; i=0; while [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done; exit 4'
EOF
tty_run() {
	rm -f $T/in; mkfifo $T/in
	exec 8<> $T/in # script's stdin: open, and silent
	script -qfec "sh $T/tty.sh $1 $2" /dev/null < $T/in > $T/$1.tty 2>&1 &
	sp=$!
	i=0
	until grep -q trap-set $T/$1.tty; do
		i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.2
	done
	pty=
	for p in /proc/[0-9]*; do
		case "$(tr '\0' ' ' 2>/dev/null < $p/cmdline)" in
		"ctr run -t "*" $1 "*) pty=$(readlink $p/fd/0);;
		esac
	done
	echo "  $1: ctr's terminal ${pty:-not found}"
	[ -n "$pty" ] && stty -F $pty rows 40 cols 120
	i=0
	while kill -0 $sp 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 900 ]; then
			echo "  $1: still running after 180 s: killed"
			ctr task kill -s SIGKILL $1; kill -9 $sp; break
		fi
		sleep 0.2
	done
	wait $sp
	echo $? > $T/$1.rc
	exec 8>&-
	tr -d '\r' < $T/$1.tty | sed "s/^/  $1 terminal: /"
}
tty_run t-runc runc
tty_run t-alcatraz $OCI
expect tty-runc "3 winch 40 120" "$(cat $T/t-runc.rc) $(tr -d '\r' < $T/t-runc.tty | grep -x 'winch.*')"
expect tty-alcatraz-resize "3 winch 40 120" "$(cat $T/t-alcatraz.rc) $(tr -d '\r' < $T/t-alcatraz.tty | grep -x 'winch.*')"

# 5. A network namespace of the lab's (ctr run --with-ns network:PATH, as
# a CNI plugin's pod namespace is given): t1, a veth pair to it (10.77.0.1
# here, 10.77.0.2 there, its default route here) and an httpd on
# 10.77.0.1 serving random bytes, which a container in t1 fetches, under
# runc (its eth is t1's vc1) and under alcatraz-oci (the VM's passt started
# in t1; the fetch runs in the guest: its kernel's uname -r): the md5 of
# what it got, and the bytes sent through the veth (a passt in this
# namespace would reach 10.77.0.1 over lo).
ip netns add t1 && ip link add vh1 type veth peer name vc1 && ip link set vc1 netns t1 &&
	ip addr add 10.77.0.1/24 dev vh1 && ip link set vh1 up && ip -n t1 link set lo up &&
	ip -n t1 addr add 10.77.0.2/24 dev vc1 && ip -n t1 link set vc1 up &&
	ip -n t1 route add default via 10.77.0.1
expect netns-setup 0 $?
mkdir -p $T/www && head -c 300000 /dev/urandom > $T/www/blob
md5=$(md5sum < $T/www/blob | cut -d' ' -f1)
busybox httpd -f -p 10.77.0.1:8077 -h $T/www &
httpd=$!
# netns_run NAME RUNTIME-BINARY: "status md5 uname-r" in $T/NAME.res, the
# veth's sent bytes in $T/NAME.tx
netns_run() {
	tx=$(cat /sys/class/net/vh1/statistics/tx_bytes)
	t=$(now)
	ctr run --rm --with-ns network:/var/run/netns/t1 --runtime io.containerd.runc.v2 \
		--runc-binary "$2" $IMG "$1" sh -c 'wget -q -O - http://10.77.0.1:8077/blob | md5sum; uname -r' \
		> $T/$1.out 2> $T/$1.err
	echo "$? $(cut -d' ' -f1 $T/$1.out | tr '\n' ' ')" > $T/$1.res
	echo $(($(cat /sys/class/net/vh1/statistics/tx_bytes) - tx)) > $T/$1.tx
	echo "  $1: $(cat $T/$1.res) in $(awk -v a=$t -v b=$(now) 'BEGIN { print b - a }') s, $(cat $T/$1.tx) bytes through the veth"
	sed "s/^/  $1 stderr: /" $T/$1.err
}
netns_run n-runc runc
netns_run n-alcatraz $OCI
kill $httpd
expect netns-runc "0 $md5 $(uname -r) " "$(cat $T/n-runc.res)"
expect netns-alcatraz-md5 "0 $md5" "$(cut -d' ' -f1,2 $T/n-alcatraz.res)"
k=$(cut -d' ' -f3 $T/n-alcatraz.res)
[ -n "$k" ] && [ "$k" != "$(uname -r)" ] && pass netns-alcatraz-in-guest ||
	fail netns-alcatraz-in-guest "uname -r '$k', the lab's $(uname -r)"
[ "$(cat $T/n-runc.tx)" -ge 300000 ] && pass netns-runc-veth || fail netns-runc-veth "$(cat $T/n-runc.tx) bytes"
[ "$(cat $T/n-alcatraz.tx)" -ge 300000 ] && pass netns-alcatraz-veth ||
	fail netns-alcatraz-veth "$(cat $T/n-alcatraz.tx) bytes"
ip netns del t1

# 6. Nothing left.
sleep 1
# (the root has no procps: the command lines from /proc)
left=$(for p in /proc/[0-9]*; do
	a=$(tr '\0' ' ' < $p/cmdline 2>/dev/null)
	case "$a" in *alcatraz-vmm*|*virtiofsd*|*passt*|*containerd-shim*|*alcatraz-oci*) echo "${p#/proc/} $a";; esac
done)
expect nothing-left "" "$left"
# Both runtimes' shims end the same way after a delete (as containerd logs it).
journalctl -u containerd --no-pager | grep -E 'shim disconnected|dead shim' | sed 's/^.*msg=/  containerd: /' | sort | uniq -c
expect no-containers "" "$(ctr container ls -q)"

[ $fails = 0 ] || show_logs
echo "lab-oci-containerd: $fails failed${failed:+:$failed}"
[ $fails = 0 ]
