#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The hostile suite: hostile-runner on this machine's /dev/kvm when it is
# usable, otherwise in the AMD-V lab (one boot for every case).
# Usage: run.sh BUILD_DIR [runner options and cases]
set -u
build=$(cd "$1" && pwd) || exit 125
shift
src=$(cd "$(dirname "$0")/../.." && pwd)
runner=tests/hostile/hostile-runner
image=tests/hostile/hostile.img

if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ -z "${HOSTILE_LAB:-}" ]; then
	exec "$build/$runner" "$build/$image" "$@"
fi
echo "hostile: no usable /dev/kvm here: running in the lab"
script=$(mktemp "${TMPDIR:-/tmp}/hostile-lab.XXXXXX") || exit 125
trap 'rm -f "$script"' EXIT
cat > "$script" <<EOS
#!/bin/sh
# Sanitizer runtimes print to stderr, which the lab streams as well.
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
/alcatraz/build/$runner /alcatraz/build/$image $*
EOS
# Two lab CPUs on one emulator thread: with a thread per CPU QEMU can keep a
# stale translation while kvm_amd loads (tests/lab/README.md).
"$src/tests/lab/run" --build "$build" --cpus 2 --single-thread --memory 1024 --timeout 840 "$script"
