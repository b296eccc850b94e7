#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/oci-containerd/boot-lab.sh PROG SRCDIR BUILDDIR IN_LAB [EXTRA_ROOT]
#
# What lab-oci-containerd and lab-oci-docker share, one lab boot:
#  1. the lab's Debian 12 root with Debian's containerd, runc and docker.io
#     (mkroot-containerd.sh, cached in BUILDDIR/lab-root-containerd);
#  2. the hand-made busybox image (mkimage.sh): an oci-layout tar for
#     `ctr image import` that is also a docker-archive for `docker load`,
#     no registry;
#  3. an overlay on the cached root (which stays pristine) with the build's
#     alcatraz-oci, VMM, guest kernel and init, Debian's virtiofsd, the
#     image, containerd's environment for the build's files, and the files
#     of EXTRA_ROOT (a directory laid over /, e.g. dockerd's daemon.json),
#     made into an ext4 image;
#  4. the lab booted from it (tests/lab/run --root), running IN_LAB, which
#     does the checks.  containerd starts from its own systemd unit.
# Scratch files go to BUILDDIR/tests/<IN_LAB's directory name>, which
# tests/lab/run leaves out of its copy of the build dir.  Exit 0 when all
# of IN_LAB's checks passed.
set -u -o pipefail
PROG=${1:-boot-lab.sh}
die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*"; }
[[ $# -eq 4 || $# -eq 5 ]] || die "usage: boot-lab.sh PROG SRCDIR BUILDDIR IN_LAB [EXTRA_ROOT]"
src=$(cd -- "$2" && pwd) || die "no source dir $2"
build=$(cd -- "$3" && pwd) || die "no build dir $3"
in_lab=$4 extra=${5:-}
[[ -f $in_lab ]] || die "no $in_lab"
[[ -z $extra || -d $extra ]] || die "no directory $extra"
[[ $(id -u) == 0 ]] || die "must run as root (chroot, apt, mount)"
here=$src/tests/oci-containerd
vfsd=/usr/lib/qemu/virtiofsd
[[ -x $vfsd ]] || die "no $vfsd (Debian package qemu-system-common)"
files=(src/oci/alcatraz-oci src/oci/guest/alcatraz-oci-pause src/vmm/alcatraz-vmm
       src/guest/alcatraz-init kernel/vmlinux)
for f in "${files[@]}"; do
    [[ -e $build/$f ]] || die "no $build/$f"
done
out=$build/tests/$(basename -- "$(dirname -- "$in_lab")")
mkdir -p "$out" || die "cannot create $out"
t0=$SECONDS

# 1. the root
"$here/mkroot-containerd.sh" "$build" || die "making the containerd root failed"
log "time: root: $((SECONDS - t0)) s"

# 2. the image
"$here/mkimage.sh" "$out" | sed "s/^/$PROG: /" || die "making the image failed"

# 3. this test's root
ovl=$out/overlay
root=$ovl/root
umount "$root" 2>/dev/null
rm -rf -- "$ovl" "$out/root.img"
mkdir -p "$ovl"/{upper,work,root} &&
    mount -t overlay overlay -o "lowerdir=$build/lab-root-containerd/root,upperdir=$ovl/upper,workdir=$ovl/work" "$root" ||
    die "cannot mount an overlay on $build/lab-root-containerd/root"
trap 'umount -l "$root" 2>/dev/null; rm -f -- "$out/root.img"' EXIT
B=$root/alcatraz/build
for f in "${files[@]}"; do
    mkdir -p "$B/${f%/*}" && cp -- "$build/$f" "$B/$f" || die "cannot copy $f into the root"
done
cp -a -- "$build"/src/lib/libalcatraz.so* "$B/src/lib/" 2>/dev/null
mkdir -p "$root${vfsd%/*}" && cp -- "$vfsd" "$root$vfsd" && cp -- "$out/image.tar" "$root/alcatraz/" ||
    die "cannot copy into the root"
[[ -z $extra ]] || cp -r -- "$extra/." "$root/" || die "cannot copy $extra into the root"
# Every binary must find its libraries in the root.
for f in alcatraz/build/src/oci/alcatraz-oci alcatraz/build/src/vmm/alcatraz-vmm ${vfsd#/}; do
    miss=$(chroot "$root" ldd "/$f" 2>&1 | grep 'not found')
    [[ -z $miss ]] || die "/$f in the root: $miss"
done
# containerd (and so its shims, dockerd's containers and the runtimes they
# run) finds the build's files through the environment, as the installed
# alcatraz-oci needs not.
mkdir -p "$root/etc/systemd/system/containerd.service.d"
cat > "$root/etc/systemd/system/containerd.service.d/alcatraz-test.conf" <<'UNIT'
[Service]
Environment=ALCATRAZ_KERNEL=/alcatraz/build/kernel/vmlinux
Environment=ALCATRAZ_INIT=/alcatraz/build/src/guest/alcatraz-init
Environment=ALCATRAZ_VMM=/alcatraz/build/src/vmm/alcatraz-vmm
Environment=ALCATRAZ_OCI_HELPER_DIR=/alcatraz/build/src/oci/guest
Environment=ALCATRAZ_CMDLINE=nopv
UNIT
t1=$SECONDS
truncate -s 4G "$out/root.img" && mke2fs -q -F -t ext4 -d "$root" "$out/root.img" ||
    die "cannot make the root's disk image"
umount "$root"
log "time: image of the root: $((SECONDS - t1)) s ($(du -sm "$build/lab-root-containerd/root" | cut -f1) MiB)"

# 4. the lab
t1=$SECONDS
"$src/tests/lab/run" --root "$out/root.img" --memory 1536 --cpus 2 --timeout "${LAB_OCI_TIMEOUT:-900}" \
    "$in_lab"
rc=$?
log "time: lab: $((SECONDS - t1)) s, whole test $((SECONDS - t0)) s"
[[ $rc == 0 ]] || { echo "$PROG: the lab's checks failed (status $rc)"; exit 1; }
echo "$PROG: all passed"
