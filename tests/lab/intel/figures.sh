# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the VT-x lab scripts: Hyper-box's cost figures between two
# copies of /sys/kernel/hyperbox/exits.
#   exit_delta BEFORE AFTER NAME     how much counter NAME moved
#   exit_figures BEFORE AFTER TAG    every counter that moved, then (lines
#       starting with TAG) Hyper-box exits per L2 run, VMREAD/VMWRITE exits
#       per L2 exit, EPT violations per L2 run
exit_delta() {
	awk -v k="$3" 'NR == FNR { if ($1 == k) b = $2; next } $1 == k { print $2 - b }' "$1" "$2"
}

exit_figures() {
	echo "--- $3: counters that moved (before after delta)"
	awk 'NR == FNR { b[$1] = $2; next } $2 != b[$1] { printf "%-22s %10d %10d %8d\n", $1, b[$1], $2, $2 - b[$1] }' \
		"$1" "$2"
	awk -v t="$3" 'NR == FNR { b[$1] = $2; next } { d[$1] = $2 - b[$1] } END {
		r = d["l2_runs"]; l = d["l2_exits"]
		if (r < 1 || l < 1) { printf "%s: no L2 run\n", t; exit }
		printf "%s: %d L2 runs, %d Hyper-box exits (%d from L2), %.3f per L2 run\n", t, r, d["vm_exits"], l, d["vm_exits"] / r
		printf "%s: %.3f VMREAD and %.3f VMWRITE exits per L2 exit (%d, %d)\n", t, d["vmread"] / l, d["vmwrite"] / l, d["vmread"], d["vmwrite"]
		printf "%s: %.4f EPT violations per L2 run (%d; shadow fills %d, resets %d)\n", t, d["l2_ept_violation"] / r, d["l2_ept_violation"], d["shadow_fills"], d["shadow_resets"]
	}' "$1" "$2"
}
