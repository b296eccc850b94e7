#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: alcatraz-run --check reports what this host has, one line per
# item, and exits 0 only when VMs can run protected.
# Usage: check.sh ALCATRAZ_RUN [WANT_EXIT [WANT_KVM_MODULE]]
#   WANT_EXIT        0 or 1; default: 1 where /dev/kvm or Hyper-box is
#                    missing (nothing else is known for sure from outside)
#   WANT_KVM_MODULE  e.g. kvm_amd: the kvm line must name it
# POSIX sh: it also runs inside the lab (busybox ash). Exit 0 pass, 1 fail.
# Under `meson test --wrapper valgrind` (the unit suite in CI) the shell is
# not what is tested: run it natively and alcatraz-run under valgrind.
case ${LD_PRELOAD:-} in *vgpreload*) exec env -u LD_PRELOAD CHECK_VALGRIND=1 sh "$0" "$@" ;; esac
wrap=
[ "${CHECK_VALGRIND:-}" = 1 ] &&
	wrap="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
run=$1 want=${2:-} module=${3:-}
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
t=${TMPDIR:-/tmp}/check.$$
trap 'rm -f "$t".*' EXIT

if [ -z "$want" ] && { [ ! -e /dev/kvm ] || [ ! -r /sys/kernel/hyperbox/state ]; }; then
	want=1
fi
$wrap "$run" --check > "$t.out" 2> "$t.err"; rc=$?
cat "$t.out"
[ -s "$t.err" ] && { echo "--- stderr:"; cat "$t.err"; }

# every line: NAME STATUS TEXT; one per item and a verdict last
n=0
for item in kvm hyperbox namespaces seccomp cgroup io_uring kernel init busybox verdict; do
	n=$((n + 1))
	line=$(sed -n "${n}p" "$t.out")
	case $line in
	"$item "*) ok ;;
	*) bad "line $n is not the $item item: $line" ;;
	esac
	case $line in
	*" ok "* | *" warn "* | *" FAIL "*) ok ;;
	*) bad "line $n has no ok/warn/FAIL: $line" ;;
	esac
done
[ "$(wc -l < "$t.out")" = 10 ] && ok || bad "want 10 lines, got $(wc -l < "$t.out")"

kvm=$(grep '^kvm ' "$t.out")
if [ ! -e /dev/kvm ]; then
	case $kvm in *" FAIL /dev/kvm absent"*) ok ;; *) bad "no /dev/kvm here, but: $kvm" ;; esac
elif [ -n "$module" ]; then
	case $kvm in *" ok   /dev/kvm usable: $module, nested="*) ok ;; *) bad "want $module: $kvm" ;; esac
fi
hb=$(grep '^hyperbox ' "$t.out")
if [ -r /sys/kernel/hyperbox/state ]; then
	cpus=$(sed -n 's/^active cpus=\([0-9]*\/[0-9]*\)$/\1/p' /sys/kernel/hyperbox/state)
	case $hb in
	*" ok   active on $cpus CPUs, monitor "*", protections: "*) ok ;;
	*) bad "Hyper-box is active on $cpus CPUs, but: $hb" ;;
	esac
else
	case $hb in *" FAIL not loaded"*) ok ;; *) bad "no Hyper-box here, but: $hb" ;; esac
fi

# the verdict agrees with the items and the exit status
if grep -q '^[a-z_]* *FAIL ' "$t.out"; then
	[ "$rc" = 1 ] && ok || bad "a FAIL item, but exit $rc"
	grep -q '^verdict *FAIL VMs cannot run protected here (failed: ' "$t.out" && ok ||
		bad "no failing verdict"
else
	[ "$rc" = 0 ] && ok || bad "no FAIL item, but exit $rc"
fi
[ -z "$want" ] || { [ "$rc" = "$want" ] && ok || bad "exit $rc, want $want"; }

# the kernel line names where the kernel was found, or what is missing
ALCATRAZ_KERNEL=/nonexistent/vmlinux "$run" --check > "$t.k"
grep -q '^kernel *FAIL ALCATRAZ_KERNEL=/nonexistent/vmlinux is missing or unreadable$' "$t.k" && ok ||
	bad "kernel line with a missing ALCATRAZ_KERNEL: $(grep '^kernel' "$t.k")"
ALCATRAZ_KERNEL=$run "$run" --check > "$t.k"
grep -q "^kernel *ok   $run (from \$ALCATRAZ_KERNEL)\$" "$t.k" && ok ||
	bad "kernel line with ALCATRAZ_KERNEL=$run: $(grep '^kernel' "$t.k")"

echo "check: $pass passed, $fail failed"
[ "$fail" = 0 ]
