#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: restore from a snapshot vs a cold boot (not a test), in the
# lab, same guest and host: the default Linux guest (1 vCPU, 128 MiB) runs
# `echo ready`, cold (alcatraz-run) and restored (alcatraz-run --restore
# from a snapshot alcatraz-snapshot saved after `true`). Measured from
# launching alcatraz-run to the line "ready" coming out of it (a pipe read
# by the shell as it arrives), RUNS times each (argument 1, default 5),
# alternating, each run's ratio, medians and their ratio. Then the memory each clone adds: CLONES (argument 2, default 3)
# clones restored at once, each running `sleep`, and in each VMM the guest
# RAM mapping's Rss, Pss and Private_Dirty (/proc/PID/smaps: the memory
# file mapped copy-on-write), against a cold VM's RAM (a memfd).
B=${ALCATRAZ_BUILD:-/alcatraz/build}
export ALCATRAZ_KERNEL=${ALCATRAZ_KERNEL:-$B/kernel/vmlinux}
export ALCATRAZ_INIT=${ALCATRAZ_INIT:-$B/src/guest/alcatraz-init}
export ALCATRAZ_VMM=${ALCATRAZ_VMM:-$B/src/vmm/alcatraz-vmm}
RUN="$B/examples/alcatraz-run"
SNAP="$B/examples/alcatraz-snapshot"
RUNS=${1:-5}
CLONES=${2:-3}
TMO=${BENCH_RUN_TIMEOUT:-120}
T=/tmp/snap-bench; rm -rf $T; mkdir -p $T/snap

median() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : -1 }'; }
# _ms = the uptime in ms (10 ms steps), with the shell's own read: no
# process started.
up_ms() { read -r _u _ < /proc/uptime; _ms=$(( ${_u%.*} * 1000 + 1${_u#*.} * 10 - 1000 )); }

# first_output OUT -- CMD...: ms from launch until a line "ready" comes out
# of CMD, read by this shell as it arrives (no poll interval, no process
# per look); the whole output is kept in OUT.
first_output() {
	out=$1; shift 2
	: > "$out"
	up_ms; t0=$_ms
	"$@" 2>&1 | {
		t=-1
		while IFS= read -r l; do
			case $l in ready*) up_ms; t=$((_ms - t0)); echo "$l" >> "$out"; break ;; esac
			echo "$l" >> "$out"
		done
		cat >> "$out"
		echo $t
	}
}

"$SNAP" create $T/snap --cmdline nopv -- true || { echo "snapshot-bench: create failed"; exit 1; }
echo "snapshot-bench: snapshot: state $(stat -c %s $T/snap/state) bytes, memory $(du -k $T/snap/memory | cut -f1) KiB on disk"
: > $T/cold.ms; : > $T/restore.ms
for i in $(seq "$RUNS"); do
	c=$(first_output $T/cold.out -- "$RUN" --timeout "$TMO" --cmdline nopv -- echo ready)
	r=$(first_output $T/restore.out -- "$RUN" --timeout "$TMO" --restore $T/snap -- echo ready)
	echo "$c" >> $T/cold.ms; echo "$r" >> $T/restore.ms
	echo "snapshot-bench: run $i: cold $c ms, restore $r ms, ratio $(awk "BEGIN { printf \"%.3f\", $r / $c }")x"
done
cold=$(median < $T/cold.ms); restore=$(median < $T/restore.ms)
echo "snapshot-bench: to first output, ms: cold $(tr '\n' ' ' < $T/cold.ms)| restore $(tr '\n' ' ' < $T/restore.ms)"
echo "snapshot-bench: median cold $cold ms, restore $restore ms, ratio $(awk "BEGIN { printf \"%.3f\", $restore / $cold }")x"

# smaps of VMM pid $1: of the mappings whose line matches $2, the largest
# (guest RAM): "rss pss private_dirty" in KiB.
ram_kib() {
	awk -v pat="$2" '
		function done() { if (in_m && size > best) { best = size; out = r " " p " " d } }
		/^[0-9a-f]+-[0-9a-f]+ / { done(); in_m = ($0 ~ pat); size = r = p = d = 0; next }
		in_m && /^Size:/ { size = $2 } in_m && /^Rss:/ { r = $2 } in_m && /^Pss:/ { p = $2 }
		in_m && /^Private_Dirty:/ { d = $2 }
		END { done(); print out }' /proc/$1/smaps
}
vmm_pids() { for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = alcatraz-vmm ] && echo ${p#/proc/}; done; }

for i in $(seq "$CLONES"); do
	"$RUN" --restore $T/snap -- sh -c 'echo up; sleep 8' > $T/clone$i.out 2>&1 &
done
n=0
while [ $n -lt 600 ] && [ "$(cat $T/clone*.out 2>/dev/null | grep -c '^up')" -lt "$CLONES" ]; do
	usleep 100000; n=$((n + 1))
done
for p in $(vmm_pids); do
	echo "snapshot-bench: clone VMM $p guest RAM (Rss Pss Private_Dirty KiB): $(ram_kib $p "$T/snap/memory")"
done
wait
"$RUN" --cmdline nopv -- sh -c 'echo up; sleep 8' > $T/coldmem.out 2>&1 &
n=0
while [ $n -lt 600 ] && ! grep -q '^up' $T/coldmem.out 2>/dev/null; do usleep 100000; n=$((n + 1)); done
for p in $(vmm_pids); do
	# The cold VM's RAM: a memfd mapped shared (its pages count in Rss and
	# Pss, as Shared_Dirty, not Private_Dirty).
	echo "snapshot-bench: cold VMM $p guest RAM (Rss Pss Private_Dirty KiB): $(ram_kib $p 'memfd:alcatraz-guest-ram')"
done
wait
