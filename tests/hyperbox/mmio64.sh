#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test (with --device virtio-rng-pci): a PCI device whose 64-bit BAR is
# above RAM and 4 GiB keeps working once Hyper-box runs: L1's nested page
# table maps device memory beyond "RAM + below 4 GiB".  Argument "1g": the
# lab's CPU must have 1 GiB pages (the other way the table maps it).
# Exit 0 pass, 1 fail.
M=/alcatraz/modules
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
# 64 bytes from the virtio RNG: each read notifies the device through its BAR.
# Bounded: after an oops in a read the next one waits for a mutex forever.
rng_ok() {
	n=$(timeout 20 head -c 64 /dev/hwrng 2>/dev/null | wc -c)
	[ "$n" = 64 ]
}
# "1g": the CPU must offer 1 GiB pages, so that the 1 GiB leaves are what is tested.
if grep -qw pdpe1gb /proc/cpuinfo; then
	echo "CPU has 1 GiB pages: the nested table maps device memory in 1 GiB leaves"
elif [ "$1" = 1g ]; then
	echo "FAIL: no pdpe1gb in /proc/cpuinfo (ALCATRAZ_LAB_CPU_FLAGS=,+pdpe1gb expected)"
	exit 1
else
	echo "CPU has no 1 GiB pages: the nested table maps device memory in 2 MiB leaves"
fi
while read -r m; do
	insmod /lib/modules/lab/$m.ko || { echo "FAIL: insmod $m"; exit 1; }
done < /alcatraz/lab/device-modules
grep virtio /proc/iomem
# The modern device's BAR (virtio-pci-modern) must lie above 4 GiB, else the test proves nothing.
bar=$(grep -m1 'virtio-pci-modern' /proc/iomem | sed 's/^ *//; s/-.*//')
check "virtio-rng's modern BAR ($bar) is above 4 GiB" sh -c "[ -n '$bar' ] && [ \$((0x$bar)) -ge \$((0x100000000)) ]"
check "current rng is virtio" grep -q virtio /sys/class/misc/hw_random/rng_current
check "64 bytes from /dev/hwrng without Hyper-box" rng_ok
insmod $M/hyperbox.ko
check "insmod hyperbox" test $? = 0
check "dmesg: Ring -1 active" sh -c 'dmesg | grep -q "hyperbox: Ring -1 active"'
i=0
while [ $i -lt 4 ]; do
	check "64 bytes from /dev/hwrng on Hyper-box (read $i)" rng_ok
	i=$((i + 1))
done
check "no oops or BUG in the kernel log" sh -c '! dmesg | grep -E "Oops|BUG:|general protection|unable to handle"'
check "Hyper-box denied nothing" sh -c '! dmesg | grep "hyperbox: .*denied"'
check "no violations counted" sh -c \
	'! grep -v "^text_poke_allowed" /sys/kernel/hyperbox/violations | grep -qv " 0$"'
echo "hyperbox-mmio64: $fail failed"
[ $fail = 0 ]
