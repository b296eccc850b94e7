#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build the AMD-V lab's QEMU: Debian's own qemu source package, the version
# of the installed qemu-system-x86, with the patches in tests/lab/qemu/
# (an interrupt injected by VMRUN was delivered twice, see tests/lab/README.md;
# TCG's virtual VMLOAD/VMSAVE was not offered in CPUID; each patch's header
# says more), only the x86_64 system emulator with TCG and the devices
# tests/lab/run uses.
#
#   tests/lab/build-qemu.sh OUTDIR        build (or reuse) OUTDIR/qemu-system-x86_64
#   tests/lab/build-qemu.sh --find DIR... print the first DIR/qemu-system-x86_64
#                                         built from the current inputs; exit 1 if none
#   tests/lab/build-qemu.sh --stamp       print the inputs' stamp
#
# The source comes from Debian's archive with `apt-get source` through a
# private apt configuration (deb-src entries made from the system's Debian
# entries, lists and cache under OUTDIR), so the system's apt setup is not
# touched and needs no deb-src line.  Firmware (qboot, linuxboot_dma.bin)
# is the installed qemu-system-data's, found through Debian's firmware path.
#
# Environment:
#   ALCATRAZ_QEMU_CACHE  a directory holding a previous OUTDIR; when its stamp
#                        matches, the binary is copied from it instead of
#                        built.  Unset: the checkout's build*/lab-qemu are tried.
#   ALCATRAZ_QEMU_NICE   niceness of the build (default 10)
#   JOBS                 parallel jobs (default 2 at most)
#
# The result is cached: when OUTDIR's stamp matches (Debian source version,
# the patches' and the device list's hashes, this script's recipe), nothing
# is done.

set -euo pipefail

die() { echo "build-qemu.sh: error: $*" >&2; exit 1; }
log() { echo "build-qemu.sh: $*" >&2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
patch_dir=$here/qemu
devices=$patch_dir/lab-devices.mak
bin=qemu-system-x86_64

# Bump when a change to this script changes what it builds.
recipe=1

source_version() {
	local v
	v=$(dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null) && [ -n "$v" ] ||
		die "qemu-system-x86 is not installed (apt-get install qemu-system-x86): its version picks the source, and its qemu-system-data the firmware"
	echo "$v"
}

stamp_of_inputs() {
	local p
	echo "debian-source qemu $(source_version)"
	for p in "$patch_dir"/*.patch; do
		echo "patch $(basename "$p") $(sha256sum <"$p" | cut -d' ' -f1)"
	done
	echo "devices $(sha256sum <"$devices" | cut -d' ' -f1)"
	echo "recipe $recipe"
}

have_binary() { # DIR
	[ -x "$1/$bin" ] && [ -f "$1/.stamp" ] && [ "$(cat "$1/.stamp")" = "$want_stamp" ]
}

case ${1:-} in
--stamp)
	stamp_of_inputs
	exit 0 ;;
--find)
	shift
	want_stamp=$(stamp_of_inputs)
	for d in "$@" ${ALCATRAZ_QEMU_CACHE:+"$ALCATRAZ_QEMU_CACHE"}; do
		if have_binary "$d"; then realpath "$d/$bin"; exit 0; fi
	done
	exit 1 ;;
-*|'')
	die "usage: $0 OUTDIR | --find DIR... | --stamp" ;;
esac
[ $# = 1 ] || die "usage: $0 OUTDIR | --find DIR... | --stamp"

for tool in apt-get dpkg-source patch gcc ninja meson pkg-config python3 strip flock; do
	command -v "$tool" >/dev/null || die "missing build tool: $tool (bash scripts/setup.sh installs what the lab's QEMU needs)"
done
[ -e /usr/include/libfdt.h ] || die "missing libfdt headers (apt-get install libfdt-dev)"
for pc in glib-2.0 pixman-1 zlib; do
	pkg-config --exists "$pc" || die "missing $pc headers (apt-get install libglib2.0-dev libpixman-1-dev zlib1g-dev)"
done

mkdir -p "$1"
outdir=$(realpath "$1")
exec 9>"$outdir/.build.lock"
flock 9 || die "cannot lock $outdir"

want_stamp=$(stamp_of_inputs)
version=$(sed -n 's/^debian-source qemu //p' <<<"$want_stamp")

if have_binary "$outdir"; then
	log "up to date: $outdir/$bin ($version + lab patches)"
	touch "$outdir/$bin"
	exit 0
fi

# Another build dir of this checkout often holds the very same binary.
if [ -n "${ALCATRAZ_QEMU_CACHE:-}" ]; then
	caches=("$ALCATRAZ_QEMU_CACHE")
else
	caches=("$here"/../../build*/lab-qemu)
fi
for cache in "${caches[@]}"; do
	[ -d "$cache" ] && [ "$(realpath -m "$cache")" != "$outdir" ] || continue
	have_binary "$cache" || continue
	log "copying from cache $(realpath "$cache")"
	cp "$cache/$bin" "$outdir/.$bin.tmp"
	mv "$outdir/.$bin.tmp" "$outdir/$bin"
	echo "$want_stamp" >"$outdir/.stamp"
	exit 0
done

# ---- the source: Debian's package, through a private apt configuration ------
apt_dir=$outdir/apt
rm -rf "$apt_dir"
mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
# deb-src twins of the system's Debian entries (deb822 .sources and one-line
# .list files); other archives are left out: they may have no sources.
python3 - "$apt_dir/parts/debian-src.sources" <<'PY'
import glob, re, sys
debian = re.compile(r'^https?://[^ ]*/debian(-security)?/?$')
out = []
for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
    for stanza in re.split(r'\n\s*\n', open(path).read()):
        fields = {}
        for line in stanza.splitlines():
            m = re.match(r'^([A-Za-z-]+):\s*(.*)$', line)
            if m:
                fields[m.group(1).lower()] = m.group(2).strip()
        if 'deb' not in fields.get('types', '').split() or fields.get('enabled', 'yes') == 'no':
            continue
        for uri in fields.get('uris', '').split():
            if debian.match(uri):
                out.append(f"Types: deb-src\nURIs: {uri}\nSuites: {fields.get('suites', '')}\n"
                           f"Components: {fields.get('components', 'main')}\n"
                           + (f"Signed-By: {fields['signed-by']}\n" if 'signed-by' in fields else ''))
for path in ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list')):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        m = re.match(r'^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*([^#]*)', line)
        if m and debian.match(m.group(1)):
            out.append(f"Types: deb-src\nURIs: {m.group(1)}\nSuites: {m.group(2)}\n"
                       f"Components: {m.group(3).strip() or 'main'}\n")
if not out:
    sys.exit("no Debian archive entry in /etc/apt/sources.list{,.d}")
open(sys.argv[1], 'w').write('\n'.join(out))
PY
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$apt_dir/parts"
          -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
          -o APT::Sandbox::User=root)
log "fetching Debian's source package qemu=$version"
apt-get -q "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1 ||
	{ tail -n 5 "$apt_dir/update.log" >&2; die "apt-get update of the deb-src entries failed"; }
dl=$outdir/dl
rm -rf "$dl"
mkdir -p "$dl"
(cd "$dl" && apt-get -q "${apt_opts[@]}" source --download-only "qemu=$version") >"$apt_dir/source.log" 2>&1 ||
	{ tail -n 5 "$apt_dir/source.log" >&2; die "apt-get source qemu=$version failed (is that version still in the archive?)"; }
src=$outdir/src
rm -rf "$src" "$outdir/obj"
# apt checked the files against the archive's signed index; dpkg-source
# cannot check the .dsc's own signature without debian-keyring (a warning).
dpkg-source -x "$dl"/qemu_*.dsc "$src" >"$outdir/unpack.log" 2>&1 ||
	{ tail -n 5 "$outdir/unpack.log" >&2; die "dpkg-source -x failed"; }
for p in "$patch_dir"/*.patch; do
	log "applying $(basename "$p")"
	patch -d "$src" -p1 --forward --quiet <"$p" || die "$(basename "$p") does not apply to qemu $version"
done
cp "$devices" "$src/configs/devices/x86_64-softmmu/lab.mak"

# ---- configure and build -------------------------------------------------------
# The x86_64 system emulator alone, TCG, no optional library (no GUI, audio,
# network backends, block protocols, ...), the devices of lab-devices.mak.
obj=$outdir/obj
mkdir -p "$obj"
log "configuring in $obj"
# Debian's python3 and meson (a python3 earlier in PATH may lack modules).
export PATH=/usr/bin:$PATH
(cd "$obj" && "$src/configure" \
	--with-git-submodules=ignore \
	--with-pkgversion="Debian $version + alcatraz lab patches" \
	--target-list=x86_64-softmmu \
	--without-default-features \
	--without-default-devices --with-devices-x86_64=lab \
	--enable-tcg --disable-kvm --disable-xen --enable-fdt=system \
	--disable-user --disable-docs --disable-tools --disable-guest-agent \
	--disable-debug-info --disable-install-blobs --audio-drv-list= \
	--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu) \
	>"$outdir/configure.log" 2>&1 ||
	{ tail -n 20 "$outdir/configure.log" >&2; die "configure failed (log: $outdir/configure.log)"; }
jobs=${JOBS:-$(nproc)}
((jobs > 2)) && jobs=2
log "building $bin with $jobs jobs at nice ${ALCATRAZ_QEMU_NICE:-10} ($(ninja -C "$obj" -n "$bin" | grep -c '^\[') steps)"
start=$SECONDS
nice -n "${ALCATRAZ_QEMU_NICE:-10}" ninja -C "$obj" -j "$jobs" "$bin" >"$outdir/build.log" 2>&1 ||
	{ tail -n 20 "$outdir/build.log" >&2; die "build failed (log: $outdir/build.log)"; }
strip -o "$outdir/.$bin.tmp" "$obj/$bin"
mv "$outdir/.$bin.tmp" "$outdir/$bin"
echo "$want_stamp" >"$outdir/.stamp"
log "built $outdir/$bin in $((SECONDS - start)) s"
# The source and object trees are about 1 GiB; the binary is all the lab needs.
rm -rf "$src" "$obj" "$dl" "$apt_dir/lists" "$apt_dir/cache" "$outdir"/qemu_*	# dpkg-source links the tarball here
