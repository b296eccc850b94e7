#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Description: the installed tree works on its own. `meson install --destdir`
# into a temporary folder; every installed file where the layout says; no
# build or source tree path in any installed binary's code or data; then the
# lab boots with that tree at its prefix and without the build dir
# (lab.sh): the installed alcatraz-run finds the installed kernel and init,
# boots the Linux guest, reports --check with and without Hyper-box, and
# gives one line for a missing kernel or init.
# Usage: relocate.sh BUILD_DIR SOURCE_DIR PREFIX BINDIR LIBDIR LIBEXECDIR DATADIR INCLUDEDIR HYPERBOX_KO
# Exit 0 pass, 1 fail, 125 setup error.
set -u
build=$(cd "$1" && pwd) source=$(cd "$2" && pwd)
prefix=$3 bindir=$4 libdir=$5 libexecdir=$6 datadir=$7 includedir=$8 hyperbox_ko=$9
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
# meson's options are relative to the prefix unless absolute
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }

dest=$(mktemp -d "${TMPDIR:-/tmp}/alcatraz-relocate.XXXXXX") || exit 125
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet > "$dest.log" 2>&1 ||
	{ cat "$dest.log"; rm -f "$dest.log"; echo "relocate: meson install failed"; exit 125; }
rm -f "$dest.log"
root=$dest$prefix

# the layout (/work/notes/install-layout.md, README "Install")
for f in "$(abs "$bindir")/alcatraz-run" "$(abs "$libexecdir")/alcatraz/alcatraz-init" \
	"$(abs "$libexecdir")/alcatraz/alcatraz-vmm" \
	"$(abs "$datadir")/alcatraz/vmlinux" "$(abs "$libdir")/libalcatraz.so.0" \
	"$(abs "$libdir")/pkgconfig/alcatraz.pc" "$(abs "$includedir")/alcatraz/alcatraz.h"; do
	[ -e "$dest$f" ] && ok || bad "not installed: $f"
done

# No build-tree or source-tree path in what the binaries load (debug
# sections aside: they name the compiler's working directory, and
# distributions strip them or map them with -ffile-prefix-map).
nelf=0
while IFS= read -r -d '' f; do
	[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
	nelf=$((nelf + 1))
	objcopy --strip-debug "$f" "$dest.elf" 2>/dev/null || cp "$f" "$dest.elf"
	for p in "$build" "$source"; do
		if strings -a "$dest.elf" | grep -qF "$p"; then
			bad "${f#"$dest"} holds $p: $(strings -a "$dest.elf" | grep -F "$p" | head -3 | tr '\n' ' ')"
		else
			ok
		fi
	done
	rm -f "$dest.elf"
done < <(find "$dest" -type f ! -name '*.ko' -print0)
[ "$nelf" -ge 3 ] && ok || bad "only $nelf ELF files installed"

# On this host, without the variables: the installed prefix path, never the
# build tree's kernel (which the old compiled-in build root found).
kline=$(env -i PATH=/usr/bin:/bin "$dest$(abs "$bindir")/alcatraz-run" --check 2>&1 | grep '^kernel ')
[ -e "$(abs "$datadir")/alcatraz/vmlinux" ] ||
	case $kline in
	"kernel      FAIL $(abs "$datadir")/alcatraz/vmlinux is missing: "*) ok ;;
	*) bad "installed alcatraz-run, kernel line: $kline" ;;
	esac

echo "relocate: host side $pass passed, $fail failed; the lab next"
# The lab: the installed tree at its prefix, no build dir (--no-build).
"$source/tests/lab/run" --no-build --no-kvm --memory 1024 --timeout 900 \
	--module "$hyperbox_ko" --add "$root:$prefix" \
	--add "$here/check.sh:/alcatraz/add/check.sh" \
	"$here/lab.sh" "$prefix" "$(abs "$bindir")" "$(abs "$datadir")" "$(abs "$libexecdir")" "$build"
rc=$?
[ "$rc" = 0 ] && ok || bad "lab.sh exited $rc"
echo "relocate: $pass passed, $fail failed"
[ "$fail" = 0 ]
