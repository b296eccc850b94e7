#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: alcatraz-oci, the runc-compatible runtime (issue 19), run
# inside the lab as containerd's shim drives it: create -> state -> start ->
# state -> the command's output and status through the pid-file process
# (oci-reap stands in for the shim's reaping) -> delete; kill with SIGTERM
# reaching the guest's process; exec with its own output and status; bind
# mounts of files; a terminal through --console-socket; pause/resume, ps,
# update, events; bad input, one line each (a network namespace path that
# is not one included).
#   tests/oci/run.sh BUILDDIR   (meson test lab-oci)
# Each check prints "PASS name" or "FAIL name: why"; exit 1 when any failed.
B=${ALCATRAZ_BUILD:-/alcatraz/build}
export ALCATRAZ_KERNEL=${ALCATRAZ_KERNEL:-$B/kernel/vmlinux}
export ALCATRAZ_INIT=${ALCATRAZ_INIT:-$B/src/guest/alcatraz-init}
export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$B/src/vmm/alcatraz-vmm}
export ALCATRAZ_OCI_HELPER_DIR=${ALCATRAZ_OCI_HELPER_DIR:-$B/src/oci/guest}
export ALCATRAZ_CMDLINE=nopv
export O="$B/src/oci/alcatraz-oci" R=/tmp/oci-state T=/tmp/oci
REAP="$B/tests/oci/oci-reap" CONSOLE="$B/tests/oci/oci-console"
WAIT=${OCI_WAIT_S:-300}
rm -rf $T $R; mkdir -p $T
fails=0 failed=
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); failed="$failed $1"; }
# expect NAME WANT GOT
expect() { if [ "$3" = "$2" ]; then pass "$1"; else fail "$1" "got '$3', want '$2'"; fi; }
oci() { "$O" --root $R --systemd-cgroup --log $T/log.json --log-format json "$@"; }
# reaped SECTION OUT ID...: what oci-reap said (OUT, its script's stderr
# too), checked for "script exit 0"; when the script failed, what each
# container printed and its vmm.log (the library's log of how its VMM
# ended), while the state directory still holds it.
reaped() {
	section=$1 out=$2; shift 2
	echo "$out" | sed 's/^/  /'
	expect $section-script "oci-reap: script exit 0" "$(echo "$out" | grep 'script exit')"
	echo "$out" | grep -q 'script exit 0' && return
	for c in "$@"; do
		for f in $T/$c.out $T/$c.err $R/$c/vmm.log; do
			[ -s $f ] && sed "s|^|  $c: $(basename $f): |" $f
		done
	done
}
# status FILE: the "status" of a state JSON
status() { sed -n 's/.*"status": "\([a-z]*\)".*/\1/p' "$1"; }
# wait_for FILE TEXT: until FILE holds TEXT (the guest booted and ran)
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt $((WAIT * 5)) ] && return 1; sleep 0.2
	done
}

[ -x /usr/lib/qemu/virtiofsd ] || { echo "FAIL setup: no virtiofsd in the lab (--add it)"; exit 1; }
# cgroup v2, as a containerd host has it: the library gives each VMM a
# cgroup of its own, which pause, ps, update and events use.
grep -q " /sys/fs/cgroup cgroup2 " /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup ||
	{ echo "FAIL setup: cannot mount cgroup2"; exit 1; }

# A bundle: a busybox root with the applets the commands use, config.json.
mkdir -p $T/b/rootfs/bin $T/b/rootfs/tmp $T/data
cp /bin/busybox $T/b/rootfs/bin/busybox
for a in sh echo cat sleep pwd true kill grep hostname id tty stty test stat tail; do ln -s busybox $T/b/rootfs/bin/$a; done
echo "from the host" > $T/data/hello
# config ARGS-JSON: config.json running ARGS, with an env, a cwd and a bind mount
config() {
	cat > $T/b/config.json <<EOF
{"ociVersion":"1.0.2",
 "process":{"terminal":false,"user":{"uid":0,"gid":0},"args":$1,
  "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":512}],
  "env":["PATH=/bin","GREETING=hi"],"cwd":"/tmp"},
 "root":{"path":"rootfs","readonly":true},"hostname":"c",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
  {"destination":"/data","type":"bind","source":"$T/data","options":["rbind","ro"]}],
 "linux":{"resources":{"memory":{"limit":134217728},"cpu":{"quota":200000,"period":100000}},
  "namespaces":[{"type":"pid"}]},
 "annotations":{"io.kubernetes.cri.container-type":"container"}}
EOF
}

# 1. The life cycle, as the shim runs it.
config '["sh","-c","read l; echo in $l $(hostname) $(ulimit -n); echo out $GREETING $(pwd) $(cat /data/hello); echo to-stderr >&2; grep -c ^processor /proc/cpuinfo > /tmp/cpus; grep MemTotal /proc/meminfo > /tmp/mem; echo size $(cat /tmp/cpus /tmp/mem); sleep 2; exit 7"]'
echo "stdin-line" > $T/c1.in
t0=$(date +%s)
out=$("$REAP" -p $T/c1.pid '
	"$O" --root $R create --bundle $T/b --pid-file $T/c1.pid c1 < $T/c1.in > $T/c1.out 2> $T/c1.err || exit 11
	"$O" --root $R state c1 > $T/c1.created || exit 12
	"$O" --root $R start c1 || exit 13
	"$O" --root $R state c1 > $T/c1.running || exit 14' 2>&1)
reaped life "$out" c1
expect life-state-created created "$(status $T/c1.created)"
expect life-state-pid "$(cat $T/c1.pid)" "$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' $T/c1.created)"
grep -q '"bundle": "'$T/b'"' $T/c1.created || fail life-state-bundle "$(cat $T/c1.created)"
grep -q '"io.kubernetes.cri.container-type": "container"' $T/c1.created ||
	fail life-state-annotations "$(cat $T/c1.created)"
expect life-state-running running "$(status $T/c1.running)"
expect life-exit-status "oci-reap: $T/c1.pid exit 7" "$(echo "$out" | grep 'c1.pid exit')"
# stdin from create's fd 0; the hostname and RLIMIT_NOFILE of config.json
# (set by the guest helper)
expect life-stdin-hostname-rlimit "in stdin-line c 512" "$(head -n 1 $T/c1.out)"
expect life-stdout "out hi /tmp from the host" "$(sed -n 2p $T/c1.out)"
# 2 vCPUs from the CPU quota, a VM of 128 MiB from the memory limit
set -- $(sed -n 's/^size //p' $T/c1.out)
expect life-vcpus 2 "$1"
[ "${3:-0}" -gt 100000 ] && [ "${3:-0}" -le 131072 ] && pass life-memory ||
	fail life-memory "MemTotal '$3 $4', want 100000-131072 kB"
expect life-stderr "to-stderr" "$(cat $T/c1.err)"
echo "  life cycle: $(($(date +%s) - t0)) s"
oci state c1 > $T/c1.stopped; expect life-state-stopped stopped "$(status $T/c1.stopped)"
oci kill c1 TERM 2> $T/err; st=$?
expect kill-stopped "1 1" "$st $(grep -c 'container not running' $T/err)"
oci delete c1; expect life-delete 0 $?
oci state c1 2> $T/err; st=$?
expect life-gone "1 1" "$st $(grep -c 'container c1 does not exist' $T/err)"

# 2. kill TERM reaches the guest's process, which handles it.
config '["sh","-c","trap \"echo caught TERM; exit 143\" TERM; echo ready; while :; do sleep 1; done"]'
out=$("$REAP" -p $T/c2.pid '
	"$O" --root $R create --bundle $T/b --pid-file $T/c2.pid c2 > $T/c2.out 2>&1 || exit 11
	"$O" --root $R start c2 || exit 13
	i=0; while ! grep -q ready $T/c2.out; do i=$((i + 1)); [ $i -gt '$((WAIT * 5))' ] && exit 15; sleep 0.2; done
	"$O" --root $R start c2 2> $T/c2.start2
	"$O" --root $R delete c2 2> $T/c2.del; echo "delete-running $?" > $T/c2.delst
	"$O" --root $R kill c2 TERM || exit 16' 2>&1)
reaped kill "$out" c2
expect kill-term-status "oci-reap: $T/c2.pid exit 143" "$(echo "$out" | grep 'c2.pid exit')"
# (the shell also reports its sleep, TERMed with it: "Terminated")
expect kill-term-caught "ready 1" "$(head -n 1 $T/c2.out) $(grep -cx 'caught TERM' $T/c2.out)"
expect start-twice-refused "1" "$(grep -c 'cannot start an already running container' $T/c2.start2)"
expect delete-running-refused "delete-running 1 1" \
	"$(cat $T/c2.delst) $(grep -c 'cannot delete container c2 that is not stopped: running' $T/c2.del)"
oci delete c2; expect kill-delete 0 $?

# 3. exec: its own output and status, beside the container's process;
# then a detached one whose pid-file process exits with its status;
# then kill KILL ends the VM (137).
config '["sh","-c","echo ready; exec sleep 1000"]'
printf '{"args":["sh","-c","echo exec-out $X $(pwd) $(id -u):$(id -g) $(id -G); echo exec-err >&2; exit 5"],"env":["PATH=/bin","X=42"],"cwd":"/data","user":{"uid":1000,"gid":100,"additionalGids":[5,6]}}' > $T/p1.json
printf '{"args":["sh","-c","sleep 1; echo detached-out; exit 6"],"env":["PATH=/bin"]}' > $T/p2.json
out=$("$REAP" -p $T/c3.pid -p $T/e2.pid '
	"$O" --root $R create --bundle $T/b --pid-file $T/c3.pid c3 > $T/c3.out 2>&1 || exit 11
	"$O" --root $R start c3 || exit 13
	i=0; while ! grep -q ready $T/c3.out; do i=$((i + 1)); [ $i -gt '$((WAIT * 5))' ] && exit 15; sleep 0.2; done
	"$O" --root $R exec --process $T/p1.json c3 > $T/e1.out 2> $T/e1.err; echo "exec $?" > $T/e1.st
	"$O" --root $R exec --detach --pid-file $T/e2.pid --process $T/p2.json c3 > $T/e2.out || exit 17
	while kill -0 $(cat $T/e2.pid) 2>/dev/null; do sleep 0.2; done
	"$O" --root $R kill c3 KILL || exit 18' 2>&1)
reaped exec "$out" c3 e2
expect exec-status "exec 5" "$(cat $T/e1.st)"
# process.user: the exec runs as 1000:100 with groups 5 and 6
expect exec-stdout-user "exec-out 42 /data 1000:100 100 5 6" "$(cat $T/e1.out)"
expect exec-stderr "exec-err" "$(cat $T/e1.err)"
expect exec-detached-status "oci-reap: $T/e2.pid exit 6" "$(echo "$out" | grep 'e2.pid exit')"
expect exec-detached-stdout "detached-out" "$(cat $T/e2.out)"
expect kill-9-status "oci-reap: $T/c3.pid exit 137" "$(echo "$out" | grep 'c3.pid exit')"
oci delete c3; expect exec-delete 0 $?

# 5. delete of a created container kills its VM (runc does the same);
# delete --force of a running one; a supervisor killed from outside (as
# the shim may): the container is stopped and deletes cleanly.
config '["sh","-c","echo ready; exec sleep 1000"]'
out=$("$REAP" -p $T/c4.pid -p $T/c5.pid '
	"$O" --root $R create --bundle $T/b --pid-file $T/c4.pid c4 || exit 11
	"$O" --root $R delete c4 || exit 12
	"$O" --root $R create --bundle $T/b --pid-file $T/c5.pid c5 > $T/c5.out 2>&1 || exit 13
	"$O" --root $R start c5 || exit 14
	i=0; while ! grep -q ready $T/c5.out; do i=$((i + 1)); [ $i -gt '$((WAIT * 5))' ] && exit 15; sleep 0.2; done
	"$O" --root $R delete --force c5 || exit 16
	"$O" --root $R create --bundle $T/b --pid-file $T/c6.pid c6 > $T/c6.out 2>&1 || exit 17
	"$O" --root $R start c6 || exit 18
	i=0; while ! grep -q ready $T/c6.out; do i=$((i + 1)); [ $i -gt '$((WAIT * 5))' ] && exit 19; sleep 0.2; done
	kill -9 $(cat $T/c6.pid)' 2>&1)
reaped delete "$out" c4 c5 c6
expect delete-created-status "oci-reap: $T/c4.pid exit 137" "$(echo "$out" | grep 'c4.pid exit')"
expect delete-force-status "oci-reap: $T/c5.pid exit 137" "$(echo "$out" | grep 'c5.pid exit')"
expect delete-gone "" "$(ls $R | grep -e c4 -e c5)"
oci state c6 > $T/c6.state; expect supervisor-killed-stopped stopped "$(status $T/c6.state)"
oci delete c6; expect supervisor-killed-delete 0 $?
# what the killed supervisor held ends with it (the VMM sees its control
# socket close; virtiofsd sees the VMM go)
i=0
while [ $i -lt 100 ] && cat /proc/[0-9]*/comm 2>/dev/null | grep -q -e alcatraz-vmm -e virtiofsd; do
	i=$((i + 1)); sleep 0.2
done
expect supervisor-killed-nothing-left 0 "$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c -e alcatraz-vmm -e virtiofsd)"

# 6. Bind mounts of files, as Docker and containerd make /etc/hosts,
# resolv.conf and hostname: copied into the guest at create (a directory
# /etc the image lacks is made), a read-only one cannot be written, a
# writable one can, and neither write reaches the host's file.
printf '127.0.0.1 localhost\n10.0.0.7 c\n' > $T/hosts
printf 'nameserver 10.0.0.53\n' > $T/resolv.conf; chmod 640 $T/resolv.conf
cat > $T/b/config.json <<EOF
{"ociVersion":"1.0.2",
 "process":{"args":["sh","-c","cat /etc/hosts /etc/resolv.conf; stat -c %a /etc/resolv.conf; echo x >> /etc/hosts && echo hosts-written; echo search lab >> /etc/resolv.conf && tail -n 1 /etc/resolv.conf; exit 4"],
  "env":["PATH=/bin"],"cwd":"/"},
 "root":{"path":"rootfs"},
 "mounts":[{"destination":"/etc/hosts","type":"bind","source":"$T/hosts","options":["rbind","ro"]},
  {"destination":"/etc/resolv.conf","type":"bind","source":"$T/resolv.conf","options":["rbind","rw"]},
  {"destination":"/data","type":"bind","source":"$T/data","options":["rbind","ro"]}]}
EOF
out=$("$REAP" -p $T/c7.pid '
	"$O" --root $R create --bundle $T/b --pid-file $T/c7.pid c7 > $T/c7.out 2> $T/c7.err || exit 11
	"$O" --root $R start c7 || exit 13' 2>&1)
reaped files "$out" c7; sed 's/^/  c7: /' $T/c7.err
expect files-status "oci-reap: $T/c7.pid exit 4" "$(echo "$out" | grep 'c7.pid exit')"
expect files-content "127.0.0.1 localhost|10.0.0.7 c|nameserver 10.0.0.53|640|search lab" \
	"$(grep -v hosts-written $T/c7.out | tr '\n' '|' | sed 's/|$//')"
expect files-ro-refused "0 1" "$(grep -c hosts-written $T/c7.out) $(grep -c -i 'read-only' $T/c7.err)"
expect files-host-unchanged "2 1" "$(wc -l < $T/hosts | tr -d ' ') $(wc -l < $T/resolv.conf | tr -d ' ')"
oci delete c7; expect files-delete 0 $?

# 7. process.terminal with --console-socket: oci-console (the shim's end)
# gets a pty master; the guest's process has a terminal of the size of
# process.consoleSize, reads what is typed and exits with its status; an
# exec with a terminal too. Each master is resized as the shim's ResizePty
# does once the process has set its WINCH trap: the guest's process gets
# SIGWINCH and its terminal has the new size (at most 60 s waited for).
cat > $T/b/config.json <<EOF
{"ociVersion":"1.0.2",
 "process":{"terminal":true,"consoleSize":{"height":30,"width":100},
  "args":["sh","-c","tty; test -t 0 && test -t 1 && echo is-a-tty; stty size; read l; echo got \$l; trap 'echo winch \$(stty size)' WINCH; echo trap-set; i=0; while [ \$i -lt 60 ]; do sleep 1; i=\$((i + 1)); done; exec sleep 1000"],
  "env":["PATH=/bin"],"cwd":"/"},
 "root":{"path":"rootfs"}}
EOF
cat > $T/p3.json <<'EOF'
{"terminal":true,"args":["sh","-c","trap 'echo winch $(stty size); exit 9' WINCH; test -t 0 && echo exec-tty; i=0; while [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done; exit 8"],"env":["PATH=/bin"]}
EOF
"$CONSOLE" -r 40:120:trap-set $T/con1.sock $T/con1.out "typed
" 2> $T/con1.err & con1=$!
"$CONSOLE" -r 20:60:exec-tty $T/con2.sock $T/con2.out 2> $T/con2.err & con2=$!
sleep 0.5
out=$("$REAP" -p $T/c8.pid '
	# the output of create read to its end, as go-runc reads it: with a
	# terminal no process of the container may keep that pipe open
	timeout 120 sh -c "\"\$O\" --root $R create --bundle $T/b --console-socket $T/con1.sock --pid-file $T/c8.pid c8 | cat" || exit 11
	"$O" --root $R start c8 || exit 13
	i=0; while ! grep -q "got typed" $T/con1.out; do i=$((i + 1)); [ $i -gt '$((WAIT * 5))' ] && exit 15; sleep 0.2; done
	i=0; while ! grep -q "winch" $T/con1.out; do i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.2; done
	"$O" --root $R exec --console-socket $T/con2.sock --process $T/p3.json c8; echo "exec $?" > $T/e3.st
	"$O" --root $R kill c8 KILL || exit 18' 2>&1)
reaped tty "$out" c8 con1 con2
# The consoles end once their slaves' last holders are gone (or never,
# when nothing was sent: not waited for more than 10 s).
for c in $con1 $con2; do
	i=0; while kill -0 $c 2>/dev/null && [ $i -lt 50 ]; do i=$((i + 1)); sleep 0.2; done
	kill $c 2>/dev/null
done
wait $con1; c1st=$?; wait $con2; c2st=$?
sed 's/^/  console: /' $T/con1.err $T/con2.err
tr -d '\r' < $T/con1.out > $T/con1.txt; tr -d '\r' < $T/con2.out > $T/con2.txt
sed 's/^/  tty: /' $T/con1.txt $T/con2.txt
expect tty-console-master "0 0" "$c1st $c2st"
expect tty-is-a-tty "/dev/pts/0 is-a-tty" "$(grep -x '/dev/pts/[0-9]*' $T/con1.txt) $(grep -x is-a-tty $T/con1.txt)"
expect tty-size "30 100" "$(grep -x '[0-9]* [0-9]*' $T/con1.txt)"
# typed, echoed by the guest's terminal, read by the process
expect tty-input "typed got typed" "$(grep -x -e typed -e 'got typed' $T/con1.txt | tr '\n' ' ' | sed 's/ $//')"
expect tty-exec "exec 9 exec-tty" "$(cat $T/e3.st) $(grep -x exec-tty $T/con2.txt)"
# the shim's resizes, seen by the guest's processes (SIGWINCH, stty size)
expect tty-resize "winch 40 120" "$(grep -x 'winch.*' $T/con1.txt)"
expect tty-exec-resize "winch 20 60" "$(grep -x 'winch.*' $T/con2.txt)"
expect tty-kill-9-status "oci-reap: $T/c8.pid exit 137" "$(echo "$out" | grep 'c8.pid exit')"
oci delete c8; expect tty-delete 0 $?

# 8. pause freezes the VM (no tick while paused, state "paused", exec and
# delete refused as runc refuses them), resume lets it go on; ps lists the
# VMM; update writes the VMM cgroup's memory.max and cpu.max; events
# --stats reports its usage; KILL ends a paused container (137).
config '["sh","-c","while :; do echo tick; sleep 0.2; done"]'
printf '{"args":["true"],"env":["PATH=/bin"]}' > $T/p4.json
out=$("$REAP" -p $T/c9.pid '
	"$O" --root $R create --bundle $T/b --pid-file $T/c9.pid c9 > $T/c9.out 2>&1 || exit 11
	"$O" --root $R start c9 || { "$O" --root $R kill c9 KILL; exit 13; }
	i=0; while [ $(grep -c tick $T/c9.out) -lt 3 ]; do i=$((i + 1)); [ $i -gt '$((WAIT * 5))' ] && { "$O" --root $R kill c9 KILL; exit 15; }; sleep 0.2; done
	"$O" --root $R pause c9 || { "$O" --root $R kill c9 KILL; exit 16; }
	"$O" --root $R state c9 > $T/c9.paused
	grep -c tick $T/c9.out > $T/c9.n1; sleep 3; grep -c tick $T/c9.out > $T/c9.n2
	"$O" --root $R pause c9 2> $T/c9.pause2
	"$O" --root $R exec --process $T/p4.json c9 2> $T/c9.exec; echo "exec $?" > $T/c9.execst
	"$O" --root $R delete c9 2> $T/c9.del; echo "delete $?" > $T/c9.delst
	"$O" --root $R resume c9 || { "$O" --root $R kill c9 KILL; exit 17; }
	"$O" --root $R state c9 > $T/c9.resumed
	"$O" --root $R resume c9 2> $T/c9.resume2
	n=$(cat $T/c9.n2); i=0; while [ $(grep -c tick $T/c9.out) -lt $((n + 3)) ]; do i=$((i + 1)); [ $i -gt '$((WAIT * 5))' ] && { "$O" --root $R kill c9 KILL; exit 18; }; sleep 0.2; done
	"$O" --root $R ps --format json c9 > $T/c9.psjson || { "$O" --root $R kill c9 KILL; exit 19; }
	"$O" --root $R ps c9 -o pid,comm > $T/c9.pstable || { "$O" --root $R kill c9 KILL; exit 20; }
	echo "{\"memory\":{\"limit\":268435456},\"cpu\":{\"quota\":50000,\"period\":100000}}" |
		"$O" --root $R update --resources - c9 || { "$O" --root $R kill c9 KILL; exit 21; }
	"$O" --root $R events --stats c9 > $T/c9.events || { "$O" --root $R kill c9 KILL; exit 22; }
	"$O" --root $R pause c9 || { "$O" --root $R kill c9 KILL; exit 23; }
	"$O" --root $R kill c9 KILL || { "$O" --root $R kill c9 KILL; exit 24; }' 2>&1)
reaped pause "$out" c9
expect pause-state paused "$(status $T/c9.paused)"
n1=$(cat $T/c9.n1) n2=$(cat $T/c9.n2)
[ -n "$n1" ] && [ "$n1" -ge 3 ] && [ "$n2" -le $((n1 + 1)) ] && pass pause-frozen ||
	fail pause-frozen "ticks $n1 then $n2 three seconds later"
expect pause-twice-refused 1 "$(grep -c 'container not running' $T/c9.pause2)"
expect pause-exec-refused "exec 1 1" "$(cat $T/c9.execst) $(grep -c 'cannot exec in a paused state' $T/c9.exec)"
expect pause-delete-refused "delete 1 1" \
	"$(cat $T/c9.delst) $(grep -c 'cannot delete container c9 that is not stopped: paused' $T/c9.del)"
expect resume-state running "$(status $T/c9.resumed)"
expect resume-twice-refused 1 "$(grep -c 'container not paused' $T/c9.resume2)"
expect pause-kill-9-status "oci-reap: $T/c9.pid exit 137" "$(echo "$out" | grep 'c9.pid exit')"
# ps: the VMM's pids, as JSON and in ps's own table (ps options after the
# id, as runc takes them: the lab's busybox ps knows no -ef)
echo "  ps: $(cat $T/c9.psjson)"; sed 's/^/  ps: /' $T/c9.pstable
vmm=$(awk '/alcatraz-vmm/ { print $1 }' $T/c9.pstable)
grep -q '^\[[0-9][0-9,]*\]$' $T/c9.psjson && [ -n "$vmm" ] &&
	tr -d '[]' < $T/c9.psjson | tr ',' '\n' | grep -qx "$vmm" && pass ps-json ||
	fail ps-json "$(cat $T/c9.psjson), not the VMM's pid '$vmm'"
expect ps-table "1 1" "$(head -n 1 $T/c9.pstable | grep -c PID) $(grep -c alcatraz-vmm $T/c9.pstable)"
# update: what the VMM's cgroup says (read before KILL removed it: the
# events line was printed after update)
grep -q '"type":"stats","id":"c9"' $T/c9.events && grep -q '"usage":[1-9]' $T/c9.events &&
	pass events-stats || fail events-stats "$(cat $T/c9.events)"
echo "  events: $(cat $T/c9.events)"

# update needs a living VMM to look at: a container of its own.
config '["sh","-c","echo ready; exec sleep 1000"]'
out=$("$REAP" -p $T/c10.pid '
	"$O" --root $R create --bundle $T/b --pid-file $T/c10.pid c10 > $T/c10.out 2>&1 || exit 11
	"$O" --root $R start c10 || { "$O" --root $R kill c10 KILL; exit 13; }
	"$O" --root $R ps --format json c10 > $T/c10.ps || { "$O" --root $R kill c10 KILL; exit 14; }
	echo "{\"memory\":{\"limit\":268435456},\"cpu\":{\"quota\":50000,\"period\":100000}}" |
		"$O" --root $R update --resources - c10 || { "$O" --root $R kill c10 KILL; exit 15; }
	for p in $(tr -d "[]" < $T/c10.ps | tr "," " "); do
		[ "$(cat /proc/$p/comm)" = alcatraz-vmm ] || continue
		cg=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/$p/cgroup)
		echo "$(cat $cg/memory.max) $(cat $cg/cpu.max)" > $T/c10.cg
	done
	echo "{\"memory\":{\"limit\":\"lots\"}}" | "$O" --root $R update --resources - c10 2> $T/c10.bad1; echo "$?" >> $T/c10.bad
	echo "{\"cpu\":{\"quota\":5}}" | "$O" --root $R update --resources - c10 2> $T/c10.bad2; echo "$?" >> $T/c10.bad
	echo "not json" | "$O" --root $R update --resources - c10 2> $T/c10.bad3; echo "$?" >> $T/c10.bad
	"$O" --root $R ps --format xml c10 2> $T/c10.bad4; echo "$?" >> $T/c10.bad
	"$O" --root $R kill c10 KILL || { "$O" --root $R kill c10 KILL; exit 16; }' 2>&1)
reaped update "$out" c10; cat $T/c10.bad1 $T/c10.bad2 $T/c10.bad3 $T/c10.bad4 | sed 's/^/  said: /'
expect update-cgroup "268435456 50000 100000" "$(cat $T/c10.cg)"
expect update-bad-refused "1 1 1 1 4" "$(tr '\n' ' ' < $T/c10.bad)$(cat $T/c10.bad1 $T/c10.bad2 $T/c10.bad3 $T/c10.bad4 | wc -l | tr -d ' ')"
oci delete c9 && oci delete c10; expect pause-delete 0 $?

# 4. Bad input: status 1, one line on stderr, an error line in the log.
# bad NAME ARGS...: runs oci ARGS, expects 1, one line, and that line in the log
bad() {
	name=$1; shift
	: > $T/log.json
	oci "$@" > /dev/null 2> $T/err; st=$?
	lines=$(wc -l < $T/err | tr -d ' ')
	logged=$(grep -c '^{"level":"error","msg":".*","time":"' $T/log.json)
	expect bad-$name "1 1 1" "$st $lines $logged"
	sed 's/^/  said: /' $T/err
}
bad id create --bundle $T/b ../x
bad id-slash state a/b
bad missing-bundle create --bundle /no/such/bundle c4
mkdir -p $T/bad/rootfs; printf '{"ociVersion":"1.0.2","process":{"args":["sh"]},' > $T/bad/config.json
bad malformed-config create --bundle $T/bad c4
printf '{"ociVersion":"1.0.2","process":{"args":["sh"]},"root":{"path":"/no/root"}}' > $T/bad/config.json
bad missing-root create --bundle $T/bad c4
printf '{"ociVersion":"1.0.2","process":{"args":"sh"},"root":{"path":"rootfs"}}' > $T/bad/config.json
bad mistyped-args create --bundle $T/bad c4
config '["true"]'
bad console-socket-no-terminal create --bundle $T/b --console-socket /tmp/x c4
cp -r $T/b/rootfs $T/bad/
sed 's/"terminal":false/"terminal":true/' $T/b/config.json > $T/bad/config.json
bad terminal-no-console-socket create --bundle $T/bad c4
bad console-socket-absent create --bundle $T/bad --console-socket $T/no.sock c4
mkdir -p $T/d1 $T/d2 $T/d3
sed 's#"mounts":\[#&{"destination":"/d1","type":"bind","source":"'$T'/d1"},{"destination":"/d2","type":"bind","source":"'$T'/d2"},{"destination":"/d3","type":"bind","source":"'$T'/d3"},#' \
	$T/b/config.json > $T/bad/config.json
bad three-directories create --bundle $T/bad c4
sed 's#"mounts":\[#&{"destination":"/etc/x","type":"bind","source":"/dev/null"},#' \
	$T/b/config.json > $T/bad/config.json
bad bind-device create --bundle $T/bad c4
head -c 1100000 /dev/zero > $T/big
sed 's#"mounts":\[#&{"destination":"/etc/x","type":"bind","source":"'$T'/big"},#' \
	$T/b/config.json > $T/bad/config.json
bad bind-file-too-large create --bundle $T/bad c4
# linux.namespaces' network path must be a network namespace (the VM's
# passt would start in it): a regular file and another type are refused.
sed 's#"namespaces":\[#&{"type":"network","path":"'$T'/big"},#' $T/b/config.json > $T/bad/config.json
bad netns-regular-file create --bundle $T/bad c4
grep -q "network path $T/big: not a network namespace" $T/err || fail netns-regular-file-said "$(cat $T/err)"
sed 's#"namespaces":\[#&{"type":"network","path":"/proc/self/ns/uts"},#' $T/b/config.json > $T/bad/config.json
bad netns-uts create --bundle $T/bad c4
grep -q "not a network namespace" $T/err || fail netns-uts-said "$(cat $T/err)"
bad unknown-container start nope
bad unknown-signal kill c4 SIGNOPE
[ -e $R/c4 ] && fail bad-no-state-left "$R/c4 exists"

# Nothing left behind: every VMM and virtiofsd ended with its container.
left=$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c -e alcatraz-vmm -e virtiofsd)
expect nothing-left 0 "$left"
expect state-dir-empty "" "$(ls $R)"

echo "lab-oci: $fails failed${failed:+:$failed}"
[ $fails = 0 ]
