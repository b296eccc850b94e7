# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tests/hyperbox/kvm.sh (AMD-V) and tests/lab/intel/hyperbox.sh
# (VT-x): compare_runs WITHOUT WITH compares each run of KVM's guests made
# without Hyper-box (WITHOUT/NAME.status, .out, .err) with the same run on
# Hyper-box (WITH/...): status, stdout and stderr must be the same.  A guest
# stopped by its timeout (status 124) has printed as far as it got in that
# time, which depends on the machine's load: status and stderr only.
# Adds the failures to the caller's $fail.
compare_runs() {
	for f in "$1"/*.status; do
		n=$(basename "$f" .status)
		same=yes
		cmp -s "$f" "$2/$n.status" || same=no
		for x in out err; do
			[ "$x" = out ] && [ "$(cat "$f")" = 124 ] && continue
			[ -f "$1/$n.$x" ] && { cmp -s "$1/$n.$x" "$2/$n.$x" || same=no; }
		done
		if [ $same = yes ]; then
			echo "ok: $n: same as without Hyper-box (status $(cat "$f"))"
		else
			echo "FAIL: $n: differs from the run without Hyper-box"
			fail=$((fail + 1))
			for x in status out err; do
				echo "--- without, $x:"; cat "$1/$n.$x" 2>/dev/null
				echo "--- with, $x:"; cat "$2/$n.$x" 2>/dev/null
			done
		fi
	done
}
