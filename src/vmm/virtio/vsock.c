// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * virtio-vsock (virtio 1.2, section 5.10), emulated in-process: the only
 * peer is the control channel, so the device accepts exactly one stream
 * connection, from the guest to host CID 2 on the control port, and resets
 * everything else. Flow control is the spec's credit scheme: we never send
 * more than the guest advertised room for, and we consume what the guest
 * sends at once, so our own credit is returned as soon as half is used.
 *
 * The guest's CID is GUEST_CID for a booted VM. A VM restored from a
 * snapshot whose init takes sessions gets a random one (each VMM's device
 * is its own: no CID namespace is shared with anything) and the transport
 * reset event, which makes the guest kernel read it and fail the
 * snapshot's connection; init connects again for a new session.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "control.h"
#include "virtio.h"
#include "../../guest/control_proto.h"

#define VIRTIO_ID_VSOCK 19
#define Q_RX 0
#define Q_TX 1
#define Q_EVENT 2

#define GUEST_CID 3
/* The largest CID: Linux keeps it in 32 bits, -1 is VMADDR_CID_ANY. */
#define CID_MAX 0xfffffffeull
#define EVENT_TRANSPORT_RESET 0
#define EVENT_LEN 4
#define TYPE_STREAM 1
#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RST 3
#define OP_SHUTDOWN 4
#define OP_RW 5
#define OP_CREDIT_UPDATE 6
#define OP_CREDIT_REQUEST 7

#define HOST_BUF_ALLOC (256u * 1024u)
#define MAX_PKT_PAYLOAD 65536u
#define CTL_QUEUE 16

struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

_Static_assert(sizeof(struct vsock_hdr) == 44, "virtio_vsock_hdr is 44 bytes");

struct ctl_pkt {
	uint16_t op;
	uint32_t host_port, guest_port;
};

struct vsock {
	struct virtio_dev *dev;
	uint64_t cid;               /* the guest's, as in the config space */
	bool connected, used;       /* one connection per VM (or session) */
	bool reset_pending;         /* a transport reset event to send */
	bool reconnecting;          /* reset: the next connection is taken */
	uint32_t guest_port;
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	uint32_t tx_cnt;            /* payload bytes sent to the guest */
	uint32_t fwd_cnt;           /* payload bytes received and consumed */
	uint32_t fwd_reported;      /* fwd_cnt as last told to the guest */
	struct ctl_pkt ctl[CTL_QUEUE];
	unsigned int nctl;
	uint8_t *buf;               /* staging for one packet's payload */
	struct vq_elem elem;
};

static void queue_ctl(struct vsock *v, uint16_t op, uint32_t host_port, uint32_t guest_port)
{
	if (v->nctl >= CTL_QUEUE)
		return; /* a guest flooding us with bad packets loses replies */
	v->ctl[v->nctl++] = (struct ctl_pkt){ op, host_port, guest_port };
}

static uint32_t peer_credit(const struct vsock *v)
{
	uint32_t in_flight = v->tx_cnt - v->peer_fwd_cnt;

	return in_flight > v->peer_buf_alloc ? 0 : v->peer_buf_alloc - in_flight;
}

/* Sends queued control packets and control-channel data into the guest's
 * receive buffers. Device lock held. */
static void flush_rx(struct vsock *v)
{
	struct virtio_dev *d = v->dev;
	struct vq_elem *e = &v->elem;
	bool any = false;

	for (;;) {
		struct vsock_hdr h = { .src_cid = ALCATRAZ_CTL_HOST_CID, .dst_cid = v->cid,
				       .type = TYPE_STREAM };
		uint32_t n = 0;
		bool data = false;

		if (v->nctl == 0) {
			data = v->connected && peer_credit(v) > 0 && control_has_output(d->vm);
			if (!data)
				break;
		}
		if (virtio_pop(d, Q_RX, e) <= 0)
			break;
		if (e->in_len < sizeof(h)) {
			virtio_dev_needs_reset(d, "receive buffer smaller than a packet header");
			break;
		}
		if (data) {
			uint64_t room = e->in_len - sizeof(h);
			uint32_t max = peer_credit(v);
			/* A data packet carries at least one byte: an OP_RW of
			 * length 0 means nothing, and sending one per buffer
			 * would empty the ring for nothing. A driver that posts
			 * receive buffers with no room past the header cannot
			 * receive data at all: the device stops. */
			if (room == 0) {
				virtio_dev_needs_reset(d, "receive buffer with no room for data");
				break;
			}
			if (max > room)
				max = (uint32_t)room;
			if (max > MAX_PKT_PAYLOAD)
				max = MAX_PKT_PAYLOAD;
			n = (uint32_t)control_take(d->vm, v->buf, max);
			h.op = OP_RW;
			h.src_port = ALCATRAZ_CTL_VSOCK_PORT;
			h.dst_port = v->guest_port;
			v->tx_cnt += n;
		} else {
			struct ctl_pkt *p = &v->ctl[0];
			h.op = p->op;
			h.src_port = p->host_port;
			h.dst_port = p->guest_port;
			memmove(&v->ctl[0], &v->ctl[1], --v->nctl * sizeof(v->ctl[0]));
		}
		h.len = n;
		h.buf_alloc = HOST_BUF_ALLOC;
		h.fwd_cnt = v->fwd_cnt;
		v->fwd_reported = v->fwd_cnt;
		buf_to_iov(e->in, e->n_in, 0, &h, sizeof(h));
		if (n)
			buf_to_iov(e->in, e->n_in, sizeof(h), v->buf, n);
		(void)vq_push(&d->vm->mem, &d->vqs[Q_RX], e->head, (uint32_t)sizeof(h) + n);
		any = true;
	}
	if (any)
		virtio_signal_used(d, Q_RX);
}

static void disconnect(struct vsock *v)
{
	if (!v->connected)
		return;
	v->connected = false;
	control_disconnected(v->dev->vm);
}

/* One packet from the guest. Device lock held. */
static void handle_tx(struct vsock *v, const struct vq_elem *e)
{
	struct vm *vm = v->dev->vm;
	struct vsock_hdr h;
	bool ours;

	if (iov_to_buf(e->out, e->n_out, 0, &h, sizeof(h)) != sizeof(h))
		return; /* not even a header: dropped */
	if (h.src_cid != v->cid || h.dst_cid != ALCATRAZ_CTL_HOST_CID)
		return; /* misaddressed: nobody to answer */
	if (h.type != TYPE_STREAM) {
		if (h.op != OP_RST)
			queue_ctl(v, OP_RST, h.dst_port, h.src_port);
		return;
	}
	ours = v->connected && h.src_port == v->guest_port &&
	       h.dst_port == ALCATRAZ_CTL_VSOCK_PORT;
	if (ours) {
		v->peer_buf_alloc = h.buf_alloc;
		v->peer_fwd_cnt = h.fwd_cnt;
	}
	switch (h.op) {
	case OP_REQUEST:
		if (h.dst_port == ALCATRAZ_CTL_VSOCK_PORT && !v->used) {
			v->used = v->connected = true;
			v->reconnecting = false;
			v->guest_port = h.src_port;
			v->peer_buf_alloc = h.buf_alloc;
			v->peer_fwd_cnt = h.fwd_cnt;
			queue_ctl(v, OP_RESPONSE, h.dst_port, h.src_port);
			control_connected(vm);
		} else {
			queue_ctl(v, OP_RST, h.dst_port, h.src_port);
		}
		break;
	case OP_RW: {
		uint64_t off = sizeof(h);
		if (!ours) {
			queue_ctl(v, OP_RST, h.dst_port, h.src_port);
			break;
		}
		if (h.len > e->out_len - sizeof(h) || h.len > HOST_BUF_ALLOC) {
			virtio_dev_needs_reset(v->dev, "packet length beyond its buffer");
			break;
		}
		while (off < sizeof(h) + (uint64_t)h.len) {
			size_t chunk = sizeof(h) + h.len - off;
			if (chunk > MAX_PKT_PAYLOAD)
				chunk = MAX_PKT_PAYLOAD;
			iov_to_buf(e->out, e->n_out, off, v->buf, chunk);
			off += chunk;
			if (control_receive(vm, v->buf, chunk) < 0) {
				queue_ctl(v, OP_RST, ALCATRAZ_CTL_VSOCK_PORT, v->guest_port);
				v->connected = false;
				return;
			}
		}
		v->fwd_cnt += h.len;
		if (v->fwd_cnt - v->fwd_reported >= HOST_BUF_ALLOC / 2)
			queue_ctl(v, OP_CREDIT_UPDATE, ALCATRAZ_CTL_VSOCK_PORT, v->guest_port);
		break;
	}
	case OP_CREDIT_UPDATE:
		break; /* credit already taken from the header */
	case OP_CREDIT_REQUEST:
		if (ours)
			queue_ctl(v, OP_CREDIT_UPDATE, ALCATRAZ_CTL_VSOCK_PORT, v->guest_port);
		break;
	case OP_SHUTDOWN:
		if (ours) {
			queue_ctl(v, OP_RST, ALCATRAZ_CTL_VSOCK_PORT, v->guest_port);
			disconnect(v);
		}
		break;
	case OP_RST:
		if (ours)
			disconnect(v);
		break;
	default:
		if (ours || h.op == OP_RESPONSE)
			queue_ctl(v, OP_RST, h.dst_port, h.src_port);
		break;
	}
}

/* The transport reset (virtio 1.2, 5.10.6.7), into the guest's first event
 * buffer; without one it waits for the driver to post one. The CID in the
 * configuration changed with it. Device lock held. */
static void send_reset(struct vsock *v)
{
	struct virtio_dev *d = v->dev;
	uint8_t ev[EVENT_LEN];

	if (virtio_pop(d, Q_EVENT, &v->elem) <= 0)
		return;
	if (v->elem.in_len < sizeof(ev)) {
		virtio_dev_needs_reset(d, "event buffer smaller than an event");
		return;
	}
	alcatraz_ctl_put_le32(ev, EVENT_TRANSPORT_RESET);
	buf_to_iov(v->elem.in, v->elem.n_in, 0, ev, sizeof(ev));
	(void)vq_push(&d->vm->mem, &d->vqs[Q_EVENT], v->elem.head, sizeof(ev));
	v->reset_pending = false;
	d->config_gen++;
	virtio_signal_used(d, Q_EVENT);
}

static void vsock_notify(struct virtio_dev *d, unsigned int q)
{
	struct vsock *v = d->priv;

	if (v->reset_pending)
		send_reset(v);
	if (q == Q_TX) {
		unsigned int n = 0;
		while (n < VQ_NOTIFY_BUDGET && virtio_pop(d, Q_TX, &v->elem) > 0) {
			uint16_t head = v->elem.head;
			handle_tx(v, &v->elem);
			(void)vq_push(&d->vm->mem, &d->vqs[Q_TX], head, 0);
			n++;
		}
		if (n)
			virtio_signal_used(d, Q_TX);
		if (n == VQ_NOTIFY_BUDGET)
			virtio_notify_again(d, Q_TX);
	}
	/* Q_EVENT: its buffers wait for a transport reset. */
	flush_rx(v);
}

void virtio_vsock_flush(struct vm *vm)
{
	struct virtio_dev *d = vm->vsock_dev;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	if (virtio_dev_live(d))
		flush_rx(d->priv);
	pthread_mutex_unlock(&d->lock);
}

static void vsock_reset(struct virtio_dev *d)
{
	struct vsock *v = d->priv;

	/* A driver reset drops the connection (5.10.6.6); a new driver reads
	 * the CID anyway. */
	v->nctl = 0;
	v->reset_pending = false;
	disconnect(v);
}

static void vsock_free(struct virtio_dev *d)
{
	struct vsock *v = d->priv;

	free(v->buf);
	free(v);
}

/* Snapshots: u32 flags (1 connected, 2 used), u32 the guest's port, u32
 * its buffer and u32 its forward count as last told, u32 our sent and u32
 * our consumed payload bytes, u32 the consumed count as last told, u64 the
 * guest's CID, then the control channel's state (control.c) when a
 * connection exists. The counters are the guest's business (peer_credit()
 * bounds what they allow); control packets not yet sent are not state a
 * snapshot holds. */
#define VSOCK_SNAP_CONNECTED 1u
#define VSOCK_SNAP_USED 2u
#define VSOCK_SNAP_WORDS 7
#define VSOCK_SNAP_CID (4 * VSOCK_SNAP_WORDS)
#define VSOCK_SNAP_LEN (VSOCK_SNAP_CID + 8)

static int vsock_snap_save(struct virtio_dev *d, uint8_t *buf, size_t cap, const char **why)
{
	struct vsock *v = d->priv;
	uint32_t w[VSOCK_SNAP_WORDS] = {
		(v->connected ? VSOCK_SNAP_CONNECTED : 0) | (v->used ? VSOCK_SNAP_USED : 0),
		v->guest_port, v->peer_buf_alloc, v->peer_fwd_cnt, v->tx_cnt, v->fwd_cnt,
		v->fwd_reported
	};
	int ret;

	if (cap < VSOCK_SNAP_LEN + CONTROL_SNAP_LEN) {
		*why = "vsock state too large";
		return -EINVAL;
	}
	if (v->nctl) {
		*why = "vsock control packets in flight";
		return -EBUSY;
	}
	if (v->reset_pending || v->reconnecting) {
		*why = "the control channel is connecting again";
		return -EBUSY;
	}
	if (v->used && !v->connected) {
		*why = "the control channel was closed";
		return -ENOTSUP;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(w); i++)
		alcatraz_ctl_put_le32(buf + 4 * i, w[i]);
	alcatraz_ctl_put_le64(buf + VSOCK_SNAP_CID, v->cid);
	if (!v->connected)
		return VSOCK_SNAP_LEN;
	ret = control_snap_save(d->vm, buf + VSOCK_SNAP_LEN, why);
	return ret < 0 ? ret : VSOCK_SNAP_LEN + ret;
}

static bool cid_valid(uint64_t cid)
{
	return cid > ALCATRAZ_CTL_HOST_CID && cid <= CID_MAX;
}

/* A clone's CID: random, valid, not the snapshot's. */
static int new_cid(uint64_t old, uint64_t *cid)
{
	for (int i = 0; i < 8; i++) {
		uint32_t r;

		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -EIO;
		if (cid_valid(r) && r != old) {
			*cid = r;
			return 0;
		}
	}
	return -EIO;
}

static void set_cid(struct vsock *v, uint64_t cid)
{
	v->cid = cid;
	alcatraz_ctl_put_le64(v->dev->config, cid);
	v->dev->config_len = sizeof(cid);
}

static int vsock_snap_restore(struct virtio_dev *d, const uint8_t *buf, size_t len,
			      const char **why)
{
	struct vsock *v = d->priv;
	uint32_t w[VSOCK_SNAP_WORDS];
	uint64_t cid, fresh = 0;
	bool new_session = false;

	if (len != VSOCK_SNAP_LEN && len != VSOCK_SNAP_LEN + CONTROL_SNAP_LEN) {
		*why = "vsock state of the wrong length";
		return -EINVAL;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(w); i++)
		w[i] = alcatraz_ctl_get_le32(buf + 4 * i);
	cid = alcatraz_ctl_get_le64(buf + VSOCK_SNAP_CID);
	/* Connected and used, with the channel's state; or never used. */
	if (w[0] == (VSOCK_SNAP_CONNECTED | VSOCK_SNAP_USED) ? len == VSOCK_SNAP_LEN
	    : (w[0] != 0 || len != VSOCK_SNAP_LEN)) {
		*why = "bad vsock connection state";
		return -EINVAL;
	}
	if (!cid_valid(cid)) {
		*why = "bad vsock guest CID";
		return -EINVAL;
	}
	if (w[0]) {
		int ret = new_cid(cid, &fresh);

		if (ret) {
			*why = "no host entropy for a new guest CID";
			return ret;
		}
		ret = control_snap_restore(d->vm, buf + VSOCK_SNAP_LEN, &new_session, why);
		if (ret)
			return ret;
	}
	v->nctl = 0;
	if (new_session) {
		/* The snapshot's connection ends with the reset; one new one
		 * is taken, from the new CID, with counters of its own. */
		v->guest_port = v->peer_buf_alloc = v->peer_fwd_cnt = 0;
		v->tx_cnt = v->fwd_cnt = v->fwd_reported = 0;
		v->connected = v->used = false;
		v->reset_pending = v->reconnecting = true;
		set_cid(v, fresh);
		return 0;
	}
	v->connected = v->used = w[0] != 0;
	v->guest_port = w[1];
	v->peer_buf_alloc = w[2];
	v->peer_fwd_cnt = w[3];
	v->tx_cnt = w[4];
	v->fwd_cnt = w[5];
	v->fwd_reported = w[6];
	set_cid(v, cid);
	return 0;
}

static const struct virtio_dev_ops vsock_ops = {
	.notify = vsock_notify,
	.reset = vsock_reset,
	.free = vsock_free,
	.snapshot = true,
	.save = vsock_snap_save,
	.restore = vsock_snap_restore,
};

int virtio_vsock_init(struct vm *vm)
{
	struct vsock *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return -ENOMEM;
	v->buf = malloc(MAX_PKT_PAYLOAD);
	if (!v->buf) {
		free(v);
		return -ENOMEM;
	}
	ret = virtio_dev_add(vm, "vsock", VIRTIO_ID_VSOCK, 0, 3, &vsock_ops, v, &v->dev);
	if (ret) {
		free(v->buf);
		free(v);
		return ret;
	}
	set_cid(v, GUEST_CID);
	vm->vsock_dev = v->dev;
	return 0;
}
