#!/bin/busybox sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# /init of the lab's initramfs with `tests/lab/run --root IMAGE`: mounts
# IMAGE (the virtio disk /dev/vda, ext4), installs a oneshot unit that runs
# the lab's SCRIPT once the root's own systemd has finished booting
# (multi-user.target), and hands over to the root's /sbin/init.  Writes
# to the image are QEMU's throwaway snapshot.  Same status channel as
# tests/lab/init: "start UPTIME", "exit N", "error TEXT" on ttyS1.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

lab_error() {
    echo "lab: error: $*"
    echo "error $*" > /dev/ttyS1
    poweroff -f
    sleep 5
}

for m in $(cat /alcatraz/lab/root-modules); do
    insmod "/lib/modules/lab/$m.ko" || lab_error "insmod $m failed"
done
n=0
while [ ! -b /dev/vda ]; do
    n=$((n + 1))
    [ $n -le 100 ] || lab_error "no root disk /dev/vda after 10 s"
    sleep 0.1
done
mkdir -p /newroot
mount -t ext4 -o rw /dev/vda /newroot || lab_error "cannot mount the root disk /dev/vda (ext4)"
chroot /newroot /usr/bin/test -x /sbin/init || lab_error "the root disk has no /sbin/init"

l=/newroot/alcatraz-lab
rm -rf "$l"
mkdir -p "$l" || lab_error "cannot write to the root disk"
cp -a /alcatraz/script /alcatraz/lab/config "$l/" 2>/dev/null
cat > "$l/run" <<'EOF'
#!/bin/sh
# Runs the lab's SCRIPT (tests/lab/init-root.sh wrote this), then powers off.
status() { echo "$*" > /dev/ttyS1; }
. /alcatraz-lab/config
export HOME=/root TMPDIR=/tmp ALCATRAZ_LAB=1
cd /alcatraz-lab
stty -onlcr < /dev/ttyS0 2>/dev/null
status "start $(cut -d' ' -f1 /proc/uptime)"
rc=0
if [ -n "$LAB_SCRIPT" ]; then
    s=/alcatraz-lab/script/${LAB_SCRIPT##*/}
    if [ "$(head -c 4 "$s")" = "$(printf '\177ELF')" ]; then
        "$s" "$@" < /dev/null
    else
        sh "$s" "$@" < /dev/null
    fi
    rc=$?
fi
stty -onlcr < /dev/ttyS0 2>/dev/null
status "exit $rc"
sync
echo 0 > /proc/sys/kernel/printk
systemctl poweroff --force --force
EOF
chmod 755 "$l/run"
u=/newroot/etc/systemd/system
mkdir -p "$u/multi-user.target.wants"
cat > "$u/alcatraz-lab.service" <<'EOF'
[Unit]
Description=The lab's test script (tests/lab/run --root)
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/alcatraz-lab/run
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
EOF
ln -sf ../alcatraz-lab.service "$u/multi-user.target.wants/alcatraz-lab.service"
# The console is the test's output: no login prompt on it.
ln -sf /dev/null "$u/serial-getty@ttyS0.service"
ln -sf /dev/null "$u/getty@tty1.service"

umount /proc /sys
umount /dev
exec switch_root /newroot /sbin/init
