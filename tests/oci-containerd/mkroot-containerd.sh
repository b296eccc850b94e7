#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/oci-containerd/mkroot-containerd.sh BUILDDIR
#
# Makes (once) the Debian 12 root of lab-oci-containerd and lab-oci-docker: a
# copy of the lab's shared root (tests/lab/mkroot-debian.sh, cached in
# BUILDDIR/lab-root, left as it is) with Debian's containerd, runc and
# docker.io (dockerd not started at boot: lab-oci-docker starts it with its
# own options) and apparmor (which docker.io recommends: the lab kernel has
# AppArmor on, and dockerd then refuses to start a container without
# apparmor_parser to load its docker-default profile), iproute2, passt and
# busybox-static (lab-oci-containerd's network namespace: `ip netns`, a
# veth pair, the VM's user networking inside it, an httpd), and the libraries
# Debian's virtiofsd (copied in by the test) and the build's alcatraz-oci
# and VMM link with.
# The result is BUILDDIR/lab-root-containerd/root, reused while its stamp
# (the shared root's stamp plus this recipe) matches.  Exit status 0, or 1
# with one line saying what failed.
set -u -o pipefail
die() { echo "mkroot-containerd.sh: error: $*" >&2; exit 1; }
log() { echo "mkroot-containerd.sh: $*" >&2; }

[[ $# -eq 1 ]] || die "usage: mkroot-containerd.sh BUILDDIR"
[[ $(id -u) == 0 ]] || die "must run as root (chroot, apt)"
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
lab=$here/../lab
build=$(cd -- "$1" && pwd) || die "no build dir $1"
base=$build/lab-root
out=$build/lab-root-containerd

"$lab/mkroot-debian.sh" "$base" || die "making the lab's Debian root failed"
packages=(containerd runc docker.io apparmor iproute2 passt busybox-static libjansson4 liburing2 libglib2.0-0 libnuma1 libcap-ng0 libseccomp2)
# Bump when a change here changes the root.
recipe=4
want_stamp="containerd recipe $recipe packages ${packages[*]} on $(cat "$base/root.stamp")"

mkdir -p "$out/debs" || die "cannot create $out"
exec 9>"$out/.lock"
flock 9 || die "cannot lock $out"
if [[ -x $out/root/usr/bin/containerd && -f $out/root.stamp && $(cat "$out/root.stamp") == "$want_stamp" ]]; then
    log "up to date: $out/root"
    exit 0
fi
tmp=$out/root.tmp
rm -rf -- "$out/root" "$out/root.stamp" "$tmp"
t0=$SECONDS
cp -a -- "$base/root" "$tmp" || die "cannot copy $base/root"
log "apt-get install ${packages[*]}"
"$lab/chroot-debian.sh" "$tmp" --cache "$out/debs" sh -c \
    'apt-get update -q && apt-get install -y -q --no-install-recommends "$@" && apt-get clean' \
    sh "${packages[@]}" > "$out/apt.log" 2>&1 ||
    die "apt-get install in the root failed (last lines of $out/apt.log: $(tail -n 3 "$out/apt.log" | tr '\n' ' '))"
[[ -x $tmp/usr/bin/containerd && -x $tmp/usr/bin/ctr && -x $tmp/usr/sbin/runc &&
   -x $tmp/usr/sbin/dockerd && -x $tmp/usr/bin/docker ]] ||
    die "containerd, ctr, runc, dockerd or docker missing after apt-get install"
# dockerd at boot would cost lab-oci-containerd's lab its start-up (slow in
# TCG) and take options other than lab-oci-docker's.
rm -f -- "$tmp"/etc/systemd/system/*.wants/docker.service "$tmp"/etc/systemd/system/*.wants/docker.socket
mv -- "$tmp" "$out/root" || die "cannot move $tmp to $out/root"
echo "$want_stamp" > "$out/root.stamp"
log "done: $out/root in $((SECONDS - t0)) s ($(du -sm "$out/root" | cut -f1) MiB)"
