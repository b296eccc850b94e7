// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * virtio-net against a hostile driver. The runner gives these cases a
 * net device (VIO_NET) whose backend it watches: every frame the guest
 * sends is tagged (layout.h: NETF_*), "good" ones numbered from 0, and
 * the runner checks that exactly the good ones arrived, whole and in
 * order, and nothing else but requests; a "give" frame asks it to send
 * frames back. Each malformed frame must come back used and be dropped;
 * each malformed chain must put the device in NEEDS_RESET with no used
 * entry; after either, a good frame still goes through.
 */
#include "hostile.h"
#include "../../../src/vmm/virtio/net_hdr.h"

#define Q_RX 0
#define Q_TX 1
#define NUM 16
#define NET_HDR VNET_HDR_LEN
#define RX_SIZE 2048
#define TX_SIZE 0x20000
#define NF_CSUM (1ULL << 0)
#define NF_MAC (1ULL << 5)
#define NF_MRG (1ULL << 15)
/* The largest frame the device takes: 64 KiB IP behind Ethernet and a VLAN tag. */
#define FRAME_MAX (14 + 4 + 65535)

static struct vq q[2];
static uint8_t *txb;            /* header, then the frame */
static uint8_t *rxb;            /* NUM receive buffers of RX_SIZE */
static uint8_t *frame;          /* a received frame, reassembled */
static uint32_t good_sent;      /* the next good frame's number */
static uint32_t host_seen;      /* the runner's frames seen so far */

static int up(uint64_t features)
{
	if (!txb) {
		txb = galloc(TX_SIZE, 4096);
		rxb = galloc((uint64_t)NUM * RX_SIZE, 4096);
		frame = galloc(NETF_GIVE_MAX + 64, 4096);
	}
	return vio_up(VIO_NET, q, 2, NUM, features);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* A tagged frame of len bytes in txb after the header (len >= NETF_MIN
 * for the tag to fit; shorter ones are only the pattern). */
static void build(const char *tag, uint32_t seq, uint32_t len)
{
	uint8_t *f = txb + NET_HDR;

	for (uint32_t i = 0; i < len; i++)
		f[i] = NETF_BYTE(seq, i);
	if (len < NETF_MIN)
		return;
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = NETF_ETYPE >> 8;
	f[13] = NETF_ETYPE & 0xff;
	memcpy(f + NETF_TAG, tag, 4);
	put32(f + NETF_SEQ, seq);
	put32(f + NETF_LEN, len);
}

static void set_hdr(const struct vnet_hdr *h)
{
	struct vnet_hdr z = { 0 };
	memcpy(txb, h ? h : &z, NET_HDR);
}

/* Sends header + frame as given by segs; the chain must come back used. */
static int tx_segs(const struct seg *s, unsigned int n)
{
	uint32_t len = 0xdead;

	vq_send(&q[Q_TX], s, n);
	EXPECT(vq_wait(&q[Q_TX], WAIT_LONG, NULL, &len));
	EXPECT_EQ(len, 0);
	return 0;
}

static int tx(const struct vnet_hdr *h, uint32_t flen)
{
	struct seg s = { gpa(txb), NET_HDR + flen, 0 };

	set_hdr(h);
	return tx_segs(&s, 1);
}

/* A good frame: the runner must see it. */
static int good(uint32_t len)
{
	build(NETF_GOOD, good_sent++, len);
	return tx(NULL, len);
}

/* A frame the device must drop, with this header. */
static int bad(const struct vnet_hdr *h, uint32_t len)
{
	build(NETF_BAD, 0, len);
	return tx(h, len);
}

static int give(uint32_t count, uint32_t len)
{
	build(NETF_GIVE, count, NETF_MIN);
	put32(txb + NET_HDR + NETF_LEN, len);
	return tx(NULL, NETF_MIN);
}

/* The last frame: how many good ones the runner must have seen. */
static int done(void)
{
	build(NETF_DONE, good_sent, NETF_MIN);
	return tx(NULL, NETF_MIN);
}

static void post_rx(unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		uint16_t slot = q[Q_RX].next_desc;
		struct seg s = { gpa(rxb) + (uint64_t)slot * RX_SIZE, RX_SIZE, D_WRITE };
		vq_send(&q[Q_RX], &s, 1);
	}
}

/* Receives one of the runner's frames (len bytes, merged buffers allowed
 * when mrg): a newer one than the last seen, whole and as sent. */
static int recv_host(uint32_t want_len, bool mrg)
{
	uint32_t id, len, got = 0, nbuf = 1;

	for (uint32_t b = 0; b < nbuf; b++) {
		const uint8_t *p;

		EXPECT(vq_wait(&q[Q_RX], WAIT_LONG, &id, &len));
		EXPECT(id < NUM);
		EXPECT(len <= RX_SIZE);
		p = rxb + (uint64_t)id * RX_SIZE;
		if (b == 0) {
			struct vnet_hdr h;
			memcpy(&h, p, NET_HDR);
			EXPECT_EQ(h.flags, 0);
			EXPECT_EQ(h.gso_type, 0);
			EXPECT(h.num_buffers >= 1);
			if (!mrg)
				EXPECT_EQ(h.num_buffers, 1);
			nbuf = h.num_buffers;
			EXPECT(len >= NET_HDR);
			p += NET_HDR;
			len -= NET_HDR;
		}
		EXPECT(got + len <= NETF_GIVE_MAX);
		memcpy(frame + got, p, len);
		got += len;
	}
	EXPECT_EQ(got, want_len);
	EXPECT(!memcmp(frame + NETF_TAG, NETF_HOST, 4));
	uint32_t seq = get32(frame + NETF_SEQ);
	EXPECT(seq >= host_seen);
	EXPECT_EQ(get32(frame + NETF_LEN), want_len);
	for (uint32_t i = NETF_MIN; i < got; i++)
		EXPECT_EQ(frame[i], NETF_BYTE(seq, i));
	host_seen = seq + 1;
	return 0;
}

/* The device stopped: NEEDS_RESET, no used entry on queue qi. */
static int broken(unsigned int qi, uint16_t used_before)
{
	return expect_needs_reset(&q[qi], used_before);
}

/* After a reset: frames both ways again. */
static int still_works(uint64_t features)
{
	TRY(up(features));
	TRY(good(60));
	/* One buffer, all used: a later case's bad one is the next popped. */
	post_rx(1);
	TRY(give(1, 100));
	return recv_host(100, features & NF_MRG);
}

int case_n_frames(void)
{
	uint64_t f = NF_CSUM | NF_MAC | NF_MRG;
	struct vnet_hdr h = { .flags = VNET_F_NEEDS_CSUM, .csum_start = NETF_CSUM_START,
			     .csum_offset = NETF_CSUM_AT - NETF_CSUM_START };

	TRY(up(f));
	TRY(good(NETF_MIN));
	TRY(good(1514));
	/* Header and frame in separate descriptors, the frame split too. */
	build(NETF_GOOD, good_sent++, 1000);
	set_hdr(NULL);
	struct seg s[3] = { { gpa(txb), NET_HDR, 0 }, { gpa(txb) + NET_HDR, 300, 0 },
			    { gpa(txb) + NET_HDR + 300, 700, 0 } };
	TRY(tx_segs(s, 3));
	/* A partial checksum the device completes (the runner checks it). */
	build(NETF_CSUM, good_sent++, 200);
	txb[NET_HDR + NETF_CSUM_AT] = txb[NET_HDR + NETF_CSUM_AT + 1] = 0;
	TRY(tx(&h, 200));
	/* Both ways: two small frames, then one across merged buffers. */
	post_rx(NUM);
	TRY(give(2, 1000));
	TRY(recv_host(1000, true));
	TRY(recv_host(1000, true));
	TRY(give(1, 5000));
	TRY(recv_host(5000, true));
	return done();
}

int case_n_oversized(void)
{
	TRY(up(NF_MAC | NF_MRG));
	TRY(good(FRAME_MAX));         /* the limit itself passes */
	TRY(bad(NULL, FRAME_MAX + 1));
	TRY(bad(NULL, 65550 + 1000));
	TRY(bad(NULL, TX_SIZE - NET_HDR));
	TRY(bad(NULL, 13));           /* shorter than an Ethernet header */
	TRY(bad(NULL, 0));            /* the header alone */
	TRY(good(60));
	/* Without merged buffers a frame larger than one buffer is dropped;
	 * the next one that fits still arrives. */
	TRY(up(NF_MAC));
	post_rx(4);
	TRY(give(1, 3000));
	TRY(give(1, 500));
	TRY(recv_host(500, false));
	return done();
}

int case_n_bad_header(void)
{
	struct vnet_hdr h;

	TRY(up(NF_CSUM | NF_MAC));
	h = (struct vnet_hdr){ .gso_type = VNET_GSO_TCPV4, .hdr_len = 54, .gso_size = 1448 };
	TRY(bad(&h, 3000));
	h = (struct vnet_hdr){ .gso_type = VNET_GSO_UDP, .gso_size = 1 };
	TRY(bad(&h, 100));
	h = (struct vnet_hdr){ .gso_type = VNET_GSO_TCPV6 | VNET_GSO_ECN };
	TRY(bad(&h, 100));
	h = (struct vnet_hdr){ .gso_type = 0xff };
	TRY(bad(&h, 100));
	/* Checksum positions outside the frame. */
	h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .csum_start = 100, .csum_offset = 0 };
	TRY(bad(&h, 100));
	h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 65 };
	TRY(bad(&h, 100));
	h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .csum_start = 0xffff,
			       .csum_offset = 0xffff };
	TRY(bad(&h, 100));
	h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM | 0xfe, .csum_start = 34,
			       .csum_offset = 0xfffe };
	TRY(bad(&h, 100));
	/* hdr_len and gso_size mean nothing without segmentation: passed. */
	h = (struct vnet_hdr){ .hdr_len = 0xffff, .gso_size = 0xffff, .num_buffers = 0xffff };
	build(NETF_GOOD, good_sent++, 100);
	TRY(tx(&h, 100));
	/* Checksum offload the driver did not negotiate. */
	TRY(up(NF_MAC));
	h = (struct vnet_hdr){ .flags = VNET_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16 };
	TRY(bad(&h, 100));
	TRY(good(100));
	return done();
}

static void set_desc(unsigned int qi, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	q[qi].desc[i].addr = addr;
	q[qi].desc[i].len = len;
	q[qi].desc[i].flags = flags;
	q[qi].desc[i].next = next;
}

/* Publishes head on queue qi (kicking it) and expects the device to stop. */
static int post_bad(unsigned int qi, uint16_t head)
{
	uint16_t before = vq_used_idx(&q[qi]);

	vq_publish(&q[qi], head);
	vq_kick(&q[qi]);
	if (qi == Q_RX) {
		/* The device looks at receive buffers when a frame comes. */
		TRY(give(1, 100));
	}
	return broken(qi, before);
}

int case_n_tx_desc(void)
{
	uint64_t f = NF_MAC;
	uint64_t t;

	TRY(up(f));
	t = gpa(txb);
	build(NETF_BAD, 0, 100);
	set_hdr(NULL);
	/* A loop. */
	set_desc(Q_TX, 0, t, NET_HDR, D_NEXT, 1);
	set_desc(Q_TX, 1, t + NET_HDR, 100, D_NEXT, 0);
	TRY(post_bad(Q_TX, 0));
	TRY(still_works(f));
	/* Outside RAM, across its end, and far beyond. */
	set_desc(Q_TX, 0, HOSTILE_MEM_BYTES, NET_HDR + 100, 0, 0);
	TRY(post_bad(Q_TX, 0));
	TRY(still_works(f));
	set_desc(Q_TX, 0, HOSTILE_MEM_BYTES - 64, NET_HDR + 100, 0, 0);
	TRY(post_bad(Q_TX, 0));
	TRY(still_works(f));
	set_desc(Q_TX, 0, t, NET_HDR, D_NEXT, 1);
	set_desc(Q_TX, 1, 1ULL << 47, 100, 0, 0);
	TRY(post_bad(Q_TX, 0));
	TRY(still_works(f));
	/* Device-writable only: no header to read. */
	set_desc(Q_TX, 0, t, NET_HDR + 100, D_WRITE, 0);
	TRY(post_bad(Q_TX, 0));
	TRY(still_works(f));
	/* Indirect (not offered), a next past the table, a head past it. */
	set_desc(Q_TX, 0, t, 16, D_INDIRECT, 0);
	TRY(post_bad(Q_TX, 0));
	TRY(still_works(f));
	set_desc(Q_TX, 0, t, NET_HDR, D_NEXT, NUM);
	TRY(post_bad(Q_TX, 0));
	TRY(still_works(f));
	TRY(post_bad(Q_TX, NUM));
	TRY(still_works(f));
	/* More chains announced than the ring holds. */
	for (uint16_t i = 0; i < NUM; i++)
		set_desc(Q_TX, i, t, NET_HDR + 100, 0, 0);
	uint16_t before = vq_used_idx(&q[Q_TX]);
	q[Q_TX].avail->idx = (uint16_t)(q[Q_TX].avail_idx + NUM + 1);
	mb();
	vq_kick(&q[Q_TX]);
	TRY(broken(Q_TX, before));
	TRY(still_works(f));
	return done();
}

int case_n_rx_desc(void)
{
	uint64_t f = NF_MAC | NF_MRG;
	uint64_t r;

	TRY(up(f));
	r = gpa(rxb);
	/* Device-readable, or smaller than a header. */
	set_desc(Q_RX, 0, r, RX_SIZE, 0, 0);
	TRY(post_bad(Q_RX, 0));
	TRY(still_works(f));
	set_desc(Q_RX, 0, r, NET_HDR - 1, D_WRITE, 0);
	TRY(post_bad(Q_RX, 0));
	TRY(still_works(f));
	/* Writable then readable. */
	set_desc(Q_RX, 0, r, 64, D_WRITE | D_NEXT, 1);
	set_desc(Q_RX, 1, r + 64, 64, D_NEXT, 2);
	set_desc(Q_RX, 2, r + 128, 1024, D_WRITE, 0);
	TRY(post_bad(Q_RX, 0));
	TRY(still_works(f));
	/* A loop, outside RAM, a head past the table. */
	set_desc(Q_RX, 0, r, 64, D_WRITE | D_NEXT, 1);
	set_desc(Q_RX, 1, r + 64, 64, D_WRITE | D_NEXT, 0);
	TRY(post_bad(Q_RX, 0));
	TRY(still_works(f));
	set_desc(Q_RX, 0, HOSTILE_MEM_BYTES - RX_SIZE / 2, RX_SIZE, D_WRITE, 0);
	TRY(post_bad(Q_RX, 0));
	TRY(still_works(f));
	set_desc(Q_RX, 0, 0xfffffffffffff000ULL, RX_SIZE, D_WRITE, 0);
	TRY(post_bad(Q_RX, 0));
	TRY(still_works(f));
	TRY(post_bad(Q_RX, 0xffff));
	TRY(still_works(f));
	/* More chains announced than the ring holds. */
	for (uint16_t i = 0; i < NUM; i++)
		set_desc(Q_RX, i, r, RX_SIZE, D_WRITE, 0);
	uint16_t before = vq_used_idx(&q[Q_RX]);
	q[Q_RX].avail->idx = (uint16_t)(q[Q_RX].avail_idx + NUM + 1);
	mb();
	vq_kick(&q[Q_RX]);
	TRY(give(1, 100));
	TRY(broken(Q_RX, before));
	TRY(still_works(f));
	return done();
}

/* Queue sizes the transport must refuse for this device too, and a
 * queue set up while another stays off. */
int case_n_queues(void)
{
	uint64_t f = NF_MAC;
	static const uint32_t sizes[] = { 0, 3, 257, 512, 0xffff };

	TRY(up(f));
	EXPECT_EQ(mr(VIO_NET, R_DEVICE_ID), 1);
	mw(VIO_NET, R_QUEUE_SEL, Q_RX);
	EXPECT(mr(VIO_NET, R_QUEUE_NUM_MAX) >= NUM);
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		EXPECT_EQ(vio_negotiate(VIO_NET, F_VERSION_1 | f),
			  S_ACK | S_DRIVER | S_FEATURES_OK);
		mw(VIO_NET, R_QUEUE_SEL, Q_TX);
		mw(VIO_NET, R_QUEUE_NUM, sizes[i]);
		mw(VIO_NET, R_DESC_LO, (uint32_t)gpa(q[Q_TX].desc));
		mw(VIO_NET, R_DRIVER_LO, (uint32_t)gpa(q[Q_TX].avail));
		mw(VIO_NET, R_DEVICE_LO, (uint32_t)gpa(q[Q_TX].used));
		mw(VIO_NET, R_QUEUE_READY, 1);
		EXPECT_EQ(mr(VIO_NET, R_QUEUE_READY), 0);
		EXPECT_EQ(mr(VIO_NET, R_STATUS) & S_NEEDS_RESET, S_NEEDS_RESET);
	}
	/* Only the transmit queue: frames still go out. */
	EXPECT_EQ(vio_negotiate(VIO_NET, F_VERSION_1 | f), S_ACK | S_DRIVER | S_FEATURES_OK);
	vq_setup(&q[Q_TX], VIO_NET, Q_TX, NUM);
	mw(VIO_NET, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	TRY(good(60));
	/* A queue index the device does not have. */
	mw(VIO_NET, R_QUEUE_NOTIFY, 7);
	mw(VIO_NET, R_QUEUE_NOTIFY, 0xffff);
	TRY(still_works(f));
	return done();
}
