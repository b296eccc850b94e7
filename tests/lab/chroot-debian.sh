#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/chroot-debian.sh ROOT [--cache DIR] COMMAND [ARGS...]
#
# Runs COMMAND inside ROOT (a root made by mkroot-debian.sh) with /proc,
# /sys, /dev and /dev/pts mounted, the host's resolv.conf, and (with
# --cache) DIR bind-mounted on /var/cache/apt/archives so downloaded .debs
# survive between runs.  Everything mounted is unmounted again, also on
# failure.  Exit status: COMMAND's; 125 when the chroot cannot be set up.
set -u -o pipefail
die() { echo "chroot-debian.sh: error: $*" >&2; exit 125; }

[[ $# -ge 2 ]] || die "usage: chroot-debian.sh ROOT [--cache DIR] COMMAND [ARGS...]"
root=$1; shift
cache=
if [[ $1 == --cache ]]; then
    [[ $# -ge 3 ]] || die "--cache wants a directory and a command"
    cache=$2; shift 2
fi
[[ -x $root/usr/bin/apt-get ]] || die "not a Debian root: $root"
root=$(cd -- "$root" && pwd)
[[ $(id -u) == 0 ]] || die "must run as root (chroot, mount)"

mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -l -- "${mounted[$i]}" 2>/dev/null
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
mnt() { # TARGET MOUNT-ARGS...
    local t=$1; shift
    mount "$@" "$t" || die "cannot mount $t"
    mounted+=("$t")
}
mnt "$root/proc" -t proc proc
mnt "$root/sys" -t sysfs sysfs
mnt "$root/dev" --bind /dev
mnt "$root/dev/pts" -t devpts -o newinstance,ptmxmode=0666 devpts
mnt "$root/tmp" -t tmpfs tmpfs
if [[ -n $cache ]]; then
    mkdir -p "$cache/partial" || die "cannot create $cache"
    mnt "$root/var/cache/apt/archives" --bind "$cache"
fi
# Debian's resolv.conf is a plain file in a minbase root.
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"
