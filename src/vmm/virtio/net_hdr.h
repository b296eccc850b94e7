// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The header in front of every virtio-net frame (virtio 1.2, 5.1.6), as
 * the device negotiates it: VIRTIO_F_VERSION_1, so num_buffers is always
 * there (12 bytes, little-endian). The device (net.c) and the hostile test
 * guest (tests/hostile/guest/c_net.c) share it: freestanding, <stdint.h>
 * only.
 */
#ifndef ALCATRAZ_VIRTIO_NET_HDR_H
#define ALCATRAZ_VIRTIO_NET_HDR_H

#include <stdint.h>

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

#define VNET_HDR_LEN 12

/* flags */
#define VNET_F_NEEDS_CSUM 1

/* gso_type */
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP 3
#define VNET_GSO_TCPV6 4
#define VNET_GSO_ECN 0x80

_Static_assert(sizeof(struct vnet_hdr) == VNET_HDR_LEN, "virtio_net_hdr_v1 is 12 bytes");

#endif
