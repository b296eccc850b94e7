# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced first by the monitor's lab tests (tests/monitor/monitor.sh,
# logonly.sh, tests/lab/intel/monitor.sh): where the lab puts the modules
# and programs, and the check/act helpers the tests and replays.sh use.
M=/alcatraz/modules
A=/alcatraz/add
T=$A/hb-montest
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
act() { awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/hyperbox/monitor/status; }
# every decision the monitor took against a process, summed over its acts
decisions() {
	awk '$1 ~ /^(spawn|exec|cred_|umh|int80|syscall32|sysenter)/ { s += $2 } END { print s + 0 }' \
		/sys/kernel/hyperbox/monitor/status
}

# check_refusals ACT WORDS: after the replays, every refusal was counted
# and logged: the vendor-neutral ones and the vendor's 32-bit entry (ACT in
# monitor/status, WORDS in its log line); none of the core's protections
# was violated on the way.
check_refusals() {
	sleep 1		# the log drain runs every 100 ms
	dmesg | grep -E "hyperbox: monitor|hb_montest"
	cat /sys/kernel/hyperbox/monitor/status
	for k in spawn exec umh cred_path int80 "$1"; do
		check "act $k counted" test "$(act "$k")" -ge 1
	done
	check "act cred_tamper counted twice" test "$(act cred_tamper)" -ge 2
	for w in "creates a process" "executes a program" "usermode helper from registered VMM" \
		 "credentials changed without commit_creds" "outside the legitimate paths" "used int 0x80" \
		 "$2"; do
		check "logged: $w" sh -c "dmesg | grep -q 'hyperbox: monitor: refused.*$w'"
	done
	check "no violations of the core's protections" sh -c \
		'! grep -v "^text_poke_allowed" /sys/kernel/hyperbox/violations | grep -qv " 0$"'
}
