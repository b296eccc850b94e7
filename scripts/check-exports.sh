#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The symbols of libalcatraz: every function of the public header is listed
# by name in the version script and exported by the shared library, under a
# version node; nothing else is exported and the map has no wildcard in a
# global: section.
#
#   scripts/check-exports.sh HEADER MAP LIBRARY.so

set -euo pipefail
case ${LD_PRELOAD:-} in *vgpreload*) exec env -u LD_PRELOAD bash "$0" "$@" ;; esac

[ $# = 3 ] || { echo "usage: $0 HEADER MAP LIBRARY.so" >&2; exit 2; }
header=$1 map=$2 lib=$3
here=$(cd "$(dirname "$0")" && pwd)
fail=0
bad() { echo "check-exports: $*"; fail=1; }

funcs=$("$here/public-functions.sh" "$header")
[ -n "$funcs" ] || { echo "check-exports: no function found in $header" >&2; exit 2; }

# Names in global: sections (comments removed), and any wildcard there.
globals=$(sed -e 's|/\*.*\*/||g' "$map" | awk '
	/\/\*/ { c = 1 } c { if (/\*\//) c = 0; next }
	/global:/ { g = 1; sub(/.*global:/, "") }
	/local:/ { g = 0 }
	g { gsub(/[{};]/, " "); for (i = 1; i <= NF; i++) if ($i !~ /^(ALCATRAZ_[0-9._]+|})$/) print $i }' | sort)
wild=$(grep -E '[*?[]' <<<"$globals" || true)
[ -z "$wild" ] || bad "$map: wildcard in a global: section: $wild"

# Exported: defined dynamic symbols, minus the version nodes (type A).
exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sort)
unversioned=$(grep -v '@' <<<"$exported" || true)
[ -z "$unversioned" ] || bad "$lib exports without a version node: $unversioned"
exported=$(sed 's/@.*//' <<<"$exported" | sort -u)

while read -r f; do
	grep -qx "$f" <<<"$globals" || bad "$f is declared in $(basename "$header") but not listed in $map"
	grep -qx "$f" <<<"$exported" || bad "$f is declared in $(basename "$header") but $lib does not export it"
done <<<"$funcs"
while read -r s; do
	[ -n "$s" ] || continue
	grep -qx "$s" <<<"$funcs" || bad "$s is listed in $map but is no function of $(basename "$header")"
done <<<"$(grep -vE '[*?[]' <<<"$globals" || true)"
while read -r s; do
	grep -qx "$s" <<<"$funcs" || bad "$lib exports $s, which is no function of $(basename "$header")"
done <<<"$exported"

[ $fail = 0 ] && echo "check-exports: $(wc -l <<<"$funcs") functions: declared, listed in the map, exported; nothing else exported"
exit $fail
