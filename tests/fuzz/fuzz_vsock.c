// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vsock packet layer (vsock.c) and, behind it, the control channel:
 * the fuzzer is the guest's vsock driver. Rings are well-formed (the
 * virtq target fuzzes those); packets, their headers and payloads, how
 * they are split across descriptors, and the receive buffers offered are
 * the fuzzer's.
 *
 * Input: operations, u8 op then:
 *  op % 4 == 0: send a packet: u8 flags, a 44-byte header, u16 payload
 *     length (% 8192), the payload. flags bit 0: header and payload in
 *     separate descriptors; bit 1: payload split in two at u8 * 32;
 *     bit 2: address it to the control port (src 3, dst 2, stream, port
 *     1024); bit 3: hdr.len = payload length.
 *  op % 4 == 1: offer u8 % 8 + 1 receive buffers of u16 % 4096 bytes each.
 *  op % 4 == 2: the host's stdin ends (control_stdin_eof: STDIN_EOF).
 *  op % 4 == 3: read what the device put in the receive buffers.
 *
 * Beyond the sanitizers: every packet the device sends fits its buffer,
 * comes from CID 2 to CID 3, carries data only as OP_RW with at least one
 * byte, and the control records in the data are ones the guest accepts.
 */
#include <string.h>

#include "control.h"
#include "fuzz_vm.h"
#include "../../src/guest/control_proto.h"

#define MEM (512 * 1024)
#define Q_RX 0
#define Q_TX 1
#define NUM 64
#define RX_BUF 0x10000ULL   /* NUM slots of 4 KiB */
#define RX_SLOT 0x1000ULL
#define TX_BUF 0x60000ULL   /* one packet at a time */
#define F_NEXT 1
#define F_WRITE 2
#define HDR 44
#define MAX_OPS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ring {
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen;
};

struct guest {
	struct vm *vm;
	struct virtio_dev *d;
	struct ring rx, tx;
	uint32_t rx_size[NUM];          /* buffer size by descriptor */
	unsigned int rx_posted;         /* buffers offered in all */
	uint8_t stream[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_MAX_PAYLOAD];
	size_t have;                    /* bytes of the current host record */
};

static void put_desc(struct guest *g, struct ring *r, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint8_t b[16];

	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &flags, 2);
	memcpy(b + 14, &next, 2);
	if (gmem_write(&g->vm->mem, r->desc + 16ULL * i, b, 16))
		abort();
}

static void publish(struct guest *g, struct ring *r, uint16_t head)
{
	if (gmem_write(&g->vm->mem, r->avail + 4 + 2ULL * (r->avail_idx % NUM), &head, 2))
		abort();
	r->avail_idx++;
	if (gmem_write(&g->vm->mem, r->avail + 2, &r->avail_idx, 2))
		abort();
}

static void send_packet(struct guest *g, struct fuzz_in *in)
{
	uint8_t flags = fin_u8(in), hdr[HDR];
	uint32_t len, split;
	uint16_t n = 0;

	fin_bytes(in, hdr, HDR);
	len = fin_u16(in) % 8192;
	split = (uint32_t)fin_u8(in) * 32;
	if (flags & 4) {
		uint64_t src = 3, dst = ALCATRAZ_CTL_HOST_CID;
		uint32_t port = ALCATRAZ_CTL_VSOCK_PORT;
		uint16_t type = 1;
		memcpy(hdr, &src, 8);
		memcpy(hdr + 8, &dst, 8);
		memcpy(hdr + 20, &port, 4);
		memcpy(hdr + 28, &type, 2);
	}
	if (flags & 8)
		memcpy(hdr + 24, &len, 4);
	memset(g->vm->mem.host + TX_BUF, 0, HDR + len);
	memcpy(g->vm->mem.host + TX_BUF, hdr, HDR);
	fin_bytes(in, g->vm->mem.host + TX_BUF + HDR, len);
	if (!(flags & 1) || !len) {
		put_desc(g, &g->tx, n, TX_BUF, HDR + len, 0, 0);
		n++;
	} else {
		put_desc(g, &g->tx, n, TX_BUF, HDR, F_NEXT, n + 1);
		n++;
		if ((flags & 2) && split && split < len) {
			put_desc(g, &g->tx, n, TX_BUF + HDR, split, F_NEXT, n + 1);
			n++;
			put_desc(g, &g->tx, n, TX_BUF + HDR + split, len - split, 0, 0);
		} else {
			put_desc(g, &g->tx, n, TX_BUF + HDR, len, 0, 0);
		}
	}
	publish(g, &g->tx, 0);
	fvm_notify(g->d, Q_TX);
}

static void offer_rx(struct guest *g, struct fuzz_in *in)
{
	unsigned int count = fin_u8(in) % 8 + 1;
	uint32_t size = fin_u16(in) % 4096 + 1;

	for (unsigned int i = 0; i < count; i++) {
		uint16_t outstanding = (uint16_t)(g->rx.avail_idx - g->rx.used_seen);
		uint16_t di = (uint16_t)(g->rx_posted % NUM);

		if (outstanding >= NUM)
			break;
		g->rx_size[di] = size;
		put_desc(g, &g->rx, di, RX_BUF + di * RX_SLOT, size, F_WRITE, 0);
		publish(g, &g->rx, di);
		g->rx_posted++;
	}
	fvm_notify(g->d, Q_RX);
}

/* The guest's side of the control stream: records must pass its checks. */
static void take_stream(struct guest *g, const uint8_t *p, uint32_t len)
{
	while (len) {
		size_t want = ALCATRAZ_CTL_HDR_SIZE, n;
		uint32_t type, rlen;

		if (g->have >= ALCATRAZ_CTL_HDR_SIZE) {
			FUZZ_ASSERT(!alcatraz_ctl_check_hdr(g->stream, 0, &type, &rlen),
				    "the host sent a record the guest refuses");
			want += rlen;
		}
		n = want - g->have < len ? want - g->have : len;
		memcpy(g->stream + g->have, p, n);
		g->have += n;
		p += n;
		len -= (uint32_t)n;
		if (g->have >= ALCATRAZ_CTL_HDR_SIZE) {
			FUZZ_ASSERT(!alcatraz_ctl_check_hdr(g->stream, 0, &type, &rlen),
				    "the host sent a record the guest refuses");
			if (g->have == ALCATRAZ_CTL_HDR_SIZE + rlen)
				g->have = 0;
		}
	}
}

static void read_rx(struct guest *g)
{
	uint16_t used_idx;

	if (gmem_read(&g->vm->mem, g->rx.used + 2, &used_idx, 2))
		abort();
	while (g->rx.used_seen != used_idx) {
		uint32_t el[2], plen, op;
		uint64_t src, dst;
		const uint8_t *b;

		if (gmem_read(&g->vm->mem, g->rx.used + 4 + 8ULL * (g->rx.used_seen % NUM), el, 8))
			abort();
		g->rx.used_seen++;
		FUZZ_ASSERT(el[0] < NUM, "used id %u", el[0]);
		FUZZ_ASSERT(el[1] >= HDR && el[1] <= g->rx_size[el[0]],
			    "%u bytes used in a buffer of %u", el[1], g->rx_size[el[0]]);
		b = g->vm->mem.host + RX_BUF + el[0] * RX_SLOT;
		memcpy(&src, b, 8);
		memcpy(&dst, b + 8, 8);
		memcpy(&plen, b + 24, 4);
		op = (uint32_t)b[30] | (uint32_t)b[31] << 8;
		FUZZ_ASSERT(src == ALCATRAZ_CTL_HOST_CID && dst == 3, "packet from %lu to %lu",
			    (unsigned long)src, (unsigned long)dst);
		FUZZ_ASSERT(el[1] == HDR + plen, "used length %u for a %u-byte payload", el[1], plen);
		FUZZ_ASSERT(plen == 0 || op == 5, "op %u with %u bytes of data", op, plen);
		FUZZ_ASSERT(op != 5 || plen > 0, "an empty data packet (OP_RW, len 0)");
		take_stream(g, b + HDR, plen);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest guest; /* the record buffer is large: not zeroed each time */
	struct fuzz_in in = { data, size };
	struct guest *g = &guest;
	uint16_t num[3] = { NUM, NUM, 8 };
	uint64_t desc[3] = { 0x1000, 0x4000, 0x7000 }, avail[3] = { 0x2000, 0x5000, 0x7800 },
		 used[3] = { 0x3000, 0x6000, 0x7c00 };

	memset(g->rx_size, 0, sizeof(g->rx_size));
	g->rx_posted = 0;
	g->have = 0;
	g->vm = fvm_new(MEM, true);
	g->d = fvm_add_device(g->vm, FDEV_VSOCK);
	g->rx = (struct ring){ .desc = desc[Q_RX], .avail = avail[Q_RX], .used = used[Q_RX] };
	g->tx = (struct ring){ .desc = desc[Q_TX], .avail = avail[Q_TX], .used = used[Q_TX] };
	fvm_driver_init(g->d, num, desc, avail, used);
	for (unsigned int n = 0; n < MAX_OPS && in.left; n++) {
		switch (fin_u8(&in) % 4) {
		case 0:
			send_packet(g, &in);
			break;
		case 1:
			offer_rx(g, &in);
			break;
		case 2:
			control_stdin_eof(g->vm, 0);
			break;
		default:
			read_rx(g);
			break;
		}
	}
	read_rx(g);
	fvm_free(g->vm);
	return 0;
}
