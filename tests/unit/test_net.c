// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: virtio-net moves frames both ways between a driver and a
 * socketpair standing in for the backend (passt's length-prefixed stream,
 * or a datagram socket for a tap's frame-per-call), merges receive buffers
 * and publishes them together, waits for buffers instead of losing a frame,
 * completes partial checksums, and answers a hostile driver or backend
 * (short chains, readable or tiny receive buffers, frames too short or too
 * long, headers asking for what was not negotiated) by dropping the frame
 * or stopping the device, never more. The backend's side of the stream is
 * test_net_stream.c's. The device thread runs, as in a VM: everything goes
 * through it.
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
#include "fake_vm.h"
#include "net_harness.h"

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

/* The largest frame goes both ways; one byte more from the guest is dropped. */
START_TEST(largest_frame)
{
	static uint8_t f[FRAME_MAX + 1], got[FRAME_MAX + 1];
	uint64_t at = TX_BUF + (uint64_t)TX_STRIDE * 14;

	start(NET_BACKEND_STREAM, FEAT_MRG, 0);
	fill(f, sizeof(f), 7);
	/* Too long: header and frame in descriptors 14 and 15. */
	ck_assert_int_eq(gmem_write(&vm->mem, at, &(struct vnet_hdr){ 0 }, HDR), 0);
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
	struct vnet_hdr gso = { .gso_type = 1 /* TCPV4 */ };
	struct vnet_hdr csum = { .flags = 1, .csum_start = 14, .csum_offset = 16 };

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
	struct vnet_hdr past = { .flags = 1, .csum_start = 60, .csum_offset = 3 };
	struct vnet_hdr start_past = { .flags = 1, .csum_start = 64, .csum_offset = 0 };
	struct vnet_hdr wrap = { .flags = 1, .csum_start = 0xffff, .csum_offset = 0xffff };

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
	struct vnet_hdr h = { .flags = 1, .csum_start = 34, .csum_offset = 6 };
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

int main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("net");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, config_space);
	tcase_add_loop_test(tc, frames_both_ways, 0, 2);
	tcase_add_test(tc, mergeable_buffers);
	tcase_add_test(tc, too_big_without_merging_is_dropped);
	tcase_add_test(tc, largest_frame);
	tcase_add_test(tc, bad_guest_frames_are_dropped);
	tcase_add_test(tc, checksum_outside_frame_is_dropped);
	tcase_add_test(tc, partial_checksum_is_completed);
	tcase_add_test(tc, short_tx_chain_needs_reset);
	tcase_add_test(tc, write_only_tx_chain_needs_reset);
	tcase_add_test(tc, readable_rx_buffer_needs_reset);
	tcase_add_test(tc, tiny_rx_buffer_needs_reset);
	tcase_add_loop_test(tc, reset_recovers, 0, 2);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
