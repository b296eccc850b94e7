#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/oci-docker/run.sh SRCDIR BUILDDIR   (meson test lab-oci-docker)
#
# alcatraz-oci as a Docker runtime (issue 19, item 3), one lab boot:
#  1. the Debian 12 root lab-oci-containerd boots, which also has Debian's
#     docker.io (tests/oci-containerd/mkroot-containerd.sh, cached in
#     BUILDDIR/lab-root-containerd);
#  2. lab-oci-containerd's hand-made image (tests/oci-containerd/mkimage.sh),
#     whose tar is also a docker-archive for `docker load`: no registry;
#  3. an overlay on the cached root with the build's alcatraz-oci, VMM,
#     guest kernel and init, Debian's virtiofsd, the image, dockerd's
#     daemon.json (the runtime "alcatraz") and in-lab.sh, made into an ext4
#     image, and the lab booted from it (tests/lab/run --root): containerd
#     starts from its own systemd unit, in-lab.sh starts dockerd on it.
# in-lab.sh does the checks (see there).  Exit 0 when all passed.
set -u -o pipefail
PROG=lab-oci-docker
die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*"; }
[[ $# -eq 2 ]] || die "usage: run.sh SRCDIR BUILDDIR"
src=$(cd -- "$1" && pwd) || die "no source dir $1"
build=$(cd -- "$2" && pwd) || die "no build dir $2"
[[ $(id -u) == 0 ]] || die "must run as root (chroot, apt, mount)"
here=$src/tests/oci-docker
shared=$src/tests/oci-containerd
vfsd=/usr/lib/qemu/virtiofsd
[[ -x $vfsd ]] || die "no $vfsd (Debian package qemu-system-common)"
files=(src/oci/alcatraz-oci src/oci/guest/alcatraz-oci-pause src/vmm/alcatraz-vmm
       src/guest/alcatraz-init kernel/vmlinux)
for f in "${files[@]}"; do
    [[ -e $build/$f ]] || die "no $build/$f"
done
out=$build/tests/oci-docker
mkdir -p "$out" || die "cannot create $out"
t0=$SECONDS

# 1. the root (shared with lab-oci-containerd)
"$shared/mkroot-containerd.sh" "$build" || die "making the containerd root failed"
log "time: root: $((SECONDS - t0)) s"

# 2. the image (shared with lab-oci-containerd)
"$shared/mkimage.sh" "$out" | sed "s/^/$PROG: /" || die "making the image failed"

# 3. this test's root: an overlay on the cached one, which stays pristine
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
for f in alcatraz/build/src/oci/alcatraz-oci alcatraz/build/src/vmm/alcatraz-vmm ${vfsd#/}; do
    miss=$(chroot "$root" ldd "/$f" 2>&1 | grep 'not found')
    [[ -z $miss ]] || die "/$f in the root: $miss"
done
# dockerd runs its containers through containerd's runc shim, which runs
# the runtime with containerd's environment: the build's files reach
# alcatraz-oci from there, as the installed alcatraz-oci needs not.
mkdir -p "$root/etc/systemd/system/containerd.service.d"
cat > "$root/etc/systemd/system/containerd.service.d/alcatraz-test.conf" <<'UNIT'
[Service]
Environment=ALCATRAZ_KERNEL=/alcatraz/build/kernel/vmlinux
Environment=ALCATRAZ_INIT=/alcatraz/build/src/guest/alcatraz-init
Environment=ALCATRAZ_VMM=/alcatraz/build/src/vmm/alcatraz-vmm
Environment=ALCATRAZ_OCI_HELPER_DIR=/alcatraz/build/src/oci/guest
Environment=ALCATRAZ_CMDLINE=nopv
UNIT
# The runtime "alcatraz" (README's snippet, with the build's binary).
mkdir -p "$root/etc/docker"
cat > "$root/etc/docker/daemon.json" <<'JSON'
{
    "runtimes": {
        "alcatraz": { "path": "/alcatraz/build/src/oci/alcatraz-oci" }
    }
}
JSON
t1=$SECONDS
truncate -s 4G "$out/root.img" && mke2fs -q -F -t ext4 -d "$root" "$out/root.img" ||
    die "cannot make the root's disk image"
umount "$root"
log "time: image of the root: $((SECONDS - t1)) s ($(du -sm "$build/lab-root-containerd/root" | cut -f1) MiB)"

# 4. the lab
t1=$SECONDS
"$src/tests/lab/run" --root "$out/root.img" --memory 1536 --cpus 2 --timeout "${LAB_OCI_TIMEOUT:-900}" \
    "$here/in-lab.sh"
rc=$?
log "time: lab: $((SECONDS - t1)) s, whole test $((SECONDS - t0)) s"
[[ $rc == 0 ]] || { echo "$PROG: the lab's checks failed (status $rc)"; exit 1; }
echo "$PROG: all passed"
