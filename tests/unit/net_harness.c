// SPDX-License-Identifier: LGPL-2.1-or-later
/* The virtio-net unit tests' driver: see net_harness.h. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"
#include "fake_vm.h"
#include "net_harness.h"

struct vm *vm;
struct virtio_dev *d;
int peer = -1;
bool stream;
uint16_t rx_idx, tx_idx;

void wr(uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

uint32_t rd(uint32_t off)
{
	uint32_t v;
	virtio_mmio_ops.read(d, off, &v, 4);
	return v;
}

void set_queue(uint32_t sel, uint32_t desc, uint32_t avail, uint32_t used)
{
	wr(R_QUEUE_SEL, sel);
	wr(R_QUEUE_NUM, NUM);
	wr(R_DESC, desc);
	wr(R_DRIVER, avail);
	wr(R_DEVICE, used);
	wr(R_QUEUE_READY, 1);
}

/* A VM with virtio-net on one end of a socketpair, the driver set up with
 * `features` (low word) and the device thread running; the device's end of
 * the socket with SO_SNDBUF sndbuf unless 0. */
void start_sndbuf(enum vm_net_backend kind, uint32_t features, uint16_t mtu, int sndbuf)
{
	int sv[2];

	stream = kind == NET_BACKEND_STREAM;
	ck_assert_int_eq(socketpair(AF_UNIX, (stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC,
				    0, sv), 0);
	if (sndbuf)
		ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)),
				 0);
	vm = fake_vm_new(MEM);
	vm->cfg.net_backend = kind;
	vm->cfg.net_fd = sv[0];
	vm->cfg.net_mtu = mtu;
	memcpy(vm->cfg.net_mac, "\x02\x00\x00\x00\x00\x01", 6);
	peer = sv[1];
	ck_assert_int_eq(virtio_net_init(vm), 0);
	ck_assert_int_eq(vm->cfg.net_fd, -1); /* taken over */
	d = vm->virtio[vm->nr_virtio - 1];
	wr(R_STATUS, ACK);
	wr(R_STATUS, ACK | DRV);
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, features);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1); /* VIRTIO_F_VERSION_1 */
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	ck_assert_uint_eq(rd(R_STATUS) & FEAT_OK, FEAT_OK);
	set_queue(Q_RX, RX_DESC, RX_AVAIL, RX_USED);
	set_queue(Q_TX, TX_DESC, TX_AVAIL, TX_USED);
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert(virtio_dev_live(d));
	rx_idx = tx_idx = 0;
	ck_assert_int_eq(evloop_start(vm->evloop), 0);
}

void start(enum vm_net_backend kind, uint32_t features, uint16_t mtu)
{
	start_sndbuf(kind, features, mtu, 0);
}

void teardown(void)
{
	if (vm)
		fake_vm_free(vm);
	vm = NULL;
	if (peer >= 0)
		close(peer);
	peer = -1;
}

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void put_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t b[16];
	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &flags, 2);
	memcpy(b + 14, &next, 2);
	ck_assert_int_eq(gmem_write(&vm->mem, table + 16ULL * i, b, 16), 0);
}

void make_avail(uint64_t avail, uint16_t *idx, uint16_t head)
{
	ck_assert_int_eq(gmem_write(&vm->mem, avail + 4 + 2 * (*idx % NUM), &head, 2), 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	(*idx)++;
	ck_assert_int_eq(gmem_write(&vm->mem, avail + 2, idx, 2), 0);
}

uint16_t used_idx(uint64_t used)
{
	uint16_t idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ck_assert_int_eq(gmem_read(&vm->mem, used + 2, &idx, 2), 0);
	return idx;
}

/* Waits for the used index to reach want; returns what it is then. */
uint16_t wait_used(uint64_t used, uint16_t want)
{
	uint64_t end = now_ms() + WAIT_MS;
	uint16_t idx;

	while ((idx = used_idx(used)) != want && now_ms() < end)
		usleep(1000);
	return idx;
}

/* Lets the device thread run a while and checks the index did not move. */
void settle(uint64_t used, uint16_t expect)
{
	usleep(100 * 1000);
	ck_assert_uint_eq(used_idx(used), expect);
}

void used_elem(uint64_t used, uint16_t slot, uint32_t *id, uint32_t *len)
{
	ck_assert_int_eq(gmem_read(&vm->mem, used + 4 + 8ULL * (slot % NUM), id, 4), 0);
	ck_assert_int_eq(gmem_read(&vm->mem, used + 8 + 8ULL * (slot % NUM), len, 4), 0);
}

/* Receive buffer in descriptor i, one writable descriptor of len bytes. */
void post_rx(uint16_t i, uint32_t len)
{
	put_desc(RX_DESC, i, RX_BUF + (uint64_t)RX_STRIDE * i, len, F_WRITE, 0);
	make_avail(RX_AVAIL, &rx_idx, i);
	wr(R_NOTIFY, Q_RX);
}

void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* A frame from the guest: header h, then the frame, in one descriptor. */
void send_tx_hdr(const struct vnet_hdr *h, const uint8_t *frame, uint32_t len)
{
	uint16_t i = tx_idx % NUM;
	uint64_t at = TX_BUF + (uint64_t)TX_STRIDE * i;

	ck_assert_int_eq(gmem_write(&vm->mem, at, h, HDR), 0);
	if (len)
		ck_assert_int_eq(gmem_write(&vm->mem, at + HDR, frame, len), 0);
	put_desc(TX_DESC, i, at, HDR + len, 0, 0);
	make_avail(TX_AVAIL, &tx_idx, i);
	wr(R_NOTIFY, Q_TX);
}

void send_tx(const uint8_t *frame, uint32_t len)
{
	struct vnet_hdr h = { 0 };
	send_tx_hdr(&h, frame, len);
}

/* A frame from the backend. */
void peer_send(const uint8_t *frame, uint32_t len)
{
	if (stream) {
		uint32_t be = htonl(len);
		ck_assert_int_eq(write(peer, &be, 4), 4);
	}
	ck_assert_int_eq(write(peer, frame, len), (ssize_t)len);
}

bool peer_readable(int ms)
{
	struct pollfd p = { .fd = peer, .events = POLLIN };
	return poll(&p, 1, ms) == 1;
}

void read_exact(void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ck_assert(peer_readable(WAIT_MS));
		ssize_t r = read(peer, (uint8_t *)buf + got, len - got);
		ck_assert_int_gt(r, 0);
		got += (size_t)r;
	}
}

/* The next frame the backend received; returns its length. */
uint32_t peer_recv(uint8_t *buf, size_t cap)
{
	if (stream) {
		uint32_t be, len;
		read_exact(&be, 4);
		len = ntohl(be);
		ck_assert_uint_le(len, cap);
		read_exact(buf, len);
		return len;
	}
	ck_assert(peer_readable(WAIT_MS));
	ssize_t r = read(peer, buf, cap);
	ck_assert_int_gt(r, 0);
	return (uint32_t)r;
}

struct vnet_hdr rx_hdr(uint16_t desc)
{
	struct vnet_hdr h;
	ck_assert_int_eq(gmem_read(&vm->mem, RX_BUF + (uint64_t)RX_STRIDE * desc, &h, HDR), 0);
	return h;
}

bool needs_reset(void)
{
	return rd(R_STATUS) & NEEDS_RESET;
}

/* ------------------------------------------------------------- tests */
