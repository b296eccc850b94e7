#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The man pages:
#   - every function of the public header has its page in MAN3DIR, and no
#     page is left for a function that is gone;
#   - each page is what scripts/gen-man.py makes of the header now (a
#     changed comment without a rebuilt page fails);
#   - every page has NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE and SEE ALSO;
#   - groff formats every page, alcatraz-run.1 included, without a warning;
#   - alcatraz-run.1 describes every option `alcatraz-run --help` lists.
#
#   scripts/check-man.sh HEADER MAN3DIR MAN1PAGE ALCATRAZ_RUN VERSION

set -euo pipefail
case ${LD_PRELOAD:-} in *vgpreload*) exec env -u LD_PRELOAD bash "$0" "$@" ;; esac

[ $# = 5 ] || { echo "usage: $0 HEADER MAN3DIR MAN1PAGE ALCATRAZ_RUN VERSION" >&2; exit 2; }
header=$1 man3=$2 man1=$3 run=$4 version=$5
here=$(cd "$(dirname "$0")" && pwd)
command -v groff >/dev/null || { echo "check-man: groff missing (apt-get install groff-base)" >&2; exit 2; }
fail=0
bad() { echo "check-man: $*"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

funcs=$("$here/public-functions.sh" "$header")
for f in $funcs; do
	[ -f "$man3/$f.3" ] || bad "$f has no man page ($man3/$f.3)"
done
for p in "$man3"/alcatraz_*.3; do
	[ -e "$p" ] || continue
	f=$(basename "$p" .3)
	grep -qx "$f" <<<"$funcs" || bad "$p: $f is no function of $(basename "$header") any more"
done

python3 "$here/gen-man.py" "$header" "$tmp/man3" "$version" || bad "gen-man.py failed on $header"
for p in "$tmp"/man3/*.3; do
	[ -e "$p" ] || continue
	cmp -s "$p" "$man3/$(basename "$p")" ||
		bad "$man3/$(basename "$p") differs from what the header's comment gives now: rebuild (ninja)"
done

pages=("$man1" "$man3"/libalcatraz.3 "$man3"/alcatraz_*.3)
for p in "${pages[@]}"; do
	[ -f "$p" ] || { bad "$p missing"; continue; }
	warn=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$p" 2>&1) || bad "$p: groff failed"
	[ -z "$warn" ] || bad "$p: groff: $warn"
	case $p in *.1) continue ;; esac
	for s in NAME SYNOPSIS DESCRIPTION "RETURN VALUE" "SEE ALSO"; do
		[ "$(basename "$p")" = libalcatraz.3 ] && [ "$s" = "RETURN VALUE" ] && continue
		grep -qx "\.SH \"\?$s\"\?" "$p" || bad "$p has no $s section"
	done
done

# Options as --help prints them: "-x, --long ARG" or "    --long ARG".
help=$("$run" --help) || bad "$run --help failed"
opts=$(grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' <<<"$help" | sed 's/^[ ,]*//' | sort -u)
text=$(LC_ALL=C.UTF-8 MANWIDTH=200 groff -man -Tutf8 "$man1" 2>/dev/null | sed 's/.\x08//g')
n=0
for o in $opts; do
	n=$((n + 1))
	grep -qE -- "(^|[ ,])$o([ ,=]|$)" <<<"$text" || bad "$man1 does not describe $o (alcatraz-run --help lists it)"
done

[ $fail = 0 ] && echo "check-man: $(wc -w <<<"$funcs") function pages, libalcatraz.3 and alcatraz-run.1 (all $n options of --help) format without warnings"
exit $fail
