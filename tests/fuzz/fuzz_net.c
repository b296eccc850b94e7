// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * virtio-net (net.c) between a hostile driver and a hostile backend: the
 * fuzzer is the guest's driver (transmit chains with any virtio-net header,
 * any length, split across descriptors, indirect or device-writable ones,
 * receive buffers of any size and direction, scribbles over the rings) and
 * the backend on the other end of a socketpair (frames of any length, for
 * a stream any length prefix).
 *
 * net.c is compiled into this harness rather than linked: its backend
 * callbacks are static and run from the event thread, which the fake VM
 * never starts; here the harness calls them itself, so each input runs the
 * same way every time.
 *
 * Input: u8 setup (bit 0 stream backend, else tap; bit 1 CSUM, bit 2
 * MRG_RXBUF, bit 3 an MTU offered; bits 4-5 queue size 8 << n), then
 * operations, u8 op then:
 *  op % 7 == 0: transmit: u8 flags, a 12-byte header, u16 frame length
 *     (flags bit 0: + 0xff00, to reach the limits), the frame's bytes; flags
 *     bits 1-2: descriptors (1-4, split at u8 * 64 steps), bit 3 the last
 *     one device-writable, bit 4 the first one indirect, bit 5 the chain
 *     loops back to its head.
 *  op % 7 == 1: receive buffers: u8 count (% 8 + 1; bit 7: size + 0xff00),
 *     u16 size (at most 64 KiB), u8 flags (bit 0 device-readable, bit 1
 *     split in two descriptors).
 *  op % 7 == 2: the backend sends a frame: u8 flags, u16 length (flags bit
 *     0: + 0xff00), for a stream a u32 raw length prefix if flags bit 1,
 *     the bytes; then the device reads.
 *  op % 7 == 3: the backend reads what the device sent (and checks it),
 *     then the device may write again.
 *  op % 7 == 4: u16 offset, u8 length, bytes: a scribble over the rings.
 *  op % 7 == 5: the driver resets the device and brings it up again.
 *  op % 7 == 6: the guest reads its receive queue (and checks it).
 *
 * Beyond the sanitizers: the backend only ever receives whole frames of
 * 14..65553 bytes (a stream's length prefixes in step); the used ring
 * only names posted heads with lengths within their buffers, a frame's
 * header counts the buffers it took; a live device returns every chain it
 * consumed.
 */
#include <sys/socket.h>

#include "fuzz_vm.h"

/* The device under test, renamed so it cannot clash with the library's. */
int fuzz_net_init(struct vm *vm);
#define virtio_net_init fuzz_net_init
#include "../../src/vmm/virtio/net.c"
#undef virtio_net_init

#define MEM (1024 * 1024)
#define MAXNUM 64
#define RX_DESC 0x1000ULL
#define RX_AVAIL 0x2000ULL
#define RX_USED 0x3000ULL
#define TX_DESC 0x4000ULL
#define TX_AVAIL 0x5000ULL
#define TX_USED 0x6000ULL
#define INDIRECT 0x7000ULL
#define RINGS_END 0x8000ULL
#define TX_BUF 0x10000ULL   /* one frame at a time, up to 0x20000 bytes */
#define RX_BUF 0x40000ULL   /* MAXNUM slots of RX_SLOT bytes */
#define RX_SLOT 0x10000ULL
#define VF_NEXT 1
#define VF_WRITE 2
#define VF_INDIRECT 4
#define HDR_LEN 12
#define MAX_OPS 128
#define PEER_BUF (2 * NET_BUF_SIZE)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ring {
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen;
};

struct harness {
	struct vm *vm;
	struct virtio_dev *d;
	struct net *n;
	int peer;
	bool stream;
	uint16_t num;
	uint32_t features;
	struct ring rx, tx;
	uint32_t rx_size[MAXNUM];  /* the buffer posted in slot (= head) i */
	uint16_t tx_next;           /* next free transmit descriptor */
	uint16_t rx_left;           /* buffers of the current frame still to read */
	bool scribbled;             /* the rings are no longer only the harness's */
	uint8_t pbuf[PEER_BUF];     /* the backend's unparsed stream bytes */
	size_t plen;
};

static void put_desc(struct harness *h, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	uint8_t b[16];

	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &flags, 2);
	memcpy(b + 14, &next, 2);
	if (gmem_write(&h->vm->mem, table + 16ULL * i, b, 16))
		abort();
}

static void publish(struct harness *h, struct ring *r, uint16_t head)
{
	if (gmem_write(&h->vm->mem, r->avail + 4 + 2ULL * (r->avail_idx % h->num), &head, 2))
		abort();
	r->avail_idx++;
	if (gmem_write(&h->vm->mem, r->avail + 2, &r->avail_idx, 2))
		abort();
}

/* Bring-up with the features the input picked (VERSION_1 always). */
static void driver_up(struct harness *h)
{
	uint16_t num[2] = { h->num, h->num };
	uint64_t desc[2] = { RX_DESC, TX_DESC }, avail[2] = { RX_AVAIL, TX_AVAIL },
		 used[2] = { RX_USED, TX_USED };

	memset(h->vm->mem.host + RX_DESC, 0, RINGS_END - RX_DESC);
	h->rx = (struct ring){ .desc = RX_DESC, .avail = RX_AVAIL, .used = RX_USED };
	h->tx = (struct ring){ .desc = TX_DESC, .avail = TX_AVAIL, .used = TX_USED };
	h->tx_next = h->rx_left = 0;
	memset(h->rx_size, 0, sizeof(h->rx_size));
	fvm_reg_write(h->d, 0x070, 0);
	fvm_reg_write(h->d, 0x070, 1);
	fvm_reg_write(h->d, 0x070, 3);
	fvm_reg_write(h->d, 0x024, 0);
	fvm_reg_write(h->d, 0x020, h->features);
	fvm_reg_write(h->d, 0x024, 1);
	fvm_reg_write(h->d, 0x020, 1);
	fvm_reg_write(h->d, 0x070, 0xb);
	for (unsigned int q = 0; q < 2; q++) {
		fvm_reg_write(h->d, 0x030, q);
		fvm_reg_write(h->d, 0x038, num[q]);
		fvm_reg_write(h->d, 0x080, (uint32_t)desc[q]);
		fvm_reg_write(h->d, 0x084, 0);
		fvm_reg_write(h->d, 0x090, (uint32_t)avail[q]);
		fvm_reg_write(h->d, 0x094, 0);
		fvm_reg_write(h->d, 0x0a0, (uint32_t)used[q]);
		fvm_reg_write(h->d, 0x0a4, 0);
		fvm_reg_write(h->d, 0x044, 1);
	}
	fvm_reg_write(h->d, 0x070, 0xf);
}

/* What the event thread would do when the backend is ready. */
static void backend_event(struct harness *h)
{
	short want = backend_want(h->n);

	if (want)
		backend_ready(h->n, h->n->fd, want);
}

static void transmit(struct harness *h, struct fuzz_in *in)
{
	uint8_t flags = fin_u8(in), hdr[HDR_LEN];
	uint32_t len, total, at = 0;
	unsigned int nseg = 1 + ((flags >> 1) & 3);
	uint16_t head = (uint16_t)(h->tx_next % h->num), i = head;
	uint64_t table = TX_DESC;

	fin_bytes(in, hdr, HDR_LEN);
	len = fin_u16(in) + (flags & 1 ? 0xff00u : 0);
	total = HDR_LEN + len;
	memset(h->vm->mem.host + TX_BUF, 0, total);
	memcpy(h->vm->mem.host + TX_BUF, hdr, HDR_LEN);
	fin_bytes(in, h->vm->mem.host + TX_BUF + HDR_LEN, len);
	if (flags & 0x10) {
		/* The head points at an indirect table holding the chain. */
		put_desc(h, TX_DESC, head, INDIRECT, 16 * nseg, VF_INDIRECT, 0);
		table = INDIRECT;
		i = 0;
	}
	for (unsigned int s = 0; s < nseg; s++) {
		bool last = s == nseg - 1;
		uint32_t seg = last ? total - at : (uint32_t)fin_u8(in) * 64;
		uint16_t next = (uint16_t)((i + 1) % h->num), f = 0;

		if (seg > total - at)
			seg = total - at;
		if (!last)
			f |= VF_NEXT;
		if (last && (flags & 8))
			f |= VF_WRITE;
		if (last && (flags & 0x20)) {
			f |= VF_NEXT;
			next = table == INDIRECT ? 0 : head;
		}
		put_desc(h, table, i, TX_BUF + at, seg, f, next);
		at += seg;
		i = next;
	}
	h->tx_next = (uint16_t)(h->tx_next + (table == INDIRECT ? 1 : nseg));
	publish(h, &h->tx, head);
	fvm_notify(h->d, Q_TX);
	backend_event(h);
}

static void post_rx(struct harness *h, struct fuzz_in *in)
{
	uint8_t c = fin_u8(in), flags;
	unsigned int count = c % 8 + 1;
	uint32_t size = fin_u16(in) + (c & 0x80 ? 0xff00u : 0);

	flags = fin_u8(in);
	if (size > RX_SLOT)
		size = RX_SLOT;
	for (unsigned int k = 0; k < count; k++) {
		uint16_t outstanding = (uint16_t)(h->rx.avail_idx - h->rx.used_seen);
		/* Two descriptors per buffer at most: slots 0..num/2-1. */
		uint16_t slot = (uint16_t)(h->rx.avail_idx % (h->num / 2)), di = (uint16_t)(2 * slot);
		uint64_t addr = RX_BUF + RX_SLOT * slot;
		uint16_t f = flags & 1 ? 0 : VF_WRITE;

		if (outstanding >= h->num / 2)
			break;
		h->rx_size[di] = size;
		if ((flags & 2) && size > 1) {
			put_desc(h, RX_DESC, di, addr, size / 2, f | VF_NEXT, di + 1);
			put_desc(h, RX_DESC, di + 1, addr + size / 2, size - size / 2, f, 0);
		} else {
			put_desc(h, RX_DESC, di, addr, size, f, 0);
		}
		publish(h, &h->rx, di);
	}
	fvm_notify(h->d, Q_RX);
	backend_event(h);
}

static void backend_send(struct harness *h, struct fuzz_in *in)
{
	uint8_t flags = fin_u8(in);
	uint32_t len = fin_u16(in) + (flags & 1 ? 0xff00u : 0), prefix = htonl(len);
	static uint8_t frame[STREAM_LEN_BYTES + 0x10000 + 0xff00];
	size_t off = 0;

	if (h->stream) {
		if (flags & 2)
			prefix = fin_u32(in);
		memcpy(frame, &prefix, STREAM_LEN_BYTES);
		off = STREAM_LEN_BYTES;
	}
	memset(frame + off, 0, len);
	fin_bytes(in, frame + off, len);
	/* A full socket drops the rest: a stream then goes out of step, as a
	 * broken backend's would. */
	(void)send(h->peer, frame, off + len, MSG_DONTWAIT | MSG_NOSIGNAL);
	backend_event(h);
}

static void check_frame_len(size_t len)
{
	FUZZ_ASSERT(len >= ETH_HDR_LEN && len <= NET_FRAME_MAX,
		    "the backend got a frame of %zu bytes", len);
}

/* The backend's side: whole, well-formed frames only. */
static void backend_recv(struct harness *h)
{
	static uint8_t buf[NET_BUF_SIZE];
	ssize_t r;

	while ((r = recv(h->peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (!h->stream) {
			check_frame_len((size_t)r);
			continue;
		}
		FUZZ_ASSERT(h->plen + (size_t)r <= PEER_BUF, "a stream frame never ends");
		memcpy(h->pbuf + h->plen, buf, (size_t)r);
		h->plen += (size_t)r;
		for (;;) {
			uint32_t be, l;

			if (h->plen < STREAM_LEN_BYTES)
				break;
			memcpy(&be, h->pbuf, sizeof(be));
			l = ntohl(be);
			check_frame_len(l);
			if (h->plen < STREAM_LEN_BYTES + (size_t)l)
				break;
			h->plen -= STREAM_LEN_BYTES + l;
			memmove(h->pbuf, h->pbuf + STREAM_LEN_BYTES + l, h->plen);
		}
	}
	backend_event(h);
}

/* Over a descriptor table or an avail ring (the used rings are the
 * device's: the harness reads them). */
static void scribble(struct harness *h, struct fuzz_in *in)
{
	uint16_t off = fin_u16(in);
	uint8_t len = fin_u8(in);
	uint64_t base = off & 0x8000 ? TX_DESC : RX_DESC;
	uint64_t at = base + off % 0x2000, end = base + 0x2000;

	if (at + len > end)
		len = (uint8_t)(end - at);
	fin_bytes(in, h->vm->mem.host + at, len);
	h->scribbled = true;
}

/* The guest's side of the receive queue: what the device published. */
static void read_rx(struct harness *h)
{
	uint16_t used_idx;

	if (gmem_read(&h->vm->mem, RX_USED + 2, &used_idx, 2))
		abort();
	while (h->rx.used_seen != used_idx) {
		uint32_t el[2];
		struct vnet_hdr nh;

		if (gmem_read(&h->vm->mem, RX_USED + 4 + 8ULL * (h->rx.used_seen % h->num), el, 8))
			abort();
		h->rx.used_seen++;
		FUZZ_ASSERT(el[0] < h->num, "used id %u", el[0]);
		/* After a scribble the buffers are not the harness's to know. */
		if (h->scribbled)
			continue;
		FUZZ_ASSERT(el[0] % 2 == 0 && h->rx_size[el[0]], "used id %u was never posted",
			    el[0]);
		FUZZ_ASSERT(el[1] <= h->rx_size[el[0]], "%u bytes used in a buffer of %u", el[1],
			    h->rx_size[el[0]]);
		if (h->rx_left) {
			h->rx_left--;
			continue;
		}
		/* A frame's first buffer: a header, counting the buffers. */
		memcpy(&nh, h->vm->mem.host + RX_BUF + RX_SLOT * (el[0] / 2), sizeof(nh));
		FUZZ_ASSERT(el[1] >= HDR_LEN + ETH_HDR_LEN, "a frame of %u bytes with its header",
			    el[1]);
		FUZZ_ASSERT(nh.flags == 0 && nh.gso_type == VNET_GSO_NONE, "header flags %u gso %u",
			    nh.flags, nh.gso_type);
		FUZZ_ASSERT(nh.num_buffers >= 1 &&
				    (nh.num_buffers == 1 || (h->features & 1u << F_MRG_RXBUF)),
			    "num_buffers %u", nh.num_buffers);
		h->rx_left = (uint16_t)(nh.num_buffers - 1);
	}
}

static void check_returned(struct harness *h)
{
	pthread_mutex_lock(&h->d->lock);
	for (unsigned int q = 0; q < 2 && virtio_dev_live(h->d); q++) {
		const struct virtq *vq = &h->d->vqs[q];

		FUZZ_ASSERT(vq->last_avail == vq->used_idx, "queue %u: %u chains consumed, %u returned",
			    q, vq->last_avail, vq->used_idx);
	}
	pthread_mutex_unlock(&h->d->lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness harness; /* large buffers: not zeroed each time */
	struct fuzz_in in = { data, size };
	struct harness *h = &harness;
	uint8_t setup = fin_u8(&in);
	int sv[2];

	h->stream = setup & 1;
	h->features = (setup & 2 ? 1u << F_CSUM : 0) | (setup & 4 ? 1u << F_MRG_RXBUF : 0) |
		      1u << F_MAC | (setup & 8 ? 1u << F_MTU : 0);
	h->num = (uint16_t)(8u << ((setup >> 4) & 3));
	h->plen = 0;
	h->scribbled = false;
	if (socketpair(AF_UNIX, (h->stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0, sv))
		abort();
	h->peer = sv[1];
	h->vm = fvm_new(MEM, false);
	h->vm->cfg.net_backend = h->stream ? NET_BACKEND_STREAM : NET_BACKEND_TAP;
	h->vm->cfg.net_fd = sv[0];
	h->vm->cfg.net_mtu = setup & 8 ? 1500 : 0;
	memcpy(h->vm->cfg.net_mac, "\x02\x00\x00\x00\x00\x01", 6);
	if (fuzz_net_init(h->vm))
		abort();
	h->d = h->vm->virtio[h->vm->nr_virtio - 1];
	h->n = h->d->priv;
	driver_up(h);

	for (unsigned int k = 0; k < MAX_OPS && in.left; k++) {
		switch (fin_u8(&in) % 7) {
		case 0:
			transmit(h, &in);
			break;
		case 1:
			post_rx(h, &in);
			break;
		case 2:
			backend_send(h, &in);
			break;
		case 3:
			backend_recv(h);
			break;
		case 4:
			scribble(h, &in);
			break;
		case 5:
			driver_up(h);
			break;
		default:
			read_rx(h);
			break;
		}
		check_returned(h);
	}
	backend_recv(h);
	read_rx(h);
	check_returned(h);
	fvm_free(h->vm);
	close(h->peer);
	return 0;
}
