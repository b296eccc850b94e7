#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-oci-docker's checks, in the lab booted from the containerd root
# (tests/oci-docker/run.sh): containerd from its systemd unit, dockerd
# started here on it, off every network (no bridge, no iptables, no
# forwarding, --network none, --pull never: no registry is reachable), with
# daemon.json's runtime "alcatraz"; the image loaded with `docker load`; then
# the same containers run with `--runtime runc` and `--runtime alcatraz`:
#   - `docker run --rm`: stdout, stderr, status 7, env (-e and the image's),
#     -w, a read-only bind mount (-v HOST:/data:ro: its bytes seen, a write
#     refused), Docker's /etc/hostname and /etc/hosts, compared between the
#     two; the kernel seen inside: the lab's under runc, another (the
#     guest's) under alcatraz;
#   - `docker run -d`: `docker exec` (stdout, stderr, status 5), `docker
#     pause` and `unpause`, `docker stop` (SIGTERM caught by the shell:
#     143); another one `docker kill`ed (137); the exit codes as runc's;
#   - nothing left: no container, no VMM, virtiofsd, passt, alcatraz-oci or
#     shim process, no VM cgroup, no state in the runtimes' --root.
# Each check prints "PASS name" or "FAIL name: why"; exit 1 when any failed.
B=/alcatraz/build
IMG=alcatraz-test:1
T=/tmp/docker-test
# the --root dockerd 20.10 gives the runc shim for every runtime of its own
ROOT=/run/docker/runtime-runc/moby
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); failed="$failed $1"; }
expect() { if [ "$3" = "$2" ]; then pass "$1"; else fail "$1" "got '$3', want '$2'"; fi; }
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { print b - a }'; }
mkdir -p $T/data && echo "from the host" > $T/data/hello

[ -e /dev/kvm ] || modprobe kvm_amd || { echo "FAIL setup: no /dev/kvm"; exit 1; }
echo "$(dockerd --version), containerd $(containerd --version | cut -d' ' -f3), $(runc --version | head -n 1)"
i=0
until ctr version > /dev/null 2>&1; do
	i=$((i + 1)); [ $i -gt 300 ] && { echo "FAIL setup: containerd did not answer"; exit 1; }
	sleep 0.2
done

# dockerd on the system's containerd (whose environment the runtimes get),
# with no network of its own.
t=$(now)
dockerd --containerd=/run/containerd/containerd.sock --iptables=false --ip-forward=false \
	--ip-masq=false --bridge=none --userland-proxy=false > $T/dockerd.log 2>&1 &
dockerd_pid=$!
i=0
until docker version > /dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $dockerd_pid 2>/dev/null; then
		echo "FAIL setup: dockerd did not answer"; tail -n 20 $T/dockerd.log; exit 1
	fi
	sleep 0.2
done
echo "  dockerd answered after $(since $t) s"
docker info --format '{{json .Runtimes}}' | grep -q '"alcatraz":{"path":"/alcatraz/build/src/oci/alcatraz-oci"' &&
	pass runtime-registered || fail runtime-registered "$(docker info --format '{{json .Runtimes}}')"
expect no-bridge "host none" "$(docker network ls --format '{{.Name}}' | sort | tr '\n' ' ' | sed 's/ $//')"

docker load -i /alcatraz/image.tar > $T/load.out 2>&1
rc=$?
sed 's/^/  load: /' $T/load.out
expect load-status 0 $rc
expect load-env "PATH=/bin IMAGE_VAR=from-image" \
	"$(docker image inspect -f '{{range .Config.Env}}{{.}} {{end}}' $IMG 2>&1 | sed 's/ $//')"

show_logs() {
	tail -n 30 $T/dockerd.log | sed 's/^/  dockerd: /'
	journalctl -u containerd --no-pager -n 15 | sed 's/^/  containerd: /'
}

# 1. A container run to its end, under each runtime.
# run NAME RUNTIME: stdout in $T/NAME.out (its last line, the kernel, in
# $T/NAME.kernel), stderr in $T/NAME.err, status in $T/NAME.rc
run() {
	t=$(now)
	docker run --rm --pull never --network none --runtime "$2" -e GREETING=hi -w /data \
		-v $T/data:/data:ro $IMG sh -c 'echo out $GREETING $IMAGE_VAR $(pwd) $(cat /data/hello)
			echo err >&2
			echo x > /data/new 2>/dev/null && echo data-writable || echo data-read-only
			[ "$(hostname)" = "$(cat /etc/hostname)" ] && echo hostname-file
			grep -q localhost /etc/hosts && echo hosts-file
			uname -r; exit 7' > $T/$1.all 2> $T/$1.err
	echo $? > $T/$1.rc
	sed '$d' $T/$1.all > $T/$1.out
	tail -n 1 $T/$1.all > $T/$1.kernel
	echo "  $1: status $(cat $T/$1.rc) in $(since $t) s"
}
run c-runc runc
run c-alcatraz alcatraz
sed 's/^/  runc: /' $T/c-runc.all; sed 's/^/  alcatraz: /' $T/c-alcatraz.all
sed 's/^/  alcatraz stderr: /' $T/c-alcatraz.err
expect runc-status 7 "$(cat $T/c-runc.rc)"
expect runc-stdout "out hi from-image /data from the host
data-read-only
hostname-file
hosts-file" "$(cat $T/c-runc.out)"
expect alcatraz-status "$(cat $T/c-runc.rc)" "$(cat $T/c-alcatraz.rc)"
expect alcatraz-stdout "$(cat $T/c-runc.out)" "$(cat $T/c-alcatraz.out)"
expect alcatraz-stderr "$(cat $T/c-runc.err)" "$(cat $T/c-alcatraz.err)"
expect runc-kernel-is-lab "$(uname -r)" "$(cat $T/c-runc.kernel)"
k=$(cat $T/c-alcatraz.kernel)
[ -n "$k" ] && [ "$k" != "$(uname -r)" ] && pass alcatraz-kernel-is-guest ||
	fail alcatraz-kernel-is-guest "'$k' (the lab runs $(uname -r))"
[ -e $T/data/new ] && fail host-data-unchanged "$T/data/new exists" || pass host-data-unchanged

# 2. Detached containers: exec, pause, unpause, stop; kill.
# detached NAME RUNTIME
detached() {
	docker run -d --pull never --network none --runtime "$2" --name "$1" $IMG \
		sh -c 'trap "echo got-term; exit 143" TERM; while :; do sleep 1; done' > /dev/null 2> $T/$1.run-err
	expect "$1-run-d" 0 $?
	expect "$1-running" running "$(docker inspect -f '{{.State.Status}}' "$1" 2>&1)"
	# its state in the runtime's --root, by container id
	ls -A "$ROOT/$(docker inspect -f '{{.Id}}' "$1")" > $T/$1.state 2>&1
	out=$(docker exec "$1" sh -c 'echo exec $IMAGE_VAR $(pwd); echo exec-err >&2; exit 5' 2> $T/$1.exec-err)
	rc=$?
	expect "$1-exec-stdout" "exec from-image /tmp" "$out"
	expect "$1-exec-stderr" "exec-err" "$(cat $T/$1.exec-err)"
	expect "$1-exec-status" 5 $rc
	docker pause "$1" > /dev/null
	expect "$1-pause" paused "$(docker inspect -f '{{.State.Status}}' "$1" 2>&1)"
	docker unpause "$1" > /dev/null
	expect "$1-unpause" running "$(docker inspect -f '{{.State.Status}}' "$1" 2>&1)"
	t=$(now)
	docker stop -t 60 "$1" > /dev/null
	expect "$1-stop" 0 $?
	echo "  $1: stopped in $(since $t) s"
	expect "$1-exited" exited "$(docker inspect -f '{{.State.Status}}' "$1" 2>&1)"
	docker inspect -f '{{.State.ExitCode}}' "$1" > $T/$1.exit 2>&1
	expect "$1-logs" "got-term" "$(docker logs "$1" 2>&1)"
	docker rm "$1" > /dev/null
	expect "$1-rm" 0 $?

	docker run -d --pull never --network none --runtime "$2" --name "k$1" $IMG sleep 1000 \
		> /dev/null 2> $T/k$1.run-err
	expect "k$1-run-d" 0 $?
	docker kill "k$1" > /dev/null
	expect "k$1-kill" 0 $?
	docker wait "k$1" > $T/k$1.exit 2>&1
	docker rm "k$1" > /dev/null
	expect "k$1-rm" 0 $?
}
detached d-runc runc
detached d-alcatraz alcatraz
expect d-runc-exit-status 143 "$(cat $T/d-runc.exit)"
expect d-alcatraz-exit-status "$(cat $T/d-runc.exit)" "$(cat $T/d-alcatraz.exit)"
expect kd-runc-exit-status 137 "$(cat $T/kd-runc.exit)"
expect kd-alcatraz-exit-status "$(cat $T/kd-runc.exit)" "$(cat $T/kd-alcatraz.exit)"
# alcatraz-oci's state directory (its VMM's log in it) was there, runc's too
grep -qx vmm.log $T/d-alcatraz.state && pass alcatraz-state-dir ||
	fail alcatraz-state-dir "$ROOT/ID held '$(cat $T/d-alcatraz.state | tr '\n' ' ')'"
grep -qx state.json $T/d-runc.state && pass runc-state-dir ||
	fail runc-state-dir "$ROOT/ID held '$(cat $T/d-runc.state | tr '\n' ' ')'"

# 3. Nothing left.
sleep 1
expect no-containers "" "$(docker ps -aq)"
# (the root has no procps: the command lines from /proc)
left=$(for p in /proc/[0-9]*; do
	a=$(tr '\0' ' ' < $p/cmdline 2>/dev/null)
	case "$a" in
	*alcatraz-vmm*|*virtiofsd*|*passt*|*containerd-shim*|*alcatraz-oci*) echo "${p#/proc/} $a";;
	esac
done)
expect nothing-left "" "$left"
expect no-vm-cgroup "" "$(find /sys/fs/cgroup -name 'alcatraz-vm-*' 2>/dev/null)"
# The runtimes' --root (dockerd gives both the same): no container's state.
expect no-runtime-state "" "$(ls -A $ROOT 2>&1)"

[ $fails = 0 ] || show_logs
kill $dockerd_pid
echo "lab-oci-docker: $fails failed${failed:+:$failed}"
[ $fails = 0 ]
