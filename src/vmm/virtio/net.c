// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * virtio-net (virtio 1.2, section 5.1): one receive and one transmit queue,
 * mergeable receive buffers, and transmit checksum offload (the device
 * completes a partial checksum itself). No segmentation offload: the
 * backends carry plain Ethernet frames, so a TSO frame would have to be cut
 * up here.
 *
 * The backend is one descriptor the library opened before the jail:
 * - a tap device (NET_BACKEND_TAP): one read() or write() is one frame;
 * - a stream socket (NET_BACKEND_STREAM), passt's and QEMU's "stream"
 *   protocol: each frame is preceded by its length as a 32-bit big-endian
 *   number. Each record (length and frame) goes in a send() of its own,
 *   and only when the socket has room for all of it (see tx_write_stream).
 * All backend I/O is non-blocking and happens in the device thread. Frames
 * from the backend are read only while the guest has receive buffers; a
 * frame that does not fit waits until the guest posts more. Transmit chains
 * are copied out (the guest cannot change a frame while its checksum is
 * computed) and returned at once; a backend that does not take them pushes
 * back: the queue is not looked at again until it has room.
 *
 * Every frame from the guest is hostile: a chain without a whole header
 * stops the device (NEEDS_RESET); a frame that is too short or too long, or
 * whose header asks for something not negotiated or points outside the
 * frame, is dropped and counted. A receive buffer that is readable or
 * smaller than a header stops the device.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "evloop.h"
#include "net_hdr.h"
#include "virtio.h"
#include "../../guest/control_proto.h"

#define VIRTIO_ID_NET 1
#define Q_RX 0
#define Q_TX 1

#define F_CSUM 0
#define F_MTU 3
#define F_MAC 5
#define F_MRG_RXBUF 15
#define S_LINK_UP 1

#define ETH_HDR_LEN 14
/* The largest frame either way: a 64 KiB IP packet behind an Ethernet header
 * with one VLAN tag. */
#define NET_FRAME_MAX (ETH_HDR_LEN + 4 + 65535)
#define STREAM_LEN_BYTES 4
/* Backend staging in each direction: several frames per system call
 * (receive), several frames queued for the socket (transmit). */
#define NET_BUF_SIZE (256u * 1024u)
/* What a Unix stream socket charges its send buffer beyond the data: the
 * kernel cuts a send into buffers of at most about 32 KiB (fewer bytes with
 * a small SO_SNDBUF), each costing up to a page of head and its bookkeeping
 * on top. Over-estimated on purpose. */
#define STREAM_SKB_DATA_MAX (32u * 1024u)
#define STREAM_SKB_COST 4608u

_Static_assert(NET_BUF_SIZE >= STREAM_LEN_BYTES + NET_FRAME_MAX, "a frame fits the buffers");

enum rx_result { RX_DONE, RX_DROPPED, RX_NO_ROOM };

struct net {
	struct virtio_dev *dev;
	int fd;
	enum vm_net_backend kind;
	bool dead;                 /* the backend hung up or failed */
	/* From the backend: [ioff, ilen) not yet delivered. */
	uint8_t *ibuf;
	size_t ilen, ioff;
	uint32_t iskip;            /* stream: bytes of a refused frame still to skip */
	bool rx_blocked;           /* a whole frame waits for receive buffers */
	/* To the backend: [ooff, olen) not yet written; stream: whole records
	 * from ooff on, except orest bytes left of one the socket cut short. */
	uint8_t *obuf;
	size_t olen, ooff;
	size_t orest;
	size_t sndbuf;             /* stream: the socket's SO_SNDBUF */
	size_t sndroom;            /* stream: bytes it surely still takes whole */
	struct vq_elem first, elem;
	uint16_t heads[VIRTQ_MAX_SIZE];
	uint32_t lens[VIRTQ_MAX_SIZE];
	uint64_t rx_frames, rx_dropped, tx_frames, tx_dropped;
	bool warned;
};

static bool negotiated(const struct net *n, unsigned int bit)
{
	return n->dev->driver_features & (1ULL << bit);
}

/* One warning per device; the rest are only counted. */
static void drop_warn(struct net *n, const char *why)
{
	if (n->warned)
		return;
	n->warned = true;
	vm_log(n->dev->vm, LOG_WARN, "virtio-net: %s: frame dropped (further drops are counted)",
	       why);
}

static void backend_dead(struct net *n, int err)
{
	if (n->dead)
		return;
	n->dead = true;
	vm_log(n->dev->vm, LOG_WARN, "virtio-net: backend %s", err ? strerror(err) : "hung up");
}

/* ------------------------------------------------------------ receive */

static void unpop(struct net *n, unsigned int count)
{
	while (count--)
		vq_unpop(&n->dev->vqs[Q_RX]);
}

/* A receive chain: device-writable only, and room for at least a header
 * (5.1.6.3.1 asks that of every buffer when buffers are merged). */
static bool rx_chain_ok(struct net *n, const struct vq_elem *e)
{
	if (e->n_out || e->in_len < sizeof(struct vnet_hdr)) {
		virtio_dev_needs_reset(n->dev, "receive buffer readable or smaller than a header");
		return false;
	}
	return true;
}

/*
 * Puts one frame into as many receive chains as it needs (one without
 * mergeable buffers), and publishes them together: the driver reads
 * num_buffers from the first and expects the rest to be there.
 */
static enum rx_result rx_frame(struct net *n, const uint8_t *frame, uint32_t len)
{
	struct virtio_dev *d = n->dev;
	struct vnet_hdr h = { .gso_type = VNET_GSO_NONE };
	uint64_t total = sizeof(h) + (uint64_t)len, done = 0;
	bool mrg = negotiated(n, F_MRG_RXBUF);
	unsigned int count = 0, max = d->vqs[Q_RX].num;

	while (done < total) {
		struct vq_elem *e = count ? &n->elem : &n->first;
		uint64_t chunk;
		int r;

		if (count == max) {
			unpop(n, count);
			return RX_DROPPED; /* the whole ring cannot hold it */
		}
		r = virtio_pop(d, Q_RX, e);
		if (r <= 0) {
			if (!virtio_dev_live(d))
				return RX_DROPPED;
			unpop(n, count);
			return RX_NO_ROOM;
		}
		count++;
		if (!rx_chain_ok(n, e))
			return RX_DROPPED;
		if (!mrg && e->in_len < total) {
			unpop(n, count);
			return RX_DROPPED; /* too big for the driver's buffers */
		}
		chunk = total - done < e->in_len ? total - done : e->in_len;
		if (count == 1)
			buf_to_iov(e->in, e->n_in, sizeof(h), frame, chunk - sizeof(h));
		else
			buf_to_iov(e->in, e->n_in, 0, frame + (done - sizeof(h)), chunk);
		n->heads[count - 1] = e->head;
		n->lens[count - 1] = (uint32_t)chunk;
		done += chunk;
	}
	h.num_buffers = (uint16_t)count;
	buf_to_iov(n->first.in, n->first.n_in, 0, &h, sizeof(h));
	(void)vq_push_many(&d->vm->mem, &d->vqs[Q_RX], n->heads, n->lens, count);
	return RX_DONE;
}

/* The next whole frame in the input buffer, or false. Refused lengths are
 * skipped (stream) so the stream stays in step. */
static bool next_frame(struct net *n, const uint8_t **frame, uint32_t *len)
{
	for (;;) {
		size_t avail = n->ilen - n->ioff;
		uint32_t be, l;

		if (n->kind == NET_BACKEND_TAP) {
			if (!avail)
				return false;
			*frame = n->ibuf + n->ioff;
			*len = (uint32_t)avail;
			return true;
		}
		if (n->iskip) {
			size_t s = avail < n->iskip ? avail : n->iskip;
			n->ioff += s;
			n->iskip -= (uint32_t)s;
			if (n->iskip)
				return false;
			continue;
		}
		if (avail < STREAM_LEN_BYTES)
			return false;
		memcpy(&be, n->ibuf + n->ioff, sizeof(be));
		l = ntohl(be);
		if (l > NET_FRAME_MAX || l < ETH_HDR_LEN) {
			n->ioff += STREAM_LEN_BYTES;
			n->iskip = l;
			n->rx_dropped++;
			if (!n->warned)
				vm_log(n->dev->vm, LOG_WARN, "virtio-net: backend frame length %u", l);
			drop_warn(n, "backend frame of a length out of range");
			continue;
		}
		if (avail < STREAM_LEN_BYTES + (size_t)l)
			return false;
		*frame = n->ibuf + n->ioff + STREAM_LEN_BYTES;
		*len = l;
		return true;
	}
}

/* Delivers what the input buffer holds. Device lock held. */
static void rx_flush(struct net *n)
{
	struct virtio_dev *d = n->dev;
	const uint8_t *frame;
	uint32_t len;
	bool any = false;

	n->rx_blocked = false;
	while (virtio_dev_live(d) && next_frame(n, &frame, &len)) {
		enum rx_result r = rx_frame(n, frame, len);

		if (r == RX_NO_ROOM) {
			n->rx_blocked = true;
			break;
		}
		n->ioff = (size_t)(frame - n->ibuf) + len;
		if (r == RX_DONE) {
			n->rx_frames++;
			any = true;
		} else {
			n->rx_dropped++;
			drop_warn(n, "no receive buffer can hold it");
		}
	}
	/* A frame's start stays at the buffer's start, so a whole one fits. */
	if (n->ioff) {
		memmove(n->ibuf, n->ibuf + n->ioff, n->ilen - n->ioff);
		n->ilen -= n->ioff;
		n->ioff = 0;
	}
	if (any)
		virtio_signal_used(d, Q_RX);
}

/* ----------------------------------------------------------- transmit */

/* The send-buffer space a record of len bytes can take, at most. */
static size_t stream_cost(const struct net *n, size_t len)
{
	size_t skb = n->sndbuf / 4 < STREAM_SKB_DATA_MAX ? n->sndbuf / 4 : STREAM_SKB_DATA_MAX;

	if (skb < ETH_HDR_LEN)
		skb = ETH_HDR_LEN;
	return len + (len / skb + 1) * STREAM_SKB_COST;
}

/*
 * Whether a record of len bytes goes into the socket whole now. poll()
 * reports a Unix stream socket writable once at most a quarter of its send
 * buffer is in use, so three quarters are free then; what was sent since is
 * counted against that. A record that cannot fit even an empty buffer goes
 * when the socket is writable, in whatever pieces the kernel takes.
 */
static bool stream_room(struct net *n, size_t len)
{
	struct pollfd p = { .fd = n->fd, .events = POLLOUT };
	size_t cost = stream_cost(n, len);
	int r;

	if (cost <= n->sndroom) {
		n->sndroom -= cost;
		return true;
	}
	do
		r = poll(&p, 1, 0);
	while (r < 0 && errno == EINTR);
	if (r <= 0 || !(p.revents & POLLOUT))
		return false;
	n->sndroom = n->sndbuf - n->sndbuf / 4;
	n->sndroom = cost <= n->sndroom ? n->sndroom - cost : 0;
	return true;
}

/*
 * Stream: one record per send(), and a record only when the socket has room
 * for all of it. passt (2023-03) reads what the socket holds and completes
 * a frame cut at the end of that with a single blocking recv(); a length
 * left in the last bytes is dropped. Records sent back to back in large
 * sends are cut anywhere by the socket's buffers, so that recv can return
 * short and passt then loses its place in the stream. A record the kernel
 * takes only in part (a send buffer too small) is finished, alone, before
 * anything else.
 */
static void tx_write_stream(struct net *n)
{
	while (n->ooff < n->olen && !n->dead) {
		size_t len = n->orest;
		uint32_t be;
		ssize_t w;

		if (!len) {
			memcpy(&be, n->obuf + n->ooff, sizeof(be));
			len = STREAM_LEN_BYTES + (size_t)ntohl(be);
			if (!stream_room(n, len))
				return;
		}
		w = send(n->fd, n->obuf + n->ooff, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			n->sndroom = 0;
			return;
		}
		if (w <= 0) {
			backend_dead(n, w < 0 ? errno : 0);
			break;
		}
		n->ooff += (size_t)w;
		n->orest = len - (size_t)w;
		if (n->orest) {
			n->sndroom = 0;
			return;
		}
	}
	n->olen = n->ooff = n->orest = 0;
}

static void tx_write(struct net *n)
{
	if (n->kind == NET_BACKEND_STREAM) {
		tx_write_stream(n);
		return;
	}
	while (n->ooff < n->olen && !n->dead) {
		ssize_t w = write(n->fd, n->obuf + n->ooff, n->olen - n->ooff);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			backend_dead(n, w < 0 ? errno : 0);
			break;
		}
		n->ooff = n->olen; /* a tap takes a whole frame or nothing */
	}
	n->olen = n->ooff = 0;
}

/* Moves what is not yet written to the buffer's start. */
static void tx_compact(struct net *n)
{
	if (!n->ooff)
		return;
	memmove(n->obuf, n->obuf + n->ooff, n->olen - n->ooff);
	n->olen -= n->ooff;
	n->ooff = 0;
}

static uint16_t csum_fold(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		sum += (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Checks the header against the frame and completes a partial checksum
 * (5.1.6.2: the sum from csum_start on, stored at csum_start+csum_offset).
 * NULL on success, else why the frame is dropped. */
static const char *tx_fixup(struct net *n, const struct vnet_hdr *h, uint8_t *frame,
			    uint32_t len)
{
	uint32_t at;
	uint16_t sum;

	if (h->gso_type != VNET_GSO_NONE)
		return "segmentation offload requested (not offered)";
	if (!(h->flags & VNET_F_NEEDS_CSUM))
		return NULL;
	if (!negotiated(n, F_CSUM))
		return "checksum offload requested (not negotiated)";
	at = (uint32_t)h->csum_start + h->csum_offset;
	if (h->csum_start >= len || at > len - 2)
		return "checksum position outside the frame";
	/* The field holds the pseudo-header sum the driver put there: it is
	 * part of what is summed. */
	sum = csum_fold(frame + h->csum_start, len - h->csum_start);
	frame[at] = (uint8_t)(sum >> 8);
	frame[at + 1] = (uint8_t)sum;
	return NULL;
}

/* One transmit chain into the output buffer; false when the buffer has no
 * room for it yet (the chain is put back). Device lock held. */
static bool tx_chain(struct net *n, const struct vq_elem *e)
{
	struct vnet_hdr h;
	uint64_t flen;
	size_t at;
	const char *why;

	if (e->out_len < sizeof(h)) {
		virtio_dev_needs_reset(n->dev, "transmit chain shorter than a header");
		return true;
	}
	flen = e->out_len - sizeof(h);
	if (flen < ETH_HDR_LEN || flen > NET_FRAME_MAX) {
		n->tx_dropped++;
		drop_warn(n, "guest frame of a length out of range");
		return true;
	}
	at = n->kind == NET_BACKEND_STREAM ? STREAM_LEN_BYTES : 0;
	if (n->olen + at + flen > NET_BUF_SIZE)
		tx_compact(n);
	if (n->olen + at + flen > NET_BUF_SIZE)
		return false;
	iov_to_buf(e->out, e->n_out, 0, &h, sizeof(h));
	iov_to_buf(e->out, e->n_out, sizeof(h), n->obuf + n->olen + at, flen);
	why = tx_fixup(n, &h, n->obuf + n->olen + at, (uint32_t)flen);
	if (why) {
		n->tx_dropped++;
		drop_warn(n, why);
		return true;
	}
	if (at) {
		uint32_t be = htonl((uint32_t)flen);
		memcpy(n->obuf + n->olen, &be, sizeof(be));
	}
	n->olen += at + flen;
	n->tx_frames++;
	return true;
}

/* Device lock held. */
static void tx_flush(struct net *n)
{
	struct virtio_dev *d = n->dev;
	unsigned int done = 0;

	while (done < VQ_NOTIFY_BUDGET && virtio_dev_live(d)) {
		size_t queued;

		/* A tap's frames go one by one; a stream's are queued and go
		 * when the buffer is full and at the end. */
		if (n->olen && n->kind == NET_BACKEND_TAP) {
			tx_write(n);
			if (n->olen)
				break;
		}
		if (virtio_pop(d, Q_TX, &n->elem) <= 0)
			break;
		if (!tx_chain(n, &n->elem)) {
			vq_unpop(&d->vqs[Q_TX]);
			queued = n->olen - n->ooff;
			tx_write(n);
			if (n->olen - n->ooff == queued)
				break; /* the backend takes nothing now: POLLOUT */
			continue;
		}
		if (!virtio_dev_live(d))
			break; /* a malformed chain: not returned (NEEDS_RESET) */
		if (n->dead)
			n->olen = n->ooff = n->orest = 0; /* nobody to send to: dropped */
		(void)vq_push(&d->vm->mem, &d->vqs[Q_TX], n->elem.head, 0);
		done++;
	}
	if (n->olen)
		tx_write(n);
	if (done)
		virtio_signal_used(d, Q_TX);
	if (done == VQ_NOTIFY_BUDGET)
		virtio_notify_again(d, Q_TX);
}

/* ------------------------------------------------------ device thread */

static short backend_want(void *opaque)
{
	struct net *n = opaque;
	struct virtio_dev *d = n->dev;
	short want = 0;

	pthread_mutex_lock(&d->lock);
	if (!n->dead && virtio_dev_live(d)) {
		bool room = n->kind == NET_BACKEND_TAP ? n->ilen == 0 : n->ilen < NET_BUF_SIZE;
		if (room && !n->rx_blocked && vq_has_avail(&d->vm->mem, &d->vqs[Q_RX]))
			want |= POLLIN;
		if (n->olen)
			want |= POLLOUT;
	}
	pthread_mutex_unlock(&d->lock);
	return want;
}

static void backend_read(struct net *n)
{
	size_t room = (n->kind == NET_BACKEND_TAP ? NET_FRAME_MAX : NET_BUF_SIZE) - n->ilen;
	ssize_t r;

	do
		r = read(n->fd, n->ibuf + n->ilen, room);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r <= 0) {
		backend_dead(n, r < 0 ? errno : 0);
		return;
	}
	if (n->kind == NET_BACKEND_TAP && (size_t)r < ETH_HDR_LEN) {
		n->rx_dropped++;
		return;
	}
	n->ilen += (size_t)r;
	rx_flush(n);
}

static void backend_ready(void *opaque, int fd, short revents)
{
	struct net *n = opaque;
	struct virtio_dev *d = n->dev;

	(void)fd;
	pthread_mutex_lock(&d->lock);
	if (revents & POLLOUT)
		tx_flush(n);
	if (revents & (POLLIN | POLLHUP | POLLERR))
		backend_read(n);
	pthread_mutex_unlock(&d->lock);
}

static void net_notify(struct virtio_dev *d, unsigned int q)
{
	struct net *n = d->priv;

	if (q == Q_TX)
		tx_flush(n);
	else if (q == Q_RX)
		rx_flush(n); /* new buffers for a waiting frame */
}

static void net_reset(struct virtio_dev *d)
{
	struct net *n = d->priv;

	/* The waiting frame stays; it goes to the next driver's buffers. */
	n->rx_blocked = false;
}

static void net_free(struct virtio_dev *d)
{
	struct net *n = d->priv;

	vm_log(d->vm, LOG_DEBUG,
	       "virtio-net: %llu frames received, %llu dropped; %llu sent, %llu dropped",
	       (unsigned long long)n->rx_frames, (unsigned long long)n->rx_dropped,
	       (unsigned long long)n->tx_frames, (unsigned long long)n->tx_dropped);
	if (n->fd >= 0)
		close(n->fd);
	free(n->ibuf);
	free(n->obuf);
	free(n);
}

/* ---------------------------------------------------------- snapshots */

/*
 * What a snapshot keeps of virtio-net beyond the transport and the queues
 * (snapshot_virtio.c): the MAC the guest was given, 6 bytes and 2 of zeros.
 * The backend is not saved: every restore has a new one (a passt of its
 * own), and what the old one had in flight is not carried over:
 * - receive: chains are popped and returned under the device lock in one
 *   go (rx_frame), so the device never holds one across a snapshot; the
 *   buffers the guest posted stay available in its ring and take the new
 *   backend's frames. Frames read from the old backend and not delivered
 *   (ibuf) are dropped: they belong to its connections.
 * - transmit: each chain is copied out and returned at once; one the
 *   backend pushed back is still available in the ring and goes to the new
 *   backend. Frames copied out but not yet written (obuf) are dropped, like
 *   frames lost on a link: the guest was told they were sent.
 * The clone gets a new MAC (random, locally administered, unicast, not the
 * snapshot's) in the config space; the guest driver read the MAC at probe,
 * so init is told with NET_IDENTITY (control.c) and sets it itself.
 */
#define NET_SNAP_LEN 8

static int net_snap_save(struct virtio_dev *d, uint8_t *buf, size_t cap, const char **why)
{
	if (cap < NET_SNAP_LEN) {
		*why = "virtio-net state too large";
		return -EINVAL;
	}
	alcatraz_ctl_net_identity_encode(buf, d->config);
	return NET_SNAP_LEN;
}

/* A clone's MAC: locally administered (bit 1), unicast (bit 0 clear). */
static int new_mac(const uint8_t *old, uint8_t *mac)
{
	for (int i = 0; i < 8; i++) {
		if (getrandom(mac, ALCATRAZ_CTL_MAC_LEN, 0) != (ssize_t)ALCATRAZ_CTL_MAC_LEN)
			return -EIO;
		mac[0] = (uint8_t)((mac[0] & 0xfcu) | 0x02u);
		if (memcmp(mac, old, ALCATRAZ_CTL_MAC_LEN))
			return 0;
	}
	return -EIO;
}

static int net_snap_restore(struct virtio_dev *d, const uint8_t *buf, size_t len,
			    const char **why)
{
	uint8_t old[ALCATRAZ_CTL_MAC_LEN], mac[ALCATRAZ_CTL_MAC_LEN];

	if (len != NET_SNAP_LEN || alcatraz_ctl_net_identity_decode(buf, NET_SNAP_LEN, old)) {
		*why = "bad virtio-net state (length, padding or MAC)";
		return -EINVAL;
	}
	if (new_mac(old, mac)) {
		*why = "no host entropy for a new MAC";
		return -EIO;
	}
	if (control_net_identity(d->vm, mac)) {
		*why = "out of memory";
		return -ENOMEM;
	}
	memcpy(d->config, mac, sizeof(mac));
	return 0;
}

static const struct virtio_dev_ops net_ops = {
	.notify = net_notify,
	.reset = net_reset,
	.free = net_free,
	.snapshot = true,
	.save = net_snap_save,
	.restore = net_snap_restore,
};

/* Config space (5.1.4): mac, status, max_virtqueue_pairs, mtu. */
static void net_config(struct virtio_dev *d, const struct vm_config *cfg)
{
	uint16_t status = S_LINK_UP, pairs = 1, mtu = cfg->net_mtu;

	memcpy(d->config, cfg->net_mac, 6);
	memcpy(d->config + 6, &status, 2);
	memcpy(d->config + 8, &pairs, 2);
	memcpy(d->config + 10, &mtu, 2);
	d->config_len = 12;
}

int virtio_net_init(struct vm *vm)
{
	struct vm_config *cfg = &vm->cfg;
	/* No VIRTIO_NET_F_STATUS: the link is always up, which the driver
	 * then assumes from the start. */
	uint64_t features = 1ULL << F_CSUM | 1ULL << F_MAC | 1ULL << F_MRG_RXBUF;
	struct net *n;
	int fd = cfg->net_fd, fl, ret;

	cfg->net_fd = -1; /* ours from here on, also on failure */
	if (cfg->net_backend != NET_BACKEND_TAP && cfg->net_backend != NET_BACKEND_STREAM) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	/* Never block the device thread (the descriptor is the VMM's own). */
	fl = fd < 0 ? -1 : fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = fd < 0 ? -EBADF : -errno;
		vm_log(vm, LOG_ERR, "virtio-net: backend descriptor: %s", strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	n = calloc(1, sizeof(*n));
	if (n) {
		n->ibuf = malloc(NET_BUF_SIZE);
		n->obuf = malloc(NET_BUF_SIZE);
	}
	if (!n || !n->ibuf || !n->obuf) {
		if (n) {
			free(n->ibuf);
			free(n->obuf);
		}
		free(n);
		close(fd);
		return -ENOMEM;
	}
	n->fd = fd;
	n->kind = cfg->net_backend;
	if (n->kind == NET_BACKEND_STREAM) {
		int sndbuf = 0;
		socklen_t sl = sizeof(sndbuf);

		/* Unknown: every record waits for a writable socket. */
		if (!getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) && sndbuf > 0)
			n->sndbuf = (size_t)sndbuf;
	}
	if (cfg->net_mtu)
		features |= 1ULL << F_MTU;
	ret = virtio_dev_add(vm, "net", VIRTIO_ID_NET, features, 2, &net_ops, n, &n->dev);
	if (ret) {
		close(fd);
		free(n->ibuf);
		free(n->obuf);
		free(n);
		return ret;
	}
	net_config(n->dev, cfg);
	return evloop_add(vm->evloop, fd, backend_want, backend_ready, n);
}
