// SPDX-License-Identifier: LGPL-2.1-or-later
/* rng and console requests, and the vsock device's packet layer. */
#include "hostile.h"

int case_r_requests(void)
{
	struct vq q;
	uint8_t *buf = galloc(2u << 20, 4096);
	uint32_t len;
	int same = 1;

	TRY(vio_up(VIO_RNG, &q, 1, 8, 0));
	/* 64 bytes: all of them, random. */
	struct seg s = { gpa(buf), 64, D_WRITE };
	vq_send(&q, &s, 1);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
	EXPECT_EQ(len, 64);
	for (int i = 1; i < 64; i++)
		same &= buf[i] == buf[0];
	EXPECT(!same);
	/* 1 MiB: a 4 KiB chunk, and nothing beyond it is touched. */
	memset(buf, 0x42, 2u << 20);
	s = (struct seg){ gpa(buf), 1u << 20, D_WRITE };
	vq_send(&q, &s, 1);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
	EXPECT_EQ(len, 4096);
	for (uint32_t i = 4096; i < (2u << 20); i += 61)
		EXPECT_EQ(buf[i], 0x42);
	/* Only a device-readable buffer: used, with nothing written. */
	s = (struct seg){ gpa(buf) + 8192, 64, 0 };
	vq_send(&q, &s, 1);
	EXPECT(vq_wait(&q, WAIT_LONG, NULL, &len));
	EXPECT_EQ(len, 0);
	EXPECT_EQ(buf[8192], 0x42);
	return 0;
}

int case_c_output(void)
{
	struct vq q[2];
	static const char text[] = CONSOLE_TEXT;
	uint8_t *buf = galloc(4096, 4096);
	uint32_t len, a = 10, b = 5, n = sizeof(text) - 1;

	memcpy(buf, text, n);
	TRY(vio_up(VIO_CONSOLE, q, 2, 8, 0));
	/* The text in three pieces, and a device-writable tail the console
	 * must not print (nor write to). */
	memset(buf + 2048, 0x33, 64);
	struct seg s[4] = {
		{ gpa(buf), a, 0 },
		{ gpa(buf) + a, b, 0 },
		{ gpa(buf) + a + b, n - a - b, 0 },
		{ gpa(buf) + 2048, 64, D_WRITE },
	};
	vq_send(&q[1], s, 4);
	EXPECT(vq_wait(&q[1], WAIT_LONG, NULL, &len));
	EXPECT_EQ(len, 0);
	EXPECT_EQ(buf[2048], 0x33);
	/* Receive buffers with no stdin behind them: never used. */
	struct seg r = { gpa(buf) + 1024, 64, D_WRITE };
	vq_send(&q[0], &r, 1);
	EXPECT(!vq_wait(&q[0], WAIT_SHORT, NULL, NULL));
	/* A malformed output chain: NEEDS_RESET, nothing printed. */
	uint16_t before = vq_used_idx(&q[1]);
	struct seg bad = { HOSTILE_MEM_BYTES - 4, 8, 0 };
	vq_send(&q[1], &bad, 1);
	return expect_needs_reset(&q[1], before);
}

/* ------------------------------------------------------------ vsock */

int vs_up(struct vsock *v)
{
	TRY(vio_up(VIO_VSOCK, v->q, 3, 8, 0));
	for (int i = 0; i < 8; i++) {
		v->rxbuf[i] = galloc(VS_RX_BUF, 64);
		struct seg s = { gpa(v->rxbuf[i]), VS_RX_BUF, D_WRITE };
		vq_publish(&v->q[0], vq_chain(&v->q[0], &s, 1));
	}
	vq_kick(&v->q[0]);
	v->fwd_cnt = 0;
	return 0;
}

int vs_send_hdr(struct vsock *v, const struct vsock_hdr *h, const void *payload, uint32_t len)
{
	uint8_t *buf = galloc(sizeof(*h) + len + 1, 64);
	uint32_t used;

	memcpy(buf, h, sizeof(*h));
	if (len)
		memcpy(buf + sizeof(*h), payload, len);
	struct seg s = { gpa(buf), (uint32_t)sizeof(*h) + len, 0 };
	vq_send(&v->q[1], &s, 1);
	EXPECT(vq_wait(&v->q[1], WAIT_LONG, NULL, &used));
	EXPECT_EQ(used, 0);
	return 0;
}

int vs_send(struct vsock *v, uint16_t op, uint32_t src_port, uint32_t dst_port,
	    const void *payload, uint32_t len)
{
	struct vsock_hdr h = {
		.src_cid = 3, .dst_cid = 2, .src_port = src_port, .dst_port = dst_port,
		.len = len, .type = 1, .op = op, .buf_alloc = 65536, .fwd_cnt = v->fwd_cnt,
	};
	return vs_send_hdr(v, &h, payload, len);
}

int vs_recv(struct vsock *v, struct vsock_hdr *h, void *payload, uint32_t max, uint64_t cycles)
{
	struct vq *q = &v->q[0];
	uint32_t id, len;

	if (!vq_wait(q, cycles, &id, &len))
		return 0;
	const uint8_t *p = (const uint8_t *)(uintptr_t)q->desc[id].addr;
	memcpy(h, p, sizeof(*h));
	if (len > sizeof(*h) && payload) {
		uint32_t n = len - (uint32_t)sizeof(*h);
		memcpy(payload, p + sizeof(*h), n < max ? n : max);
	}
	if (h->op == VS_OP_RW)
		v->fwd_cnt += h->len;
	/* The buffer goes back to the device. */
	vq_publish(q, (uint16_t)id);
	vq_kick(q);
	return 1;
}

int vs_connect(struct vsock *v)
{
	struct vsock_hdr h;

	TRY(vs_up(v));
	TRY(vs_send(v, VS_OP_REQUEST, VS_GUEST_PORT, VS_HOST_PORT, NULL, 0));
	EXPECT(vs_recv(v, &h, NULL, 0, WAIT_LONG));
	EXPECT_EQ(h.op, VS_OP_RESPONSE);
	EXPECT_EQ(h.src_cid, 2);
	EXPECT_EQ(h.dst_cid, 3);
	EXPECT_EQ(h.src_port, VS_HOST_PORT);
	EXPECT_EQ(h.dst_port, VS_GUEST_PORT);
	EXPECT_EQ(h.len, 0);
	return 0;
}

/* The next packet must be a RST from `from` to `to`. */
static int expect_rst(struct vsock *v, uint32_t from, uint32_t to)
{
	struct vsock_hdr h;

	EXPECT(vs_recv(v, &h, NULL, 0, WAIT_LONG));
	EXPECT_EQ(h.op, VS_OP_RST);
	EXPECT_EQ(h.src_port, from);
	EXPECT_EQ(h.dst_port, to);
	return 0;
}

/* A request to a port nobody listens on: answered by a RST, which also
 * tells that everything sent before it has been handled. */
static int fence(struct vsock *v)
{
	TRY(vs_send(v, VS_OP_REQUEST, 4000, 77, NULL, 0));
	return expect_rst(v, 77, 4000);
}

int case_v_bad_packets(void)
{
	struct vsock v;
	struct vsock_hdr h = { .src_cid = 3, .dst_cid = 2, .src_port = 1, .dst_port = VS_HOST_PORT,
			       .type = 1, .op = VS_OP_REQUEST };

	TRY(vs_up(&v));
	/* Shorter than a header: dropped (used, no answer). */
	uint8_t *shortp = galloc(64, 64);
	struct seg s = { gpa(shortp), 20, 0 };
	vq_send(&v.q[1], &s, 1);
	EXPECT(vq_wait(&v.q[1], WAIT_LONG, NULL, NULL));
	/* Misaddressed: nobody answers. */
	h.src_cid = 7;
	TRY(vs_send_hdr(&v, &h, NULL, 0));
	h.src_cid = 3;
	h.dst_cid = 3;
	TRY(vs_send_hdr(&v, &h, NULL, 0));
	/* An unknown op or a stray RW while not connected: ignored / RST. */
	TRY(vs_send(&v, 99, 1, VS_HOST_PORT, NULL, 0));
	TRY(fence(&v));
	TRY(vs_send(&v, VS_OP_RW, 2, VS_HOST_PORT, "ab", 2));
	TRY(expect_rst(&v, VS_HOST_PORT, 2));
	/* A datagram-type packet: RST. */
	h.dst_cid = 2;
	h.type = 2;
	h.src_port = 9;
	TRY(vs_send_hdr(&v, &h, NULL, 0));
	TRY(expect_rst(&v, VS_HOST_PORT, 9));
	/* A request to another port: RST. */
	TRY(vs_send(&v, VS_OP_REQUEST, 6, 1234, NULL, 0));
	TRY(expect_rst(&v, 1234, 6));
	EXPECT_EQ(mr(VIO_VSOCK, R_STATUS) & S_NEEDS_RESET, 0);
	return 0;
}

int case_v_connection(void)
{
	struct vsock v;

	TRY(vs_connect(&v));
	/* One connection per VM: a second request is refused. */
	TRY(vs_send(&v, VS_OP_REQUEST, VS_GUEST_PORT + 1, VS_HOST_PORT, NULL, 0));
	TRY(expect_rst(&v, VS_HOST_PORT, VS_GUEST_PORT + 1));
	/* An unknown op on the connection: RST. */
	TRY(vs_send(&v, 99, VS_GUEST_PORT, VS_HOST_PORT, NULL, 0));
	TRY(expect_rst(&v, VS_HOST_PORT, VS_GUEST_PORT));
	/* A credit request on it: a credit update. */
	TRY(vs_send(&v, VS_OP_CREDIT_REQUEST, VS_GUEST_PORT, VS_HOST_PORT, NULL, 0));
	struct vsock_hdr h;
	EXPECT(vs_recv(&v, &h, NULL, 0, WAIT_LONG));
	EXPECT_EQ(h.op, VS_OP_CREDIT_UPDATE);
	EXPECT_EQ(h.buf_alloc, 256 * 1024);
	return 0;
}

int case_v_rw_too_long(void)
{
	struct vsock v;
	uint16_t before;
	struct vsock_hdr h = { .src_cid = 3, .dst_cid = 2, .src_port = VS_GUEST_PORT,
			       .dst_port = VS_HOST_PORT, .len = 100, .type = 1, .op = VS_OP_RW,
			       .buf_alloc = 65536 };

	TRY(vs_connect(&v));
	/* len says 100, the buffer holds 10 after the header. */
	before = vq_used_idx(&v.q[1]);
	uint8_t *buf = galloc(64 + 10, 64);
	memcpy(buf, &h, sizeof(h));
	struct seg s = { gpa(buf), (uint32_t)sizeof(h) + 10, 0 };
	vq_send(&v.q[1], &s, 1);
	/* The packet is used (tx buffers always are), then NEEDS_RESET. */
	uint32_t st = vio_wait_status(VIO_VSOCK, S_NEEDS_RESET, WAIT_LONG);
	EXPECT_EQ(st & S_NEEDS_RESET, S_NEEDS_RESET);
	(void)before;
	return 0;
}

int case_v_rx_small(void)
{
	struct vsock v;
	struct vsock_hdr h;
	uint16_t before;

	TRY(vio_up(VIO_VSOCK, v.q, 3, 8, 0));
	/* A receive buffer smaller than a packet header. */
	uint8_t *small = galloc(64, 64);
	struct seg s = { gpa(small), 40, D_WRITE };
	vq_send(&v.q[0], &s, 1);
	before = vq_used_idx(&v.q[0]);
	v.fwd_cnt = 0;
	/* A reply is due (RST to a port nobody listens on). */
	TRY(vs_send(&v, VS_OP_REQUEST, 4000, 77, NULL, 0));
	TRY(expect_needs_reset(&v.q[0], before));
	/* After a reset, header-sized buffers carry header-only replies. */
	TRY(vio_up(VIO_VSOCK, v.q, 3, 8, 0));
	uint8_t *hb = galloc(64, 64);
	s = (struct seg){ gpa(hb), 44, D_WRITE };
	vq_send(&v.q[0], &s, 1);
	TRY(vs_send(&v, VS_OP_REQUEST, 4000, 77, NULL, 0));
	EXPECT(vs_recv(&v, &h, NULL, 0, WAIT_LONG));
	EXPECT_EQ(h.op, VS_OP_RST);
	return 0;
}

int case_v_rx_unready(void)
{
	struct vsock v;
	uint32_t len;

	/* Live with its receive queue never set up (size 0, not ready): a
	 * reply due has nowhere to go and waits; notifying that queue does
	 * nothing. The transmit queue goes on working. */
	EXPECT_EQ(vio_negotiate(VIO_VSOCK, F_VERSION_1), S_ACK | S_DRIVER | S_FEATURES_OK);
	vq_setup(&v.q[1], VIO_VSOCK, 1, 8);
	mw(VIO_VSOCK, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	v.fwd_cnt = 0;
	for (int i = 0; i < 3; i++)
		TRY(vs_send(&v, VS_OP_REQUEST, 4000 + i, 77, NULL, 0));
	for (uint32_t qi = 0; qi < 4; qi++)
		mw(VIO_VSOCK, R_QUEUE_NOTIFY, qi);
	struct seg s = { gpa(galloc(64, 64)), 10, 0 };
	vq_send(&v.q[1], &s, 1); /* short packet: used, dropped */
	EXPECT(vq_wait(&v.q[1], WAIT_LONG, NULL, &len));
	EXPECT_EQ(len, 0);
	mw(VIO_VSOCK, R_QUEUE_SEL, 0);
	EXPECT_EQ(mr(VIO_VSOCK, R_QUEUE_NUM), 0);
	EXPECT_EQ(mr(VIO_VSOCK, R_STATUS), S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return 0;
}
