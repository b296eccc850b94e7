// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: virtio-net moves frames both ways between a driver and a
 * socketpair standing in for the backend (passt's length-prefixed stream,
 * or a datagram socket for a tap's frame-per-call), merges receive buffers
 * and publishes them together, waits for buffers instead of losing a frame,
 * completes partial checksums, and answers a hostile driver or backend
 * (short chains, readable or tiny receive buffers, frames too short or too
 * long, headers asking for what was not negotiated, lengths out of range in
 * the stream) by dropping the frame or stopping the device, never more.
 * The device thread runs, as in a VM: everything goes through it.
 */
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

#include "check_main.h"
#include "evloop.h"
#include "fake_vm.h"
#include "virtio/virtio.h"
#include "vmm.h"

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
#define HDR 12
#define FEAT_CSUM (1u << 0)
#define FEAT_MTU (1u << 3)
#define FEAT_MAC (1u << 5)
#define FEAT_MRG (1u << 15)
#define FRAME_MAX (14 + 4 + 65535)
#define WAIT_MS 5000

struct net_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
} __attribute__((packed));

static struct vm *vm;
static struct virtio_dev *d;
static int peer = -1;
static bool stream;
static uint16_t rx_idx, tx_idx;

static void wr(uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

static uint32_t rd(uint32_t off)
{
	uint32_t v;
	virtio_mmio_ops.read(d, off, &v, 4);
	return v;
}

static void set_queue(uint32_t sel, uint32_t desc, uint32_t avail, uint32_t used)
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
static void start_sndbuf(enum vm_net_backend kind, uint32_t features, uint16_t mtu, int sndbuf)
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

static void start(enum vm_net_backend kind, uint32_t features, uint16_t mtu)
{
	start_sndbuf(kind, features, mtu, 0);
}

static void teardown(void)
{
	if (vm)
		fake_vm_free(vm);
	vm = NULL;
	if (peer >= 0)
		close(peer);
	peer = -1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void put_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t b[16];
	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &flags, 2);
	memcpy(b + 14, &next, 2);
	ck_assert_int_eq(gmem_write(&vm->mem, table + 16ULL * i, b, 16), 0);
}

static void make_avail(uint64_t avail, uint16_t *idx, uint16_t head)
{
	ck_assert_int_eq(gmem_write(&vm->mem, avail + 4 + 2 * (*idx % NUM), &head, 2), 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	(*idx)++;
	ck_assert_int_eq(gmem_write(&vm->mem, avail + 2, idx, 2), 0);
}

static uint16_t used_idx(uint64_t used)
{
	uint16_t idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ck_assert_int_eq(gmem_read(&vm->mem, used + 2, &idx, 2), 0);
	return idx;
}

/* Waits for the used index to reach want; returns what it is then. */
static uint16_t wait_used(uint64_t used, uint16_t want)
{
	uint64_t end = now_ms() + WAIT_MS;
	uint16_t idx;

	while ((idx = used_idx(used)) != want && now_ms() < end)
		usleep(1000);
	return idx;
}

/* Lets the device thread run a while and checks the index did not move. */
static void settle(uint64_t used, uint16_t expect)
{
	usleep(100 * 1000);
	ck_assert_uint_eq(used_idx(used), expect);
}

static void used_elem(uint64_t used, uint16_t slot, uint32_t *id, uint32_t *len)
{
	ck_assert_int_eq(gmem_read(&vm->mem, used + 4 + 8ULL * (slot % NUM), id, 4), 0);
	ck_assert_int_eq(gmem_read(&vm->mem, used + 8 + 8ULL * (slot % NUM), len, 4), 0);
}

/* Receive buffer in descriptor i, one writable descriptor of len bytes. */
static void post_rx(uint16_t i, uint32_t len)
{
	put_desc(RX_DESC, i, RX_BUF + (uint64_t)RX_STRIDE * i, len, F_WRITE, 0);
	make_avail(RX_AVAIL, &rx_idx, i);
	wr(R_NOTIFY, Q_RX);
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* A frame from the guest: header h, then the frame, in one descriptor. */
static void send_tx_hdr(const struct net_hdr *h, const uint8_t *frame, uint32_t len)
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

static void send_tx(const uint8_t *frame, uint32_t len)
{
	struct net_hdr h = { 0 };
	send_tx_hdr(&h, frame, len);
}

/* A frame from the backend. */
static void peer_send(const uint8_t *frame, uint32_t len)
{
	if (stream) {
		uint32_t be = htonl(len);
		ck_assert_int_eq(write(peer, &be, 4), 4);
	}
	ck_assert_int_eq(write(peer, frame, len), (ssize_t)len);
}

static bool peer_readable(int ms)
{
	struct pollfd p = { .fd = peer, .events = POLLIN };
	return poll(&p, 1, ms) == 1;
}

static void read_exact(void *buf, size_t len)
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
static uint32_t peer_recv(uint8_t *buf, size_t cap)
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

static struct net_hdr rx_hdr(uint16_t desc)
{
	struct net_hdr h;
	ck_assert_int_eq(gmem_read(&vm->mem, RX_BUF + (uint64_t)RX_STRIDE * desc, &h, HDR), 0);
	return h;
}

static bool needs_reset(void)
{
	return rd(R_STATUS) & NEEDS_RESET;
}

/* ------------------------------------------------------------- tests */

START_TEST(config_space)
{
	uint8_t mac[6];
	uint16_t status, mtu;

	start(NET_BACKEND_STREAM, FEAT_MAC | FEAT_MTU, 1500);
	for (unsigned int i = 0; i < 6; i++)
		virtio_mmio_ops.read(d, 0x100 + i, &mac[i], 1);
	virtio_mmio_ops.read(d, 0x106, &status, 2);
	virtio_mmio_ops.read(d, 0x10a, &mtu, 2);
	ck_assert_mem_eq(mac, "\x02\x00\x00\x00\x00\x01", 6);
	ck_assert_uint_eq(status, 1); /* link up */
	ck_assert_uint_eq(mtu, 1500);
}
END_TEST

START_TEST(frames_both_ways)
{
	enum vm_net_backend kind = _i ? NET_BACKEND_TAP : NET_BACKEND_STREAM;
	uint8_t out[1514], in[1514], got[2048];
	uint32_t id, len;

	start(kind, FEAT_MAC, 0);
	fill(out, sizeof(out), 1);
	send_tx(out, sizeof(out));
	ck_assert_uint_eq(peer_recv(got, sizeof(got)), sizeof(out));
	ck_assert_mem_eq(got, out, sizeof(out));
	ck_assert_uint_eq(wait_used(TX_USED, 1), 1);

	post_rx(0, 2048);
	fill(in, sizeof(in), 9);
	peer_send(in, sizeof(in));
	ck_assert_uint_eq(wait_used(RX_USED, 1), 1);
	used_elem(RX_USED, 0, &id, &len);
	ck_assert_uint_eq(id, 0);
	ck_assert_uint_eq(len, HDR + sizeof(in));
	ck_assert_uint_eq(rx_hdr(0).num_buffers, 1);
	ck_assert_uint_eq(rx_hdr(0).flags, 0);
	ck_assert_int_eq(gmem_read(&vm->mem, RX_BUF + HDR, got, sizeof(in)), 0);
	ck_assert_mem_eq(got, in, sizeof(in));
	ck_assert(virtio_dev_live(d));
}
END_TEST

/* Many frames in a row from the stream, in one read: all arrive, in order. */
START_TEST(stream_batches_in_order)
{
	uint8_t f[200], got[200];

	start(NET_BACKEND_STREAM, 0, 0);
	for (uint16_t i = 0; i < 8; i++)
		post_rx(i, 1024);
	for (uint8_t i = 0; i < 8; i++) {
		fill(f, sizeof(f), i);
		peer_send(f, 60 + i * 10);
	}
	ck_assert_uint_eq(wait_used(RX_USED, 8), 8);
	for (uint16_t i = 0; i < 8; i++) {
		uint32_t id, len;
		used_elem(RX_USED, i, &id, &len);
		ck_assert_uint_eq(id, i);
		ck_assert_uint_eq(len, HDR + 60 + i * 10);
		fill(f, sizeof(f), (uint8_t)i);
		ck_assert_int_eq(gmem_read(&vm->mem, RX_BUF + (uint64_t)RX_STRIDE * i + HDR, got,
					   60 + i * 10), 0);
		ck_assert_mem_eq(got, f, 60 + i * 10);
	}
}
END_TEST

/* 12 + 3000 bytes into 1024-byte buffers: three, published together, and a
 * frame waits (nothing used) until enough buffers are there. */
START_TEST(mergeable_buffers)
{
	static uint8_t f[3000], got[3000];
	uint32_t id, len, off = 0;

	start(NET_BACKEND_STREAM, FEAT_MRG, 0);
	post_rx(0, 1024);
	fill(f, sizeof(f), 3);
	peer_send(f, sizeof(f));
	settle(RX_USED, 0);
	post_rx(1, 1024);
	settle(RX_USED, 0);
	post_rx(2, 1024);
	ck_assert_uint_eq(wait_used(RX_USED, 3), 3);
	ck_assert_uint_eq(rx_hdr(0).num_buffers, 3);
	for (uint16_t i = 0; i < 3; i++) {
		uint64_t at = RX_BUF + (uint64_t)RX_STRIDE * i + (i ? 0 : HDR);
		used_elem(RX_USED, i, &id, &len);
		ck_assert_uint_eq(id, i);
		ck_assert_uint_eq(len, i < 2 ? 1024 : HDR + 3000 - 2048);
		len -= i ? 0 : HDR;
		ck_assert_int_eq(gmem_read(&vm->mem, at, got + off, len), 0);
		off += len;
	}
	ck_assert_uint_eq(off, sizeof(f));
	ck_assert_mem_eq(got, f, sizeof(f));
}
END_TEST

/* Without mergeable buffers a frame larger than the buffer is dropped and the
 * buffer kept for the next frame. */
START_TEST(too_big_without_merging_is_dropped)
{
	static uint8_t big[3000], small[100], got[100];
	uint32_t id, len;

	start(NET_BACKEND_STREAM, 0, 0);
	post_rx(0, 1024);
	fill(big, sizeof(big), 1);
	fill(small, sizeof(small), 2);
	peer_send(big, sizeof(big));
	peer_send(small, sizeof(small));
	ck_assert_uint_eq(wait_used(RX_USED, 1), 1);
	used_elem(RX_USED, 0, &id, &len);
	ck_assert_uint_eq(len, HDR + sizeof(small));
	ck_assert_int_eq(gmem_read(&vm->mem, RX_BUF + HDR, got, sizeof(small)), 0);
	ck_assert_mem_eq(got, small, sizeof(small));
	ck_assert(virtio_dev_live(d));
}
END_TEST

/* Lengths out of range in the stream are skipped with their bytes; the
 * stream stays in step and the next good frame arrives. */
START_TEST(stream_lengths_out_of_range_are_skipped)
{
	static uint8_t junk[FRAME_MAX + 1], good[80], got[80];
	uint32_t id, len;

	start(NET_BACKEND_STREAM, FEAT_MRG, 0);
	for (uint16_t i = 0; i < NUM; i++)
		post_rx(i, 0x10000);
	memset(junk, 0xee, sizeof(junk));
	fill(good, sizeof(good), 5);
	peer_send(junk, 5);                 /* shorter than an Ethernet header */
	peer_send(junk, sizeof(junk));      /* longer than any frame */
	peer_send(good, sizeof(good));
	ck_assert_uint_eq(wait_used(RX_USED, 1), 1);
	used_elem(RX_USED, 0, &id, &len);
	ck_assert_uint_eq(len, HDR + sizeof(good));
	ck_assert_int_eq(gmem_read(&vm->mem, RX_BUF + (uint64_t)RX_STRIDE * id + HDR, got,
				   sizeof(good)), 0);
	ck_assert_mem_eq(got, good, sizeof(good));
	settle(RX_USED, 1);
	ck_assert(virtio_dev_live(d));
}
END_TEST

/* The largest frame goes both ways; one byte more from the guest is dropped. */
START_TEST(largest_frame)
{
	static uint8_t f[FRAME_MAX + 1], got[FRAME_MAX + 1];
	uint64_t at = TX_BUF + (uint64_t)TX_STRIDE * 14;

	start(NET_BACKEND_STREAM, FEAT_MRG, 0);
	fill(f, sizeof(f), 7);
	/* Too long: header and frame in descriptors 14 and 15. */
	ck_assert_int_eq(gmem_write(&vm->mem, at, &(struct net_hdr){ 0 }, HDR), 0);
	ck_assert_int_eq(gmem_write(&vm->mem, at + HDR, f, sizeof(f)), 0);
	put_desc(TX_DESC, 14, at, HDR, F_NEXT, 15);
	put_desc(TX_DESC, 15, at + HDR, sizeof(f), 0, 0);
	make_avail(TX_AVAIL, &tx_idx, 14);
	wr(R_NOTIFY, Q_TX);
	ck_assert_uint_eq(wait_used(TX_USED, 1), 1);
	send_tx(f, FRAME_MAX);
	ck_assert_uint_eq(peer_recv(got, sizeof(got)), FRAME_MAX);
	ck_assert_mem_eq(got, f, FRAME_MAX);
	ck_assert(!peer_readable(50));

	for (uint16_t k = 0; k < 2; k++)
		post_rx(k, 0x10000);
	peer_send(f, FRAME_MAX);
	ck_assert_uint_eq(wait_used(RX_USED, 2), 2);
	ck_assert_uint_eq(rx_hdr(0).num_buffers, 2);
	ck_assert(virtio_dev_live(d));
}
END_TEST

/* Frames the guest must not send are dropped, their chains returned; the
 * device goes on and the good frame after them gets through alone. */
START_TEST(bad_guest_frames_are_dropped)
{
	uint8_t f[64], got[128];
	struct net_hdr gso = { .gso_type = 1 /* TCPV4 */ };
	struct net_hdr csum = { .flags = 1, .csum_start = 14, .csum_offset = 16 };

	start(NET_BACKEND_STREAM, 0, 0);
	fill(f, sizeof(f), 4);
	send_tx(f, 13);                       /* shorter than an Ethernet header */
	send_tx_hdr(&gso, f, sizeof(f));      /* GSO, never offered */
	send_tx_hdr(&csum, f, sizeof(f));     /* checksum offload, not negotiated */
	send_tx(f, sizeof(f));
	ck_assert_uint_eq(wait_used(TX_USED, 4), 4);
	ck_assert_uint_eq(peer_recv(got, sizeof(got)), sizeof(f));
	ck_assert_mem_eq(got, f, sizeof(f));
	ck_assert(!peer_readable(50));
	ck_assert(virtio_dev_live(d));
}
END_TEST

START_TEST(checksum_outside_frame_is_dropped)
{
	uint8_t f[64], got[128];
	struct net_hdr past = { .flags = 1, .csum_start = 60, .csum_offset = 3 };
	struct net_hdr start_past = { .flags = 1, .csum_start = 64, .csum_offset = 0 };
	struct net_hdr wrap = { .flags = 1, .csum_start = 0xffff, .csum_offset = 0xffff };

	start(NET_BACKEND_STREAM, FEAT_CSUM, 0);
	fill(f, sizeof(f), 6);
	send_tx_hdr(&past, f, sizeof(f));
	send_tx_hdr(&start_past, f, sizeof(f));
	send_tx_hdr(&wrap, f, sizeof(f));
	send_tx(f, sizeof(f));
	ck_assert_uint_eq(wait_used(TX_USED, 4), 4);
	ck_assert_uint_eq(peer_recv(got, sizeof(got)), sizeof(f));
	ck_assert_mem_eq(got, f, sizeof(f));
	ck_assert(!peer_readable(50));
}
END_TEST

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* A UDP/IPv4 frame with only the pseudo-header sum in its checksum field, as
 * Linux sends with checksum offload: the backend gets a valid checksum. */
START_TEST(partial_checksum_is_completed)
{
	uint8_t f[14 + 20 + 8 + 31] = { 0 }, got[128];
	struct net_hdr h = { .flags = 1, .csum_start = 34, .csum_offset = 6 };
	uint8_t pseudo[12] = { 10, 0, 2, 15, 10, 0, 2, 2, 0, 17, 0, 8 + 31 };
	uint16_t partial;

	start(NET_BACKEND_STREAM, FEAT_CSUM, 0);
	f[12] = 0x08;                 /* IPv4 */
	f[14] = 0x45;
	f[23] = 17;                   /* UDP */
	memcpy(f + 26, pseudo, 8);    /* addresses */
	f[34] = 0x30; f[35] = 0x39;   /* ports */
	f[36] = 0x00; f[37] = 0x50;
	f[39] = 8 + 31;               /* UDP length */
	fill(f + 42, 31, 8);
	partial = fold(sum16(pseudo, sizeof(pseudo), 0));
	f[40] = (uint8_t)(partial >> 8);
	f[41] = (uint8_t)partial;
	send_tx_hdr(&h, f, sizeof(f));
	ck_assert_uint_eq(peer_recv(got, sizeof(got)), sizeof(f));
	/* Pseudo-header plus UDP header and data sum to 0xffff when right. */
	ck_assert_uint_eq(fold(sum16(got + 34, sizeof(f) - 34, sum16(pseudo, sizeof(pseudo), 0))),
			  0xffff);
	ck_assert_mem_eq(got + 42, f + 42, 31);
}
END_TEST

START_TEST(short_tx_chain_needs_reset)
{
	uint8_t f[64];
	uint16_t i = 0;

	start(NET_BACKEND_STREAM, 0, 0);
	fill(f, sizeof(f), 1);
	ck_assert_int_eq(gmem_write(&vm->mem, TX_BUF, f, HDR - 1), 0);
	put_desc(TX_DESC, i, TX_BUF, HDR - 1, 0, 0);
	make_avail(TX_AVAIL, &tx_idx, i);
	wr(R_NOTIFY, Q_TX);
	for (uint64_t end = now_ms() + WAIT_MS; !needs_reset() && now_ms() < end;)
		usleep(1000);
	ck_assert(needs_reset());
	ck_assert(!peer_readable(50));
	settle(TX_USED, 0); /* a malformed chain is not returned */
}
END_TEST

/* Only device-writable descriptors: no header to read, as above. */
START_TEST(write_only_tx_chain_needs_reset)
{
	start(NET_BACKEND_STREAM, 0, 0);
	put_desc(TX_DESC, 0, TX_BUF, HDR + 64, F_WRITE, 0);
	make_avail(TX_AVAIL, &tx_idx, 0);
	wr(R_NOTIFY, Q_TX);
	for (uint64_t end = now_ms() + WAIT_MS; !needs_reset() && now_ms() < end;)
		usleep(1000);
	ck_assert(needs_reset());
	ck_assert(!peer_readable(50));
	settle(TX_USED, 0);
}
END_TEST

static void rx_buffer_needs_reset(uint32_t len, uint16_t flags)
{
	uint8_t f[64];

	start(NET_BACKEND_STREAM, FEAT_MRG, 0);
	put_desc(RX_DESC, 0, RX_BUF, len, flags, 0);
	make_avail(RX_AVAIL, &rx_idx, 0);
	wr(R_NOTIFY, Q_RX);
	fill(f, sizeof(f), 1);
	peer_send(f, sizeof(f));
	for (uint64_t end = now_ms() + WAIT_MS; !needs_reset() && now_ms() < end;)
		usleep(1000);
	ck_assert(needs_reset());
	ck_assert_uint_eq(used_idx(RX_USED), 0);
}

START_TEST(readable_rx_buffer_needs_reset)
{
	rx_buffer_needs_reset(2048, 0);
}
END_TEST

START_TEST(tiny_rx_buffer_needs_reset)
{
	rx_buffer_needs_reset(HDR - 1, F_WRITE);
}
END_TEST

/* The driver's bring-up again after a reset, on the same rings. */
static void reinit(void)
{
	wr(R_STATUS, 0);
	wr(R_STATUS, ACK);
	wr(R_STATUS, ACK | DRV);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1);
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	set_queue(Q_RX, RX_DESC, RX_AVAIL, RX_USED);
	set_queue(Q_TX, TX_DESC, TX_AVAIL, TX_USED);
	ck_assert_int_eq(gmem_write(&vm->mem, RX_AVAIL + 2, &(uint16_t){ 0 }, 2), 0);
	ck_assert_int_eq(gmem_write(&vm->mem, RX_USED + 2, &(uint16_t){ 0 }, 2), 0);
	rx_idx = 0;
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert(virtio_dev_live(d));
}

/* A reset device serves again. */
START_TEST(reset_recovers)
{
	uint8_t f[64], got[64];

	rx_buffer_needs_reset(_i ? 2048 : HDR - 1, _i ? 0 : F_WRITE);
	fill(f, sizeof(f), 2);
	reinit();
	post_rx(1, 2048);
	peer_send(f, sizeof(f));
	ck_assert_uint_eq(wait_used(RX_USED, 1), 1);
	ck_assert_int_eq(gmem_read(&vm->mem, RX_BUF + RX_STRIDE + HDR, got, sizeof(f)), 0);
	ck_assert_mem_eq(got, f, sizeof(f));
}
END_TEST

/* A backend that does not read: transmit chains stop coming back once the
 * socket and the staging buffer are full (the guest waits), and every frame
 * arrives, in order, once the backend reads. */
START_TEST(backend_pushes_back)
{
	static uint8_t f[1514], got[FRAME_MAX];
	bool stalled = false;
	uint16_t used;

	start(NET_BACKEND_STREAM, 0, 0);
	fill(f, sizeof(f), 2);
	for (unsigned int round = 0; round < 300 && !stalled; round++) {
		used = used_idx(TX_USED);
		while ((uint16_t)(tx_idx - used) < NUM)
			send_tx(f, sizeof(f));
		for (uint64_t end = now_ms() + 300; used_idx(TX_USED) == used && now_ms() < end;)
			usleep(1000);
		stalled = used_idx(TX_USED) == used;
	}
	ck_assert(stalled);
	ck_assert_uint_lt(used_idx(TX_USED), tx_idx);
	for (uint16_t k = 0; k < tx_idx; k++) {
		ck_assert_uint_eq(peer_recv(got, sizeof(got)), sizeof(f));
		ck_assert_mem_eq(got, f, sizeof(f));
	}
	ck_assert_uint_eq(wait_used(TX_USED, tx_idx), tx_idx);
	ck_assert(!peer_readable(50));
}
END_TEST

/* Frame k of the stream tests: sizes that do not line up with anything the
 * kernel uses, from the smallest frame to the largest. */
static uint32_t stream_len(unsigned int k)
{
	static const uint32_t sizes[] = { 1514, FRAME_MAX, 60, 9014, 4001, 65000, 333, 30001 };
	return sizes[k % (sizeof(sizes) / sizeof(sizes[0]))];
}

/* The backend's side of the stream, read in pieces of any size: record k
 * must be stream_len(k) bytes of fill(k). at == 0 between records. */
struct rec_check {
	unsigned int k;
	uint32_t at, len;
	uint8_t len_be[4];
	uint8_t want[FRAME_MAX];
};

static void rec_check(struct rec_check *c, const uint8_t *p, size_t n)
{
	while (n) {
		size_t take;

		if (c->at < 4) {
			c->len_be[c->at++] = *p++;
			n--;
			if (c->at == 4) {
				memcpy(&c->len, c->len_be, 4);
				c->len = ntohl(c->len);
				ck_assert_uint_eq(c->len, stream_len(c->k));
				fill(c->want, c->len, (uint8_t)c->k);
			}
			continue;
		}
		take = 4 + c->len - c->at;
		take = n < take ? n : take;
		ck_assert_mem_eq(p, c->want + (c->at - 4), take);
		c->at += (uint32_t)take;
		p += take;
		n -= take;
		if (c->at == 4 + c->len) {
			c->k++;
			c->at = 0;
		}
	}
}

/* Reads exactly n bytes from the backend's end into the checker. */
static void rec_read(struct rec_check *c, size_t n)
{
	static uint8_t buf[1 << 16];

	while (n) {
		size_t want = n < sizeof(buf) ? n : sizeof(buf);
		read_exact(buf, want);
		rec_check(c, buf, want);
		n -= want;
	}
}

/* Puts frames into the transmit ring while it has room. */
static void feed_tx(unsigned int *sent, unsigned int limit)
{
	static uint8_t f[FRAME_MAX];
	uint16_t used = used_idx(TX_USED);

	while ((uint16_t)(tx_idx - used) < NUM && *sent < limit) {
		fill(f, stream_len(*sent), (uint8_t)*sent);
		send_tx(f, stream_len(*sent));
		(*sent)++;
	}
}

/* Whenever the device stops writing, the socket holds whole records only
 * (4-byte length and frame): passt reads what is there and completes a
 * partial frame with one more recv, so a record cut where a send stopped
 * can put it out of step. Frames of many sizes up to the largest; the
 * reader reads only once the device has stalled on a full socket, exactly
 * the bytes the socket holds. */
START_TEST(stream_socket_holds_whole_records)
{
	static struct rec_check c;
	unsigned int sent = 0;
	int inq;

	memset(&c, 0, sizeof(c));
	start_sndbuf(NET_BACKEND_STREAM, 0, 0, 64 << 10);
	for (unsigned int round = 0; round < 6; round++) {
		uint64_t end = now_ms() + WAIT_MS;
		bool stalled = false;
		int last = -1;

		while (!stalled && now_ms() < end) {
			uint16_t used;

			feed_tx(&sent, UINT32_MAX);
			used = used_idx(TX_USED);
			usleep(150 * 1000);
			ck_assert_int_eq(ioctl(peer, FIONREAD, &inq), 0);
			stalled = used_idx(TX_USED) == used && inq == last && inq > 0;
			last = inq;
		}
		ck_assert(stalled);
		rec_read(&c, (size_t)inq);
		ck_assert_msg(c.at == 0, "round %u: the socket held %u bytes of record %u's %u",
			      round, c.at, c.k, 4 + c.len);
	}
	while (c.k < sent) {
		ck_assert(peer_readable(WAIT_MS));
		ck_assert_int_eq(ioctl(peer, FIONREAD, &inq), 0);
		rec_read(&c, (size_t)inq);
	}
	ck_assert_uint_eq(wait_used(TX_USED, tx_idx), tx_idx);
	ck_assert(!peer_readable(50));
}
END_TEST

/* A send buffer too small for the largest frame: the kernel takes a record
 * in pieces, and every frame still arrives whole and in order. */
START_TEST(small_send_buffer_keeps_stream_in_step)
{
	static struct rec_check c;
	unsigned int sent = 0, frames = 40;
	int inq;

	memset(&c, 0, sizeof(c));
	start_sndbuf(NET_BACKEND_STREAM, 0, 0, 4096);
	while (c.k < frames) {
		feed_tx(&sent, frames);
		ck_assert(peer_readable(WAIT_MS));
		ck_assert_int_eq(ioctl(peer, FIONREAD, &inq), 0);
		rec_read(&c, (size_t)inq);
	}
	ck_assert_uint_eq(wait_used(TX_USED, tx_idx), tx_idx);
	ck_assert(!peer_readable(50));
	ck_assert(virtio_dev_live(d));
}
END_TEST

/* The backend goes away: frames are dropped, chains still come back. */
START_TEST(backend_hangup)
{
	uint8_t f[64];

	start(NET_BACKEND_STREAM, 0, 0);
	post_rx(0, 2048);
	close(peer);
	peer = -1;
	fill(f, sizeof(f), 1);
	for (int i = 0; i < 3; i++)
		send_tx(f, sizeof(f));
	ck_assert_uint_eq(wait_used(TX_USED, 3), 3);
	settle(RX_USED, 0);
	ck_assert(virtio_dev_live(d));
}
END_TEST

/* A descriptor that is not usable (closed) fails the device's creation. */
START_TEST(bad_backend_fd_refused)
{
	vm = fake_vm_new(MEM);
	vm->cfg.net_backend = NET_BACKEND_TAP;
	vm->cfg.net_fd = -1;
	ck_assert_int_eq(virtio_net_init(vm), -EBADF);
	vm->cfg.net_backend = 7;
	vm->cfg.net_fd = -1;
	ck_assert_int_eq(virtio_net_init(vm), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("net");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, config_space);
	tcase_add_loop_test(tc, frames_both_ways, 0, 2);
	tcase_add_test(tc, stream_batches_in_order);
	tcase_add_test(tc, mergeable_buffers);
	tcase_add_test(tc, too_big_without_merging_is_dropped);
	tcase_add_test(tc, stream_lengths_out_of_range_are_skipped);
	tcase_add_test(tc, largest_frame);
	tcase_add_test(tc, bad_guest_frames_are_dropped);
	tcase_add_test(tc, checksum_outside_frame_is_dropped);
	tcase_add_test(tc, partial_checksum_is_completed);
	tcase_add_test(tc, short_tx_chain_needs_reset);
	tcase_add_test(tc, write_only_tx_chain_needs_reset);
	tcase_add_test(tc, readable_rx_buffer_needs_reset);
	tcase_add_test(tc, tiny_rx_buffer_needs_reset);
	tcase_add_loop_test(tc, reset_recovers, 0, 2);
	tcase_add_test(tc, backend_pushes_back);
	tcase_add_test(tc, stream_socket_holds_whole_records);
	tcase_add_test(tc, small_send_buffer_keeps_stream_in_step);
	tcase_add_test(tc, backend_hangup);
	tcase_add_test(tc, bad_backend_fd_refused);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
