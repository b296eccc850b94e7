#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --no-kvm, --module, --add and script arguments, checked in one lab boot with
# a stock module of the lab kernel (dummy.ko).
set -u
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
mod=
for k in /boot/vmlinuz-*-cloud-amd64; do
    v=${k#/boot/vmlinuz-}
    for f in /lib/modules/"$v"/kernel/drivers/net/dummy.ko{,.xz,.zst,.gz}; do
        [[ -r $f ]] && mod=$f
    done
done
[[ -n $mod ]] || { echo "check-files: no dummy.ko of the lab kernel: install the Debian package linux-image-cloud-amd64"; exit 1; }
exec "$here/check-run" --status 0 --stdout '^files: 0 failed' -- \
    "$here/run" --no-build --no-kvm --timeout 120 --module "$mod" \
    --add "$here/tests/add-marker.txt:/alcatraz/add/marker" \
    "$here/tests/files.sh" dummy /alcatraz/add/marker "two words'q"
