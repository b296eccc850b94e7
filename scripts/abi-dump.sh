#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# abidw's description of libalcatraz's ABI, written the one way the
# baseline (abi/libalcatraz.abi) and the check compare: only the types of
# the public header, no locations or paths (they move with every edit).
#
#   scripts/abi-dump.sh LIBRARY.so HEADERS_DIR OUT.abi

set -eu
[ $# = 3 ] || { echo "usage: $0 LIBRARY.so HEADERS_DIR OUT.abi" >&2; exit 2; }
command -v abidw >/dev/null ||
	{ echo "abi-dump: abidw missing (apt-get install abigail-tools)" >&2; exit 2; }
if ! readelf -S "$1" | grep -q '\.debug_info'; then
	echo "abi-dump: $1 has no debug information (build with -g, e.g. buildtype debugoptimized)" >&2
	exit 3
fi
abidw --exported-interfaces-only --headers-dir "$2" --drop-private-types --no-show-locs --no-corpus-path \
	--no-comp-dir-path --out-file "$3" "$1"
