# SPDX-License-Identifier: LGPL-2.1-or-later
# The devices of the lab's QEMU (tests/lab/build-qemu.sh configures it with
# --without-default-devices): what tests/lab/run's command line uses and no
# more.  The pc machine (i440fx) selects its own chipset, PIC, PIT, RTC,
# IOAPIC, fw_cfg and ISA bus; the rest is named here.
CONFIG_I440FX=y
CONFIG_HPET=y
CONFIG_SERIAL_ISA=y
# --device virtio-rng-pci, --root's virtio-blk-pci
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_RNG=y
CONFIG_VIRTIO_BLK=y
