#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/package/lab-install.sh SRCDIR BUILDDIR   (meson test lab-install)
#
# The Debian packages end to end:
#  1. the .debs (build-debs.sh: dpkg-buildpackage from a copy of SRCDIR,
#     the guest kernel copied from BUILDDIR/kernel; reused when unchanged);
#  2. the lab's debootstrapped Debian 12 root (tests/lab/mkroot-debian.sh,
#     cached in BUILDDIR/lab-root), copied for this test;
#  3. in that root (chroot), which has the lab kernel's linux-image and
#     linux-headers from Debian's archive: the .debs installed with apt
#     (apt-get install /path/x.deb, without Recommends),
#     which builds hyperbox.ko with DKMS for the lab's kernel; DKMS's
#     answers to a kernel without headers and to an unsupported kernel;
#  4. the lab booted from that root (tests/lab/run --root: the root's own
#     systemd, nothing loaded by the test): in-lab.sh checks that Hyper-box
#     was loaded at boot before kvm_amd and cannot be unloaded, that
#     /usr/bin/alcatraz-run -- echo ok works on the installed guest kernel
#     and reports the VM protected, and that alcatraz-run --check exits 0;
#  5. the packages purged (and what apt pulled in for them autoremoved):
#     every file of the root is as before the install, the module gone from
#     /lib/modules and /var/lib/dkms.
# Prints the time of each step.  Exit 0 when every check passed.
set -u -o pipefail
PROG=lab-install
die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*"; }
fail=0
check() { # description command...
    local d=$1; shift
    if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi
}
step_t0=$SECONDS
step_done() { log "time: $1: $((SECONDS - step_t0)) s"; step_t0=$SECONDS; }

[[ $# -eq 2 ]] || die "usage: lab-install.sh SRCDIR BUILDDIR"
src=$(cd -- "$1" && pwd) || die "no source dir $1"
build=$(cd -- "$2" && pwd) || die "no build dir $2"
[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, chroot, apt)"
for t in dpkg-buildpackage:dpkg-dev dh:debhelper dh_dkms:dh-dkms debootstrap:debootstrap mke2fs:e2fsprogs; do
    command -v "${t%%:*}" >/dev/null || die "${t%%:*} not found: apt-get install ${t#*:}"
done
here=$src/tests/package
lab=$src/tests/lab
out=$build/tests/package
mkdir -p "$out" || die "cannot create $out"
kver=
for k in /boot/vmlinuz-*-cloud-amd64; do [[ -e $k ]] && kver=${k#/boot/vmlinuz-}; done
[[ -n $kver ]] || die "no lab kernel (/boot/vmlinuz-*-cloud-amd64): apt-get install linux-image-cloud-amd64"
export ALCATRAZ_LAB_KERNEL_VERSION=$kver
t_start=$SECONDS

# 1. the packages
"$here/build-debs.sh" "$src" "$out/debs" "$build/kernel" || die "building the .debs failed"
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
debs=("$out/debs/libalcatraz0_${version}_amd64.deb" "$out/debs/libalcatraz-dev_${version}_amd64.deb"
      "$out/debs/alcatraz_${version}_amd64.deb" "$out/debs/hyperbox-dkms_${version}_all.deb")
step_done "debs"

# 2. the root
"$lab/mkroot-debian.sh" "$build/lab-root" || die "making the Debian root failed"
step_done "debootstrapped root"
# This test's root: an overlay on the cached one, which stays pristine.
ovl=$out/overlay
root=$ovl/root
umount "$root" 2>/dev/null
rm -rf -- "$ovl" "$out/root.img"
mkdir -p "$ovl"/{upper,work,root} &&
    mount -t overlay overlay -o "lowerdir=$build/lab-root/root,upperdir=$ovl/upper,workdir=$ovl/work" "$root" ||
    die "cannot mount an overlay on $build/lab-root/root"
trap 'umount -l "$root" 2>/dev/null' EXIT
inroot() { "$lab/chroot-debian.sh" "$root" --cache "$build/lab-root/debs" "$@"; }
step_done "overlay root"

# 3. the packages, with apt (the root already has linux-headers-$kver)

# The cached root may be older than the archive: upgraded first, so that the
# install below upgrades nothing the purge would not take back.
inroot sh -c 'apt-get update -q && apt-get dist-upgrade -y -q' > "$out/upgrade.log" 2>&1 ||
    die "apt-get dist-upgrade in the root failed (see $out/upgrade.log)"
step_done "apt-get dist-upgrade of the root"

# What the root holds before: every path with its type and mode, and every
# regular file's hash, apart from the package manager's own state and logs
# (and the hash of files regenerated whole by triggers: Debian's initramfs,
# ldconfig's cache).
snapshot() {
    (cd "$root" && find . \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp \
        -o -path ./var/tmp -o -path ./var/cache/apt -o -path ./var/cache/debconf -o -path ./var/lib/apt \
        -o -path ./var/lib/dpkg -o -path ./var/log \) -prune -o -printf '%p %y %m\n' | LC_ALL=C sort
     find . \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp \
        -o -path ./var/tmp -o -path ./var/cache/apt -o -path ./var/cache/debconf -o -path ./var/lib/apt \
        -o -path ./var/lib/dpkg -o -path ./var/log -o -path ./var/cache/ldconfig \
        -o -path './boot/initrd.img-*' \) -prune -o -type f -print0 |
        LC_ALL=C sort -z | xargs -0 sha256sum)
}
snapshot > "$out/before.txt" || die "cannot list the root's files"
packages() { chroot "$root" dpkg-query -W -f '${Package}\n' | LC_ALL=C sort; }
packages > "$out/packages-before.txt" || die "cannot list the root's packages"

mkdir -p "$root/var/tmp/alcatraz-debs" && cp -- "${debs[@]}" "$root/var/tmp/alcatraz-debs/" ||
    die "cannot copy the .debs into the root"
names=()
for d in "${debs[@]}"; do names+=("/var/tmp/alcatraz-debs/${d##*/}"); done
# Without Recommends: dkms recommends linux-headers-amd64 (for a kernel the
# lab does not boot), sudo and build-essential, which apt's autoremove would
# then keep after the purge.
inroot sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends "$@"' sh "${names[@]}" \
    > "$out/install.log" 2>&1
rc=$?
sed 's/^/  apt: /' "$out/install.log" | grep -iE 'dkms|hyperbox|error|warn|building|module' | head -40
check "apt-get install of the four .debs (status $rc)" test "$rc" = 0
rm -rf -- "$root/var/tmp/alcatraz-debs"
packages | LC_ALL=C comm -13 "$out/packages-before.txt" - > "$out/packages-added.txt"
echo "  apt installed $(wc -l < "$out/packages-added.txt") packages: $(tr '\n' ' ' < "$out/packages-added.txt")"
step_done "apt-get install of the .debs (DKMS build included)"
[[ $rc == 0 ]] || { echo "$PROG: $fail failed"; exit 1; }

ko=$root/lib/modules/$kver/updates/dkms/hyperbox.ko
check "DKMS built hyperbox.ko for the lab's kernel $kver" test -f "$ko"
dkms_status=$(inroot dkms status hyperbox 2>&1)
echo "  dkms status: $dkms_status"
check "dkms status: installed for $kver" grep -q "hyperbox/$version, $kver, x86_64: installed" <<<"$dkms_status"
check "depmod knows it" grep -q "^updates/dkms/hyperbox.ko:" "$root/lib/modules/$kver/modules.dep"
check "/etc/modprobe.d/hyperbox.conf orders it before kvm_amd" \
    grep -qx "softdep kvm_amd pre: hyperbox" "$root/etc/modprobe.d/hyperbox.conf"
check "/usr/lib/modules-load.d/hyperbox.conf loads it at boot" \
    grep -qx hyperbox "$root/usr/lib/modules-load.d/hyperbox.conf"

# Bad input: a kernel whose headers are absent, a kernel too old.
nohdr=$(inroot dkms build -m hyperbox -v "$version" -k 6.1.0-0-nohdr-amd64 2>&1)
grep -iE 'error|linux-headers' <<<"$nohdr" | sed 's/^/  dkms, no headers: /'
check "without headers, DKMS names the package to install" \
    grep -q "linux-headers-6.1.0-0-nohdr-amd64" <<<"$nohdr"
old=$(inroot dkms build -m hyperbox -v "$version" -k 5.10.0-30-amd64 2>&1)
grep -iE 'error' <<<"$old" | sed 's/^/  dkms, Linux 5.10: /'
check "DKMS refuses Linux 5.10 (BUILD_EXCLUSIVE)" grep -qi "BUILD_EXCLUSIVE\|not supported\|does not match" <<<"$old"
step_done "DKMS checks"

# 4. the lab, booted from the root
t0=$SECONDS
truncate -s 4G "$out/root.img" && mke2fs -q -F -t ext4 -d "$root" "$out/root.img" ||
    die "cannot make the root's disk image $out/root.img"
step_done "ext4 image of the root ($(du -sm "$root" | cut -f1) MiB)"
"$lab/run" --root "$out/root.img" --memory 1024 --timeout 900 "$here/in-lab.sh"
rc=$?
rm -f -- "$out/root.img"
check "in the lab booted from the root: every check passed (status $rc)" test "$rc" = 0
step_done "lab boot and checks"

# 5. purge: the four packages, then what apt pulled in for them (autoremove
# keeps those that another package recommends, e.g. busybox-static for
# initramfs-tools: purged by name then).
inroot sh -c 'apt-get purge -y -q alcatraz libalcatraz-dev libalcatraz0 hyperbox-dkms &&
              apt-get autoremove --purge -y -q' > "$out/purge.log" 2>&1
rc=$?
check "apt-get purge of the four packages, autoremove of their dependencies (status $rc)" test "$rc" = 0
left=$(packages | LC_ALL=C comm -12 "$out/packages-added.txt" -)
if [[ -n $left ]]; then
    # shellcheck disable=SC2086
    inroot apt-get purge -y -q $left >> "$out/purge.log" 2>&1
    check "apt-get purge of the dependencies autoremove kept: $(echo $left)" test $? = 0
fi
for p in libalcatraz0 libalcatraz-dev alcatraz hyperbox-dkms; do
    check "dpkg knows no $p any more" sh -c "! chroot '$root' dpkg -L $p >/dev/null 2>&1"
done
check "no hyperbox.ko left under /lib/modules" \
    test -z "$(find "$root/lib/modules" -name 'hyperbox.ko*' 2>/dev/null)"
check "no hyperbox left in /var/lib/dkms" test ! -e "$root/var/lib/dkms/hyperbox"
snapshot > "$out/after.txt"
diff -u "$out/before.txt" "$out/after.txt" > "$out/purge.diff"
check "the root holds exactly what it held before the install (diff: $out/purge.diff)" \
    test ! -s "$out/purge.diff"
head -n 40 "$out/purge.diff"
step_done "purge and compare"

log "whole test $((SECONDS - t_start)) s"
echo "$PROG: $fail failed"
[[ $fail == 0 ]]
