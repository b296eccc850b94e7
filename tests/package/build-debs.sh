#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/package/build-debs.sh SRCDIR OUTDIR [KERNEL_CACHE]
#
# Builds the project's .debs with `dpkg-buildpackage -b -us -uc` from a copy
# of SRCDIR (git's tracked and new, not ignored, files: a clean clone's
# view plus uncommitted work) in OUTDIR/src, so that the source tree gets no
# build products.  The .debs land in OUTDIR.  A build whose input files are
# the same as the last one's (OUTDIR/debs.stamp, hashes of every file) is
# not redone.  KERNEL_CACHE (e.g. the meson build dir's kernel/) saves the
# guest kernel's 8-minute build (ALCATRAZ_KERNEL_CACHE, see debian/rules).
# The unit suite is left to the test command (DEB_BUILD_OPTIONS=nocheck
# unless DEB_BUILD_OPTIONS is set).
set -u -o pipefail
die() { echo "build-debs.sh: error: $*" >&2; exit 1; }
log() { echo "build-debs.sh: $*" >&2; }

[[ $# -ge 2 && $# -le 3 ]] || die "usage: build-debs.sh SRCDIR OUTDIR [KERNEL_CACHE]"
src=$(cd -- "$1" && pwd) || die "no source dir $1"
mkdir -p "$2" || die "cannot create $2"
out=$(cd -- "$2" && pwd)
cache=${3:-}
if [[ -n $cache ]]; then
    cache=$(cd -- "$cache" && pwd) || die "no kernel cache dir $3"
fi
command -v dpkg-buildpackage >/dev/null || die "dpkg-buildpackage not found: apt-get install dpkg-dev debhelper dh-dkms"
[[ -f $src/debian/control ]] || die "no debian/control in $src"

list_files() {
    if [[ $(git -C "$src" rev-parse --show-toplevel 2>/dev/null) == "$src" ]]; then
        git -C "$src" ls-files -z --cached --others --exclude-standard
    else
        (cd "$src" && find . \( -path './build*' -o -path ./.git -o -path './obj-*' \) -prune -o \
            -type f -print0 | sed -z 's|^\./||')
    fi
}
files=$(list_files | while IFS= read -r -d '' f; do [[ -f $src/$f ]] && printf '%s\n' "$f"; done) ||
    die "cannot list the files of $src"
[[ -n $files ]] || die "no files found in $src"
# The inputs: every source file but the lab's and this test's scripts and
# the docs (they change nothing the packages install), and the guest kernel
# the build will copy.
stamp=$( (cd "$src" && printf '%s\n' "$files" |
          grep -Ev '^tests/(lab|package)/.*\.sh$|^tests/lab/run$|\.md$' | tr '\n' '\0' | xargs -0 sha256sum
          [[ -n $cache && -f $cache/vmlinux ]] && sha256sum "$cache/vmlinux") | sha256sum | cut -d' ' -f1)

exec 9>"$out/.build.lock"
flock 9 || die "cannot lock $out"
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version) || die "cannot read debian/changelog"
debs=(libalcatraz0 libalcatraz-dev alcatraz)
have_all() {
    local p
    for p in "${debs[@]}"; do [[ -f $out/${p}_${version}_amd64.deb ]] || return 1; done
    [[ -f $out/hyperbox-dkms_${version}_all.deb ]]
}
if have_all && [[ -f $out/debs.stamp && $(cat "$out/debs.stamp") == "$stamp" ]]; then
    log "up to date: the .debs of $version in $out"
    exit 0
fi

rm -rf -- "$out/src" "$out"/*.deb "$out"/*.ddeb "$out"/*.buildinfo "$out"/*.changes "$out/debs.stamp"
work=$out/src/alcatraz-$version
mkdir -p "$work" || die "cannot create $work"
(cd "$src" && printf '%s\n' "$files" | tr '\n' '\0' | cpio -p0dm --quiet "$work") || die "cannot copy $src"
t0=$SECONDS
log "dpkg-buildpackage -b -us -uc in $work (log: $out/build.log)"
(cd "$work" && ALCATRAZ_KERNEL_CACHE=$cache DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck} \
    nice -n 10 dpkg-buildpackage -b -us -uc) > "$out/build.log" 2>&1 ||
    die "dpkg-buildpackage failed (last lines of $out/build.log: $(tail -n 5 "$out/build.log" | tr '\n' ' '))"
mv "$out"/src/*.deb "$out"/src/*.ddeb "$out/" 2>/dev/null
have_all || die "dpkg-buildpackage did not make every package (see $out/build.log)"
echo "$stamp" > "$out/debs.stamp"
rm -rf -- "$work"
log "built in $((SECONDS - t0)) s: $(cd "$out" && echo *.deb)"
