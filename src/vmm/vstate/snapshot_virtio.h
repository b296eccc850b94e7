/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A virtio-mmio device's state in a snapshot (issue 18): one SNAP_SEC_DEVICE
 * section per device, instance SNAP_DEV_VIRTIO(index in vm->virtio). The
 * transport's registers and queues, then the device's own state, which its
 * virtio_dev_ops save/restore write and check.
 *
 * Layout, little-endian (SNAP_VIRTIO_VERSION 1):
 *   u32 version, u32 device ID, u32 queues, u32 status,
 *   u64 offered features, u64 driver features,
 *   u32 interrupt status, u32 config generation,
 *   u32 queue select, u32 device features select, u32 driver features select,
 *   u32 length of the device's own state
 *   per queue: u64 desc, u64 driver (avail), u64 device (used),
 *              u16 size, u16 next avail index, u16 used index, u8 ready, u8 0
 *   the device's own state
 *
 * The section is hostile input: snap_virtio_parse checks every field alone
 * and the whole length; snap_virtio_apply then checks it against the device
 * this VM has (same ID, queue count and offered features: the same
 * configuration) and the rings against this VM's RAM before any of it
 * reaches the device.
 */
#ifndef ALCATRAZ_SNAPSHOT_VIRTIO_H
#define ALCATRAZ_SNAPSHOT_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio.h"

#define SNAP_DEV_SERIAL 0
#define SNAP_DEV_VIRTIO(i) (1u + (i))
#define SNAP_VIRTIO_VERSION 1
#define SNAP_VIRTIO_HDR 56
#define SNAP_VIRTIO_QUEUE 32
/* Far above what any device here keeps (vsock's: 64 bytes). */
#define SNAP_VIRTIO_MAX_OWN 1024
#define SNAP_VIRTIO_MAX \
	(SNAP_VIRTIO_HDR + VIRTIO_MAX_QUEUES * SNAP_VIRTIO_QUEUE + SNAP_VIRTIO_MAX_OWN)

struct snap_virtq {
	uint64_t desc, avail, used;
	uint16_t num, last_avail, used_idx;
	bool ready;
};

struct snap_virtio {
	uint32_t device_id, nr_queues, status;
	uint64_t features, driver_features;
	uint32_t isr, config_gen, queue_sel, dev_feat_sel, drv_feat_sel;
	struct snap_virtq q[VIRTIO_MAX_QUEUES];
	const uint8_t *own;        /* into the parsed buffer */
	uint32_t own_len;
};

/* Writes device d's section into buf (SNAP_VIRTIO_MAX bytes); the length,
 * or a negative errno with *why (-ENOTSUP: a device snapshots cannot hold;
 * -EBUSY: it is in the middle of something). Device lock held. */
int snap_virtio_save(struct virtio_dev *d, uint8_t *buf, const char **why);
/* Checks a section on its own. 0, or -EINVAL / -EPROTONOSUPPORT with *why. */
int snap_virtio_parse(const uint8_t *buf, size_t len, struct snap_virtio *s, const char **why);
/* Checks s against device d and d's VM, then sets d from it; on a refusal
 * d is unchanged. Device lock held. */
int snap_virtio_apply(struct virtio_dev *d, const struct snap_virtio *s, const char **why);
/* The device ID a section names (unchecked: only to word a refusal), 0 when
 * it is too short to name one. */
#define SNAP_VIRTIO_ID_NET 1u
uint32_t snap_virtio_device_id(const uint8_t *buf, size_t len);

#endif /* ALCATRAZ_SNAPSHOT_VIRTIO_H */
