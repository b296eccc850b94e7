#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: snapshots from the command line (issue 18): alcatraz-snapshot
# create saves the counter guest once it printed "tick 5", two
# alcatraz-run --restore started at the same time each go on from after
# tick 5 to the end (exit 7); bad snapshots give one line and 125.
# Usage: snapshot-cli.sh ALCATRAZ_RUN ALCATRAZ_SNAPSHOT GUEST_DIR
set -u
run=$1 snap=$2 guests=$3
pass=0 fail=0
img=$guests/counter.img
size=(--cpus 2 --memory 16 --irqchip on)
tmp=$(mktemp -d /tmp/alcatraz-snapshot-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
now_us() { echo "${EPOCHREALTIME/./}"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

one_line() { # name pattern -- command...: status 125, one line matching pattern
	local name=$1 pattern=$2; shift 3
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" = 125 ] && [[ "$out" =~ $pattern ]] && [ "$(wc -l <<<"$out")" = 1 ]; then
		ok
	else
		bad "$name: status $rc (want 125, one line), output: $out"
	fi
}

# The ticks of a restored run go on from after 5 to 60, then "done".
check_clone() { # name output-file status
	local name=$1 file=$2 rc=$3 first want n line
	first=$(head -n 1 "$file" | sed -n 's/^tick \([0-9]*\)$/\1/p')
	if [ "$rc" != 7 ] || [ -z "$first" ] || [ "$first" -le 5 ]; then
		bad "$name: status $rc (want 7), first line '$(head -n 1 "$file")'"
		return
	fi
	want=$first
	while read -r line; do
		n=${line#tick }
		[ "$line" = done ] && break
		if [ "$n" != "$want" ]; then
			bad "$name: '$line' where tick $want was due"
			return
		fi
		want=$((want + 1))
	done <"$file"
	if [ "$want" = 61 ] && [ "$(tail -n 1 "$file")" = done ]; then
		ok
		echo "$name: went on from tick $first"
	else
		bad "$name: ticks ended at $((want - 1)), last line '$(tail -n 1 "$file")'"
	fi
}

mkdir "$tmp/snap"
t0=$(now_us)
if "$snap" create "$tmp/snap" --guest "$img" "${size[@]}" --after-output "tick 5"; then
	ok
	echo "alcatraz-snapshot create: $((($(now_us) - t0) / 1000)) ms"
else
	bad "alcatraz-snapshot create: status $?"
fi
[ -s "$tmp/snap/state" ] && [ -s "$tmp/snap/memory" ] && ok || bad "no state or memory file"

# Two restores at the same time.
t0=$(now_us)
"$run" --restore "$tmp/snap" --guest "$img" "${size[@]}" >"$tmp/out0" 2>&1 & p0=$!
"$run" --restore "$tmp/snap" --guest "$img" "${size[@]}" >"$tmp/out1" 2>&1 & p1=$!
wait $p0; rc0=$?
wait $p1; rc1=$?
echo "two alcatraz-run --restore to their end: $((($(now_us) - t0) / 1000)) ms"
check_clone clone0 "$tmp/out0" $rc0
check_clone clone1 "$tmp/out1" $rc1

# A copy of the snapshot with its state file changed by a command.
variant() { # name command...
	local d=$tmp/$1; shift
	mkdir "$d" && cp "$tmp/snap/state" "$d/state" && ln "$tmp/snap/memory" "$d/memory"
	"$@" "$d/state"
}
flip() { # offset file: one byte changed in place
	local b
	b=$(dd if="$2" bs=1 skip="$1" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "\\$(printf '%03o' $(((b ^ 64) & 255)))" |
		dd of="$2" bs=1 seek="$1" conv=notrunc 2>/dev/null
}
variant truncated truncate -s 2000
variant flipped flip 900
variant version flip 8
variant oversized truncate -s 17M
restore_refused() { # name pattern [image]
	one_line "restore-$1" "$2" -- "$run" --restore "$tmp/$1" --guest "${3:-$img}" "${size[@]}"
}
restore_refused truncated "^alcatraz-run: cannot restore from '.*/truncated': "
restore_refused flipped "^alcatraz-run: cannot restore from '.*/flipped': "
restore_refused version "^alcatraz-run: cannot restore from '.*/version': "
restore_refused oversized "^alcatraz-run: cannot restore from '.*/oversized': "
# Another guest, vCPU count, a directory that is no snapshot, a short memory file.
one_line restore-other-guest "^alcatraz-run: cannot restore from '.*/snap': " \
	-- "$run" --restore "$tmp/snap" --guest "$guests/hello.img" "${size[@]}"
one_line restore-other-cpus "^alcatraz-run: cannot restore from '.*/snap': " \
	-- "$run" --restore "$tmp/snap" --guest "$img" --cpus 1 --memory 16 --irqchip on
mkdir "$tmp/empty"
one_line restore-not-a-snapshot "^alcatraz-run: cannot restore from '.*/empty': " \
	-- "$run" --restore "$tmp/empty" --guest "$img" "${size[@]}"
mkdir "$tmp/shortmem" && cp "$tmp/snap/state" "$tmp/shortmem/state" &&
	truncate -s 8M "$tmp/shortmem/memory"
one_line restore-short-memory "^alcatraz-run: cannot restore from '.*/shortmem': " \
	-- "$run" --restore "$tmp/shortmem" --guest "$img" "${size[@]}"
# alcatraz-snapshot's own refusals.
one_line snapshot-raw-warmup "^alcatraz-snapshot: a raw guest \\(--guest IMAGE\\) takes no warm-up command\$" \
	-- "$snap" create "$tmp/snap" --guest "$img" --after-output x -- true
one_line snapshot-no-dir "^alcatraz-snapshot: '$tmp/nodir' is not a directory\$" \
	-- "$snap" create "$tmp/nodir" --guest "$img" --after-output x
one_line snapshot-ended "^alcatraz-snapshot: the guest ended before it printed 'never'" \
	-- "$snap" create "$tmp/snap" --guest "$guests/hello.img" --after-output never

echo "snapshot-cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
