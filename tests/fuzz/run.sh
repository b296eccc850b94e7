#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs one libFuzzer target over its seed corpus for a while.
#   run.sh FUZZER SEED_DIR WORK_DIR SECONDS [libFuzzer options...]
# New inputs go to WORK_DIR/corpus (the seeds in the repository are only
# read), a crash to WORK_DIR/crash-*; prints one line: target, executions,
# and whether it crashed. Exit status: 0 no crash, 1 a crash (libFuzzer's own
# status for a finding is 77, which meson would count as a skip).
set -uo pipefail
fuzzer=$1 seeds=$2 work=$3 secs=$4
shift 4
name=$(basename "$fuzzer")
mkdir -p "$work/corpus"
log=$work/log
# One worker, bounded memory, and a hang is a finding (-timeout).
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/" "$@" "$work/corpus" "$seeds" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
if [ "$rc" = 0 ]; then
	echo "$name: ${execs:-?} executions in ${secs}s, no crash"
else
	echo "$name: CRASH (exit $rc) after ${execs:-?} executions; input and log in $work"
	grep -E -A30 '^==[0-9]+==ERROR|runtime error|deadly signal|ALCATRAZ FUZZ' "$log" | head -60
fi
[ "$rc" = 0 ] || exit 1
