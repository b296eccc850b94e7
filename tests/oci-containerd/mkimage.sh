#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/oci-containerd/mkimage.sh OUTDIR
#
# The image lab-oci-containerd and lab-oci-docker run, made by hand (no
# registry): one layer (a static busybox and its applet links, /tmp, /data),
# its config (Env PATH=/bin IMAGE_VAR=from-image, Cmd sh, WorkingDir /tmp)
# and manifest, named docker.io/library/alcatraz-test:1, written to
# OUTDIR/image.tar in two layouts at once over the same blobs:
#  - an oci-layout (oci-layout, index.json, blobs/sha256/...), which
#    `ctr image import` reads;
#  - a docker-archive manifest.json ([{Config, RepoTags, Layers}] naming
#    the same blob files), which docker 20.10's `docker load` reads.
# Prints one line naming the layer and manifest digests.  Exit status 0, or
# 1 with one line saying what failed.
set -u -o pipefail
die() { echo "mkimage.sh: error: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: mkimage.sh OUTDIR"
out=$1
busybox=$(command -v busybox) || die "no busybox (Debian package busybox-static)"
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is not static (Debian package busybox-static)"
img=$out/image
rm -rf -- "$img" && mkdir -p "$img/rootfs/bin" "$img/rootfs/tmp" "$img/rootfs/data" "$img/blobs/sha256" ||
    die "cannot create $img"
cp -- "$busybox" "$img/rootfs/bin/busybox" || die "cannot copy $busybox"
for a in sh echo cat sleep true env grep id hostname ls uname wget md5sum; do ln -s busybox "$img/rootfs/bin/$a"; done
chmod 1777 "$img/rootfs/tmp"
# blob FILE: stores FILE as a blob, prints "DIGEST SIZE"
blob() {
    local d s
    d=$(sha256sum "$1" | cut -d' ' -f1) && s=$(stat -c %s "$1") &&
        mv -- "$1" "$img/blobs/sha256/$d" && echo "$d $s"
}
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$img/rootfs" -cf "$img/layer.tar" . ||
    die "cannot tar the image's layer"
read -r layer layer_size < <(blob "$img/layer.tar")
cat > "$img/config.json" <<JSON
{"architecture":"amd64","os":"linux",
 "config":{"Env":["PATH=/bin","IMAGE_VAR=from-image"],"Cmd":["sh"],"WorkingDir":"/tmp"},
 "rootfs":{"type":"layers","diff_ids":["sha256:$layer"]}}
JSON
read -r config config_size < <(blob "$img/config.json")
cat > "$img/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config","size":$config_size},
 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$layer","size":$layer_size}]}
JSON
read -r manifest manifest_size < <(blob "$img/manifest.json")
cat > "$img/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
 "manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest","size":$manifest_size,
  "platform":{"architecture":"amd64","os":"linux"},
  "annotations":{"io.containerd.image.name":"docker.io/library/alcatraz-test:1","org.opencontainers.image.ref.name":"1"}}]}
JSON
echo '{"imageLayoutVersion":"1.0.0"}' > "$img/oci-layout"
# docker load: the config and layer files by their paths in the tar.
cat > "$img/manifest.json" <<JSON
[{"Config":"blobs/sha256/$config","RepoTags":["alcatraz-test:1"],"Layers":["blobs/sha256/$layer"]}]
JSON
tar --owner=0 --group=0 --numeric-owner -C "$img" -cf "$out/image.tar" oci-layout index.json manifest.json blobs ||
    die "cannot tar the image"
echo "image: layer sha256:$layer ($layer_size bytes), manifest sha256:$manifest"
