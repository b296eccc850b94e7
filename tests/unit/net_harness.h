/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The virtio-net unit tests' driver (net_harness.c): a fake VM with the
 * device on a socketpair standing in for the backend (passt's stream or a
 * tap's datagrams), the rings at fixed guest addresses, and the peer's end.
 * test_net.c and test_net_stream.c use it.
 */
#ifndef ALCATRAZ_TESTS_NET_HARNESS_H
#define ALCATRAZ_TESTS_NET_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm.h"
#include "virtio/net_hdr.h"
#include "virtio/virtio.h"

#define MEM (8 << 20)
#define NUM 16
#define Q_RX 0
#define Q_TX 1
#define RX_DESC 0x1000
#define RX_AVAIL 0x2000
#define RX_USED 0x3000
#define TX_DESC 0x4000
#define TX_AVAIL 0x5000
#define TX_USED 0x6000
#define RX_BUF 0x100000 /* + RX_STRIDE per descriptor */
#define RX_STRIDE 0x20000
#define TX_BUF 0x400000 /* + TX_STRIDE per descriptor */
#define TX_STRIDE 0x20000
#define R_NOTIFY 0x050
#define F_NEXT 1
#define F_WRITE 2
#define NEEDS_RESET 0x40
#define HDR VNET_HDR_LEN
#define FEAT_CSUM (1u << 0)
#define FEAT_MTU (1u << 3)
#define FEAT_MAC (1u << 5)
#define FEAT_MRG (1u << 15)
#define FRAME_MAX (14 + 4 + 65535)
#define WAIT_MS 5000

extern struct vm *vm;
extern struct virtio_dev *d;
extern int peer;         /* the backend's end of the socketpair */
extern bool stream;      /* passt's stream (else a tap's datagrams) */
extern uint16_t rx_idx, tx_idx;

/* virtio-mmio register access of the device under test. */
void wr(uint32_t off, uint32_t v);
uint32_t rd(uint32_t off);
void set_queue(uint32_t sel, uint32_t desc, uint32_t avail, uint32_t used);
/* A fake VM with the device on a socketpair (sndbuf > 0: the device's end
 * gets that SO_SNDBUF), negotiated and its queues ready. */
void start_sndbuf(enum vm_net_backend kind, uint32_t features, uint16_t mtu, int sndbuf);
void start(enum vm_net_backend kind, uint32_t features, uint16_t mtu);
/* The fixture's teardown: device, VM and peer gone. */
void teardown(void);
uint64_t now_ms(void);
/* Ring helpers at the fixed addresses above. */
void put_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
	      uint16_t next);
void make_avail(uint64_t avail, uint16_t *idx, uint16_t head);
uint16_t used_idx(uint64_t used);
uint16_t wait_used(uint64_t used, uint16_t want);
void settle(uint64_t used, uint16_t expect);
void used_elem(uint64_t used, uint16_t slot, uint32_t *id, uint32_t *len);
/* Driver and backend traffic. */
void post_rx(uint16_t i, uint32_t len);
void fill(uint8_t *p, size_t len, uint8_t seed);
void send_tx_hdr(const struct vnet_hdr *h, const uint8_t *frame, uint32_t len);
void send_tx(const uint8_t *frame, uint32_t len);
void peer_send(const uint8_t *frame, uint32_t len);
bool peer_readable(int ms);
void read_exact(void *buf, size_t len);
uint32_t peer_recv(uint8_t *buf, size_t cap);
struct vnet_hdr rx_hdr(uint16_t desc);
bool needs_reset(void);

#endif
