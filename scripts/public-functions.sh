#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The functions include/alcatraz/alcatraz.h declares, one per line, sorted,
# as the C compiler sees them (gcc -aux-info), independent of the comment
# parser of scripts/gen-man.py.
#
#   scripts/public-functions.sh HEADER [GCC]

set -eu
[ $# -ge 1 ] || { echo "usage: $0 HEADER [GCC]" >&2; exit 2; }
header=$1
cc=${2:-gcc}   # -aux-info is GCC's
[ -f "$header" ] || { echo "public-functions: no such header: $header" >&2; exit 2; }
aux=$(mktemp)
trap 'rm -f "$aux"' EXIT
$cc -fsyntax-only -aux-info "$aux" -x c "$header" ||
	{ echo "public-functions: $cc cannot parse $header" >&2; exit 2; }
# Lines look like: /* HEADER:LINE:NC */ extern int alcatraz_x (int);
grep -F "/* $header:" "$aux" | sed -n 's/.*[ *]\(alcatraz_[a-z0-9_]*\) (.*/\1/p' | sort -u
