#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The runner's bad-input handling: clear one-line errors, status 125, before
# anything boots (so this test boots nothing).
set -u
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
run=$here/run
pass=0 fail=0
check() { # name want-status stderr-regex -- command...
    local name=$1 want=$2 re=$3; shift 4
    local err rc t0=$EPOCHREALTIME
    err=$("$@" 2>&1 >/dev/null < /dev/null); rc=$?
    local ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
    if [[ $rc == "$want" && $err =~ $re ]] && ((ms < 3000)) && ! grep -q '^lab: initramfs' <<< "$err"; then
        pass=$((pass + 1)); echo "ok: $name"
    else
        fail=$((fail + 1)); echo "FAIL: $name: status $rc (want $want), ${ms} ms, stderr: $err"
    fi
}
check no-script 125 'no SCRIPT given' -- "$run"
check missing-script 125 '^lab: error: script not found: /nonexistent/script\.sh$' -- "$run" /nonexistent/script.sh
check script-is-dir 125 'script is not a readable file' -- "$run" /tmp
check missing-module 125 '^lab: error: module not found: /nonexistent/m\.ko$' -- "$run" --module /nonexistent/m.ko "$here/tests/fail.sh"
check not-a-module 125 'module must be a \.ko' -- "$run" --module "$here/run" "$here/tests/fail.sh"
check missing-add 125 '^lab: error: --add: not found: /nonexistent$' -- "$run" --add /nonexistent "$here/tests/fail.sh"
check bad-memory 125 '--memory wants' -- "$run" --memory lots "$here/tests/fail.sh"
check bad-cpus 125 '--cpus wants' -- "$run" --cpus 0 "$here/tests/fail.sh"
check bad-timeout 125 '--timeout wants' -- "$run" --timeout -5 "$here/tests/fail.sh"
check unknown-option 125 'unknown option: --bogus' -- "$run" --bogus "$here/tests/fail.sh"
check missing-build 125 '--build: not a directory' -- "$run" --build /nonexistent "$here/tests/fail.sh"
check missing-root 125 '^lab: error: --root: not a readable image file: /nonexistent\.img$' -- "$run" --root /nonexistent.img "$here/tests/fail.sh"
check root-with-module 125 '--root cannot be combined with --module' -- "$run" --root "$here/run" --module /nonexistent/m.ko "$here/tests/fail.sh"
check bad-qemu 125 '^lab: error: --qemu/ALCATRAZ_LAB_QEMU wants an executable qemu-system-x86_64 or .system., not ./nonexistent/qemu.$' -- \
    "$run" --qemu /nonexistent/qemu "$here/tests/fail.sh"
check no-qemu 125 'qemu-system-x86_64 not found: install the Debian package qemu-system-x86' -- \
    env PATH=/nonexistent /bin/bash "$run" "$here/tests/fail.sh"
check no-kernel 125 'install the Debian package linux-image-cloud-amd64' -- \
    env ALCATRAZ_LAB_KERNEL_VERSION=0.0-none "$run" "$here/tests/fail.sh"
check help 0 '' -- "$run" --help
echo "bad-input: $pass passed, $fail failed"
[[ $fail == 0 ]]
