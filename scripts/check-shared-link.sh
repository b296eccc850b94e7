#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# PROGRAM is linked the way embedders link libalcatraz: it needs the shared
# library (DT_NEEDED SONAME) and carries none of the library's code (its
# alcatraz_* functions are undefined in it, so they come from the .so).
#
#   scripts/check-shared-link.sh PROGRAM SONAME

set -euo pipefail
case ${LD_PRELOAD:-} in *vgpreload*) exec env -u LD_PRELOAD bash "$0" "$@" ;; esac

[ $# = 2 ] || { echo "usage: $0 PROGRAM SONAME" >&2; exit 2; }
prog=$1 soname=$2
fail=0
needed=$(readelf -d "$prog" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
grep -qx "$soname" <<<"$needed" ||
	{ echo "check-shared-link: $prog does not need $soname (NEEDED: $(echo $needed))"; fail=1; }
own=$(nm --defined-only "$prog" | awk '$3 ~ /^alcatraz_/ { print $3 }')
[ -z "$own" ] ||
	{ echo "check-shared-link: $prog has the library's code linked in: $(echo $own)"; fail=1; }
used=$(nm -u "$prog" | awk '$2 ~ /^alcatraz_/ { print $2 }' | wc -l)
[ "$used" -gt 0 ] || { echo "check-shared-link: $prog calls no alcatraz_ function"; fail=1; }
[ $fail = 0 ] && echo "check-shared-link: $(basename "$prog") needs $soname and takes its $used alcatraz_* functions from it"
exit $fail
