// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: virtio-net's backend side: passt's length-prefixed stream
 * keeps its frames in order and whole (only whole records in the socket
 * whenever the device stops writing, also with a tiny send buffer), lengths
 * out of range are skipped, a backend that pushes back stalls transmit
 * without losing a frame, and a hang-up or a bad descriptor ends the device
 * cleanly. The device thread runs, as in a VM.
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
	Suite *s = suite_create("net_stream");
	TCase *tc = tcase_create("net_stream");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, stream_batches_in_order);
	tcase_add_test(tc, stream_lengths_out_of_range_are_skipped);
	tcase_add_test(tc, backend_pushes_back);
	tcase_add_test(tc, stream_socket_holds_whole_records);
	tcase_add_test(tc, small_send_buffer_keeps_stream_in_step);
	tcase_add_test(tc, backend_hangup);
	tcase_add_test(tc, bad_backend_fd_refused);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
