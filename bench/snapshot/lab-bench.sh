#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: restore from a snapshot vs a cold boot (not a test), in the
# lab, same guest and host: the default Linux guest (1 vCPU, 128 MiB) runs
# `sh -c 'echo ready; sleep 1'`, cold (alcatraz-run) and restored
# (alcatraz-run --restore from a snapshot alcatraz-snapshot saved after
# `true`). Measured from launching alcatraz-run to the line "ready" coming
# out of it (a pipe read by the shell as it arrives), RUNS times each
# (argument 1, default 5), alternating; at "ready" the same shell reads the
# VM's KVM counters (debugfs, kvm/PID-FD/: exits, and pf_taken, the nested
# page faults KVM handled; the sleep keeps the VM there to be read). The
# lab's time is emulated (every VMEXIT and VMRUN is TCG's work); the counts
# are what hardware would pay for. Then one more run of each, `echo ready`
# launch to exit, under strace -f (alcatraz-run, the VMM and its threads):
# system calls, and the bytes read(2)/pread(2) return from fds that name a
# path (files, /proc, memfds; not pipes, sockets, eventfds). Medians and
# the ratio restore/cold for each figure.
# Then the memory each clone adds: CLONES (argument 2, default 3)
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
STRACE=${STRACE:-$(command -v strace || echo /alcatraz/add/strace)}
KVMDBG=/sys/kernel/debug/kvm
CMD="echo ready; sleep 1"
T=/tmp/snap-bench; rm -rf $T; mkdir -p $T/snap
[ -d $KVMDBG ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null ||
	echo "snapshot-bench: no debugfs: KVM counters not read"

# median of the values read (a -1, a figure not read, left out; -1 if none)
median() { awk '$1 >= 0' | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : -1 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a < 0 || b <= 0) print "-"; else printf "%.3gx\n", a / b }'; }
# _ms = the uptime in ms (10 ms steps), with the shell's own read: no
# process started.
up_ms() { read -r _u _ < /proc/uptime; _ms=$(( ${_u%.*} * 1000 + 1${_u#*.} * 10 - 1000 )); }
# _kvm = "EXITS NPF" of the one VM in KVM's debugfs, -1 each if there is
# not exactly one; read with the shell's own read (no process started).
kvm_counts() {
	_kvm="-1 -1"; _d=
	for d in $KVMDBG/*-*; do
		[ -f "$d/exits" ] || continue
		[ -z "$_d" ] || return
		_d=$d
	done
	[ -n "$_d" ] || return
	read -r _e < "$_d/exits" && read -r _f < "$_d/pf_taken" && _kvm="$_e $_f"
}

# first_output OUT -- CMD...: "MS EXITS NPF": ms from launch until a line
# "ready" comes out of CMD, read by this shell as it arrives (no poll
# interval, no process per look), and the VM's KVM counters read just
# after; the whole output is kept in OUT.
first_output() {
	out=$1; shift 2
	: > "$out"
	up_ms; t0=$_ms
	"$@" 2>&1 | {
		t=-1; _kvm="-1 -1"
		while IFS= read -r l; do
			case $l in ready*) up_ms; t=$((_ms - t0)); kvm_counts; echo "$l" >> "$out"; break ;; esac
			echo "$l" >> "$out"
		done
		cat >> "$out"
		echo $t $_kvm
	}
}

# syscalls MODE -- CMD...: CMD under strace -f; "CALLS BYTES": every
# process's and thread's system calls (strace's summary) and the bytes
# that reads from fds naming a path returned (an unfinished call's result
# is on its "resumed" line).
syscalls() {
	log=$T/strace.$1; shift 2
	if [ ! -x "$STRACE" ]; then echo "-1 -1"; return; fi
	"$STRACE" -f -C -S calls -y -o "$log" "$@" > $T/strace.out 2>&1
	awk '
		/^[0-9]+ +(read|pread64|readv|preadv|preadv2)\(/ {
			p = $1; f = ($2 ~ /^[a-z0-9]+\([0-9]+<\//)
			if ($0 ~ /<unfinished \.\.\.>$/) { pend[p] = f; next }
			if (f && $NF ~ /^[0-9]+$/) bytes += $NF
			next
		}
		/^[0-9]+ +<\.\.\. (read|pread64|readv|preadv|preadv2) resumed>/ {
			if (pend[$1] && $NF ~ /^[0-9]+$/) bytes += $NF
			delete pend[$1]; next
		}
		$NF == "total" { calls = $4 }
		END { print (calls ? calls : -1), bytes + 0 }' "$log"
}

"$SNAP" create $T/snap --cmdline nopv -- true || { echo "snapshot-bench: create failed"; exit 1; }
echo "snapshot-bench: snapshot: state $(stat -c %s $T/snap/state) bytes, memory $(du -k $T/snap/memory | cut -f1) KiB on disk"
for f in ms exits npf; do : > $T/cold.$f; : > $T/restore.$f; done
for i in $(seq "$RUNS"); do
	set -- $(first_output $T/cold.out -- "$RUN" --timeout "$TMO" --cmdline nopv -- sh -c "$CMD")
	c=$1; echo $1 >> $T/cold.ms; echo $2 >> $T/cold.exits; echo $3 >> $T/cold.npf; ce=$2 cf=$3
	set -- $(first_output $T/restore.out -- "$RUN" --timeout "$TMO" --restore $T/snap -- sh -c "$CMD")
	r=$1; echo $1 >> $T/restore.ms; echo $2 >> $T/restore.exits; echo $3 >> $T/restore.npf
	echo "snapshot-bench: run $i: cold $c ms, $ce exits, $cf NPF; restore $r ms, $2 exits, $3 NPF; ratio $(ratio $r $c)"
done
set -- $(syscalls cold -- "$RUN" --timeout "$TMO" --cmdline nopv -- echo ready); sc=$1 bc=$2
set -- $(syscalls restore -- "$RUN" --timeout "$TMO" --restore $T/snap -- echo ready); sr=$1 br=$2

# top MODE: strace's 4 most frequent system calls (its summary, by calls).
top() {
	[ -f $T/strace.$1 ] || return
	awk '/^------/ { n++; next } n == 1 && k < 4 { printf "%s%s %s", k++ ? ", " : "", $NF, $4 }
		END { print "" }' $T/strace.$1
}
echo "snapshot-bench: most frequent system calls: cold $(top cold); restore $(top restore)"

# row NAME COLD RESTORE NOTE
row() { printf 'snapshot-bench: | %-22s | %8s | %8s | %9s | %s |\n' "$1" "$2" "$3" "$(ratio "$3" "$2")" "$4"; }
printf 'snapshot-bench: | %-22s | %8s | %8s | %9s | %s |\n' figure cold restore ratio "how"
row "to first output, ms" $(median < $T/cold.ms) $(median < $T/restore.ms) "median of $RUNS, emulated time"
row "KVM exits" $(median < $T/cold.exits) $(median < $T/restore.exits) "median of $RUNS, debugfs exits"
row "nested page faults" $(median < $T/cold.npf) $(median < $T/restore.npf) "median of $RUNS, debugfs pf_taken"
row "system calls" $sc $sr "1 run, strace -f, to exit"
row "bytes read from files" $bc $br "1 run, strace -f, to exit"

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
