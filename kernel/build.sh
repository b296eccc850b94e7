#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build the Alcatraz guest kernel.
#
#   kernel/build.sh [--config-only] SRC_TARBALL OUTDIR [FRAGMENT]
#
# SRC_TARBALL  a Linux source tarball (Debian: /usr/src/linux-source-6.1.tar.xz)
# OUTDIR       receives vmlinux, bzImage and config; the source tree is
#              extracted into OUTDIR/linux-src and reused for rebuilds
# FRAGMENT     config fragment applied on top of tinyconfig
#              (default: guest.config next to this script)
#
# --config-only  stop after the configuration has been merged and verified
#
# Environment:
#   ALCATRAZ_KERNEL_CACHE  a directory holding a previous OUTDIR; when its
#                          stamp matches, the artifacts are copied from it
#                          instead of rebuilding (saves ~8 min per build dir).
#                          Unset: the checkout's other build*/kernel and
#                          build* directories are tried.
#   ALCATRAZ_KERNEL_NICE   niceness of the build (default 10; the build
#                          machines are shared)
#   JOBS                   parallel jobs (default: nproc)
#
# The result is cached: when OUTDIR already holds vmlinux and bzImage built
# from the same tarball, fragment and script, nothing is done.

set -euo pipefail

die() { echo "kernel/build.sh: error: $*" >&2; exit 1; }
log() { echo "kernel/build.sh: $*" >&2; }

config_only=0
if [ "${1:-}" = "--config-only" ]; then
	config_only=1
	shift
fi
[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: $0 [--config-only] SRC_TARBALL OUTDIR [FRAGMENT]"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tarball=$(realpath "$1")
mkdir -p "$2"
outdir=$(realpath "$2")
fragment=$(realpath "${3:-$here/guest.config}")

[ -f "$tarball" ] || die "kernel source tarball not found: $tarball"
[ -f "$fragment" ] || die "config fragment not found: $fragment"
for tool in make gcc bc flex bison gzip tar perl; do
	command -v "$tool" >/dev/null || die "missing build tool: $tool (apt-get install bc flex bison libelf-dev libssl-dev)"
done
[ -e /usr/include/libelf.h ] || [ -e /usr/include/gelf.h ] || die "missing libelf headers (libelf-dev)"
[ -e /usr/include/openssl/ssl.h ] || die "missing OpenSSL headers (libssl-dev)"

# Bump when a change to this script changes what it produces; edits that do
# not (messages, checks) keep existing caches valid.
recipe=1

# The stamp identifies the inputs.  Hashing a 138 MB tarball costs about a
# second, cheap next to a rebuild caused by a stale key.
stamp_of_inputs() {
	{
		echo "tarball $(basename "$tarball") $(sha256sum <"$tarball" | cut -d' ' -f1)"
		echo "fragment $(sha256sum <"$fragment" | cut -d' ' -f1)"
		echo "recipe $recipe make-targets vmlinux,bzImage"
	}
}

exec 9>"$outdir/.build.lock"
flock 9 || die "cannot lock $outdir"

want_stamp=$(stamp_of_inputs)
have_artifacts() {
	[ -f "$1/vmlinux" ] && [ -f "$1/bzImage" ] && [ -f "$1/.stamp" ] &&
		[ "$(cat "$1/.stamp")" = "$want_stamp" ]
}

if [ $config_only = 0 ]; then
	if have_artifacts "$outdir"; then
		log "up to date: $outdir/vmlinux"
		# Build systems compare mtimes: an unchanged rebuild must still
		# leave outputs newer than the inputs that triggered it.
		touch "$outdir/vmlinux" "$outdir/bzImage"
		exit 0
	fi
	# Other build directories of this checkout often hold the very same
	# kernel: the stamp proves it, so copying beats eight minutes of cc.
	if [ -n "${ALCATRAZ_KERNEL_CACHE:-}" ]; then
		caches=("$ALCATRAZ_KERNEL_CACHE")
	else
		caches=("$here"/../build*/kernel "$here"/../build*)
	fi
	for cache in "${caches[@]}"; do
		[ -d "$cache" ] && [ "$(realpath -m "$cache")" != "$outdir" ] || continue
		have_artifacts "$cache" || continue
		log "copying from cache $(realpath "$cache")"
		for f in vmlinux bzImage config; do
			cp "$cache/$f" "$outdir/.$f.tmp"
			mv "$outdir/.$f.tmp" "$outdir/$f"
		done
		# Touch so build systems see outputs newer than their inputs.
		touch "$outdir/vmlinux" "$outdir/bzImage"
		echo "$want_stamp" >"$outdir/.stamp"
		exit 0
	done
fi

src=$outdir/linux-src
tar_stamp=$(sed -n 1p <<<"$want_stamp")
if [ ! -f "$src/.alcatraz-tarball" ] || [ "$(cat "$src/.alcatraz-tarball")" != "$tar_stamp" ]; then
	log "extracting $tarball"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xf "$tarball" -C "$src.tmp" --strip-components=1
	echo "$tar_stamp" >"$src.tmp/.alcatraz-tarball"
	mv "$src.tmp" "$src"
fi

cd "$src"
jobs=${JOBS:-$(nproc)}
nice=${ALCATRAZ_KERNEL_NICE:-10}
mk() { nice -n "$nice" make -s "$@"; }

log "configuring: tinyconfig + $(basename "$fragment")"
mk tinyconfig >/dev/null
# -m: only merge; olddefconfig below resolves dependencies exactly once.
scripts/kconfig/merge_config.sh -m .config "$fragment" >/dev/null
mk olddefconfig >/dev/null

# Every line of the fragment must have survived: Kconfig silently drops
# options whose dependencies are missing, and a typo in a "not set" line
# would otherwise look like success.
log "verifying configuration"
known=$(grep -rhoE '^[[:space:]]*(menu)?config [A-Za-z0-9_]+' --include='Kconfig*' . |
	awk '{print "CONFIG_" $2}' | sort -u)
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		sym=${line%%=*}
		if ! grep -qxF -- "$line" .config; then
			got=$(grep -E "^(# )?$sym[= ]" .config || echo "absent")
			echo "  requested: $line    got: $got" >&2
			bad=1
		fi
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		if grep -q "^$sym=" .config; then
			echo "  requested: $line    got: $(grep "^$sym=" .config)" >&2
			bad=1
		fi
		;;
	*) continue ;;
	esac
	if ! grep -qxF "$sym" <<<"$known"; then
		echo "  unknown option in this kernel: $sym" >&2
		bad=1
	fi
done <"$fragment"
[ $bad = 0 ] || die "configuration does not match $fragment (see above)"
log "configuration verified: $(grep -c '=y' .config) options built in, $(grep -c '=m' .config || true) modules"

if [ $config_only = 1 ]; then
	cp .config "$outdir/config"
	exit 0
fi

log "building vmlinux and bzImage with $jobs jobs (nice $nice); this takes minutes"
start=$(date +%s)
# Kbuild prints one line per step; number them so a log shows progress.
set +e
nice -n "$nice" make -j"$jobs" vmlinux bzImage 2>&1 |
	awk '{ printf "[kernel %5d] %s\n", NR, $0; fflush() }'
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || die "kernel build failed (make exit $rc)"
log "built in $(($(date +%s) - start)) s"

for f in vmlinux arch/x86/boot/bzImage .config; do
	name=$(basename "$f")
	[ "$name" = .config ] && name=config
	cp "$f" "$outdir/.$name.tmp"
	mv "$outdir/.$name.tmp" "$outdir/$name"
done
echo "$want_stamp" >"$outdir/.stamp"
log "done: $outdir/vmlinux $outdir/bzImage"
