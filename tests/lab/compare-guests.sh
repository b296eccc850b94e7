#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the tiny guests of tests/lab/tests/guest-cases with alcatraz-run on the
# host, then the same in the lab (tests/lab/tests/guests.sh), which compares
# output and exit statuses.  One lab boot.
# Usage: compare-guests.sh BUILD_DIR [runner options...]
set -u
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
build=${1:?usage: compare-guests.sh BUILD_DIR [runner options...]}; shift
build=$(cd -- "$build" && pwd) || exit 125
run=$build/examples/alcatraz-run guests=$build/tests/guests
[[ -x $run && -d $guests ]] || { echo "compare-guests: build alcatraz-run and tests/guests first ($run, $guests)"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alcatraz-guests.XXXXXX") || exit 125
trap 'rm -rf -- "$tmp"' EXIT
exp=$tmp/expected
mkdir -p "$exp"
if [[ -w /dev/kvm ]]; then
    while read -r name _want args; do
        [[ -z $name || $name == '#'* ]] && continue
        # shellcheck disable=SC2086  # args are split on purpose
        (cd "$guests" && "$run" $args > "$exp/$name.out" 2> "$exp/$name.err" < /dev/null)
        rc=$?
        echo "$rc" > "$exp/$name.status"
        echo "host: $name: status $rc"
    done < "$here/tests/guest-cases"
else
    echo "host /dev/kvm is not usable: the lab's results are checked against guest-cases only" | tee "$exp/NO-HOST"
fi
"$here/run" --build "$build" --add "$exp:/alcatraz/expected" "$@" "$here/tests/guests.sh"
