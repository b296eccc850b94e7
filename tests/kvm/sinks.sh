#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: guest output never holds the VM or kills the caller. With
# stdout a full pipe nobody reads, a guest that prints for ever ends at its
# timeout like one writing to /dev/null (at most LIMIT_MS later);
# behind `| head -c 100` the guest's first 100 bytes arrive and alcatraz-run
# exits with the guest's status, not 141 (SIGPIPE). With and without the
# sandbox. POSIX sh: it also runs in the lab (busybox).
# Usage: sinks.sh ALCATRAZ_RUN GUEST_DIR
set -u
run=$1 guests=$2
pass=0 fail=0
TIMEOUT=3        # the VM's --timeout, seconds
LIMIT_MS=1500    # how much longer than the /dev/null run a stalled run may take (lab noise: up to +660 ms seen)
HOLD=40          # seconds the reader that never reads keeps the pipe open

if [ ! -w /dev/kvm ]; then echo "SKIP: /dev/kvm is not usable here"; exit 77; fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

result() { # name ok-condition-status message
	if [ "$2" = 0 ]; then
		pass=$((pass + 1)); echo "ok   $1: $3"
	else
		fail=$((fail + 1)); echo "FAIL $1: $3"
		sed 's/^/    stderr: /' "$tmp/err" 2>/dev/null | head -n 5
	fi
}

now_ms() { # from /proc/uptime (centiseconds), in busybox too
	read -r up _ < /proc/uptime
	echo $(( ${up%.*} * 1000 + 10 * $(echo "${up#*.}" | sed 's/^0//') ))
}

# timed_run SINK OPTIONS...: runs spew.img for TIMEOUT s with stdout to SINK
# ("null" or "stalled"); sets rc and ms. (alcatraz-run's own stderr stays a
# file: a program's own writes to a stalled stderr wait, as any program's.
# The library's log behind a stalled pipe is test_sinks.c's.)
timed_run() {
	sink=$1; shift
	rm -f "$tmp/fifo" "$tmp/err"
	: > "$tmp/err"
	if [ "$sink" = null ]; then
		t0=$(now_ms)
		"$run" --timeout "$TIMEOUT" "$@" --guest "$guests/spew.img" > /dev/null 2> "$tmp/err"
		rc=$?
	else
		mkfifo "$tmp/fifo"
		sleep "$HOLD" < "$tmp/fifo" &   # opens the pipe, never reads
		holder=$!
		# Full before the guest's first line (a pipe holds 64 KiB): the
		# filler blocks, and so would any writer that waits for room.
		head -c 100000 /dev/zero > "$tmp/fifo" &
		filler=$!
		sleep 1
		t0=$(now_ms)
		"$run" --timeout "$TIMEOUT" "$@" --guest "$guests/spew.img" > "$tmp/fifo" 2> "$tmp/err"
		rc=$?
	fi
	ms=$(( $(now_ms) - t0 ))
	[ "$sink" = null ] || { kill "$holder" "$filler" 2>/dev/null; wait "$holder" "$filler" 2>/dev/null; }
}

stalled_reader() { # label OPTIONS...
	label=$1; shift
	timed_run null "$@"
	base=$ms base_rc=$rc
	timed_run stalled "$@"
	extra=$((ms - base))
	[ "$rc" = 124 ] && [ "$base_rc" = 124 ] && [ "$extra" -le "$LIMIT_MS" ]
	result "stalled-reader$label" $? \
	  "status $rc after $ms ms; to /dev/null: status $base_rc after $base ms (+$extra ms, limit $LIMIT_MS)"
}

# The guest's first 100 bytes: 7 lines of 14 bytes, then "sp".
i=0
while [ $i -lt 7 ]; do printf 'spew %08d\n' $i; i=$((i + 1)); done > "$tmp/want"
printf 'sp' >> "$tmp/want"

head_pipe() { # label OPTIONS...
	label=$1; shift
	: > "$tmp/err"
	{ "$run" "$@" --guest "$guests/spew_exit.img" 2> "$tmp/err"; echo $? > "$tmp/rc"; } |
		head -c 100 > "$tmp/out"
	rc=$(cat "$tmp/rc")
	[ "$rc" = 0 ] && cmp -s "$tmp/out" "$tmp/want"
	result "head-c-100$label" $? "status $rc (want 0, not 141), $(wc -c < "$tmp/out") bytes$(cmp -s "$tmp/out" "$tmp/want" || echo ', NOT the first 100 bytes')"
}

head_pipe ""
head_pipe "-no-sandbox" --insecure-no-sandbox
stalled_reader ""
stalled_reader "-no-sandbox" --insecure-no-sandbox

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
