#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Report how a kernel configuration compares with host-hardening.config.
#
#   kernel/check-host.sh [--strict] [--config FILE] [FRAGMENT]
#
# Reads the running kernel's configuration from /proc/config.gz, else
# /boot/config-$(uname -r), unless --config names a file.  Prints one line
# per option of the fragment: "ok", or "HARDEN" with the wanted value, what
# the kernel has, and the reason from the fragment.  Exit status: 0, or 1
# with --strict when any option differs; 2 when no configuration is found.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
strict=0
config=
while [ $# -gt 0 ]; do
	case "$1" in
	--strict) strict=1; shift ;;
	--config) config=$2; shift 2 ;;
	-h|--help) sed -n '4,12p' "$0"; exit 0 ;;
	-*) echo "check-host.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
fragment=${1:-$here/host-hardening.config}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if [ -n "$config" ]; then
	src=$config
	cat "$config" >"$tmp"
elif [ -r /proc/config.gz ]; then
	src=/proc/config.gz
	zcat /proc/config.gz >"$tmp"
elif [ -r "/boot/config-$(uname -r)" ]; then
	src=/boot/config-$(uname -r)
	cat "$src" >"$tmp"
else
	echo "check-host.sh: no kernel configuration found (/proc/config.gz, /boot/config-$(uname -r))" >&2
	exit 2
fi

echo "kernel $(uname -r), configuration from $src"
reason=
ok=0
differ=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		sym=${line%%=*}
		want=${line#*=}
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		want=n
		;;
	"# "*)
		reason=${line#\# }
		continue
		;;
	*)
		reason=
		continue
		;;
	esac
	have=$(grep -E "^$sym=" "$tmp" | head -1 | cut -d= -f2- || true)
	if [ -z "$have" ]; then
		# "is not set" means off; no mention at all means the option does
		# not exist in this kernel (renamed, e.g. MITIGATION_* in 6.9+,
		# or its dependencies are off) - also off, but say so.
		if grep -q "^# $sym is not set" "$tmp"; then
			have=n
		elif [ "$want" = n ]; then
			have=n
		else
			have="absent (renamed or unavailable in this kernel?)"
		fi
	fi
	if [ "$have" = "$want" ]; then
		printf '  ok      %-32s %s\n' "$sym" "$have"
		ok=$((ok + 1))
	else
		printf '  HARDEN  %-32s want %s, have %s: %s\n' "$sym" "$want" "$have" "$reason"
		differ=$((differ + 1))
	fi
done <"$fragment"

echo "$ok as recommended, $differ to harden"
# At run time, Hyper-box's escape monitor can refuse the 32-bit entries on a
# kernel that still has them (src/hypervisor/README.md, "Escape monitor").
mon=/sys/kernel/hyperbox/monitor/status
if [ -n "$config" ]; then
	:	# another kernel's configuration: nothing to say about this one's run time
elif [ -r "$mon" ]; then
	echo "runtime: Hyper-box monitor $(awk '$1 == "mode" { print $2 }' "$mon"), 32-bit entries $(awk '$1 == "compat32" { print $2 }' "$mon")"
elif grep -q "^CONFIG_IA32_EMULATION=y" "$tmp"; then
	echo "runtime: Hyper-box's escape monitor is not loaded: the 32-bit entries are open"
fi
if [ $strict = 1 ] && [ $differ -gt 0 ]; then
	exit 1
fi
exit 0
