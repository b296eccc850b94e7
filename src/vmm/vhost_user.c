// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vhost-user frontend messages (vhost_user.h). One request at a time, each
 * sent whole and answered before the next: the callers (device setup in
 * the main thread, ring start and stop in the device thread) never overlap.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user.h"

struct vhu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	uint8_t payload[VHOST_USER_MAX_PAYLOAD];
} __attribute__((packed));

struct vhu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc, used, avail, log;
};

struct vhu_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

struct vhu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vhu_mem_region region[1];
};

_Static_assert(sizeof(struct vhu_msg) == VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD,
	       "vhost-user header is packed");
_Static_assert(sizeof(struct vhu_vring_addr) == 40, "vring address layout");
_Static_assert(sizeof(struct vhu_mem_table) == 40, "one-region memory table layout");

void vhost_user_init(struct vhost_user *u, int sock_fd)
{
	memset(u, 0, sizeof(*u));
	u->fd = sock_fd;
	u->timeout_ms = VHOST_USER_TIMEOUT_MS;
	/* Deadlines need a non-blocking socket: a backend that stops reading
	 * or answering must not hold the thread. */
	int fl = fcntl(sock_fd, F_GETFL);
	if (fl < 0 || fcntl(sock_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		u->broken = -errno;
}

void vhost_user_close(struct vhost_user *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	if (!u->broken)
		u->broken = -EPIPE;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` until the deadline: 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left = deadline - now_ms();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int send_all(struct vhost_user *u, const void *buf, size_t len, int fd, int64_t deadline)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	size_t off = 0;

	while (off < len) {
		struct iovec iov = { .iov_base = (char *)buf + off, .iov_len = len - off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (fd >= 0 && off == 0) {
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = sizeof(ctl.buf);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &fd, sizeof(int));
		}
		ssize_t n = sendmsg(u->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return errno == ECONNRESET ? -EPIPE : -errno;
		int ret = wait_fd(u->fd, POLLOUT, deadline);
		if (ret)
			return ret;
	}
	return 0;
}

static int recv_all(struct vhost_user *u, void *buf, size_t len, int64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		/* read(), not recvmsg(): a descriptor the backend attaches is
		 * never installed here; the kernel drops it with the skb. */
		ssize_t n = read(u->fd, (char *)buf + off, len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno == ECONNRESET ? -EPIPE : -errno;
		int ret = wait_fd(u->fd, POLLIN, deadline);
		if (ret)
			return ret;
	}
	return 0;
}

static int broke(struct vhost_user *u, int err)
{
	if (!u->broken)
		u->broken = err;
	return err;
}

/*
 * Sends `req` with its payload (and fd, or -1). A reply of exactly
 * reply_len bytes is read into `reply` when it is non-NULL; else, with
 * REPLY_ACK in use, the acknowledgement is read and a non-zero one is -EIO.
 */
static int request(struct vhost_user *u, uint32_t req, const void *payload, uint32_t len,
		   int fd, void *reply, uint32_t reply_len)
{
	struct vhu_msg m = { .request = req, .flags = VHOST_USER_VERSION, .size = len };
	struct vhu_msg r;
	bool ack = !reply && (u->protocol_features & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK));
	uint64_t ack_val;
	int64_t deadline = now_ms() + u->timeout_ms;
	int ret;

	if (u->broken)
		return u->broken;
	if (len > sizeof(m.payload))
		return -EINVAL;
	if (ack) {
		m.flags |= VHOST_USER_FLAG_NEED_REPLY;
		reply = &ack_val;
		reply_len = sizeof(ack_val);
	}
	if (len) /* payload may be NULL then */
		memcpy(m.payload, payload, len);
	ret = send_all(u, &m, VHOST_USER_HDR_SIZE + len, fd, deadline);
	if (ret)
		return broke(u, ret);
	if (!reply)
		return 0;
	ret = recv_all(u, &r, VHOST_USER_HDR_SIZE, deadline);
	if (ret)
		return broke(u, ret);
	/* The header decides how much follows: anything but the expected
	 * reply to this request, of its exact size, ends the conversation. */
	if (r.request != req || (r.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    !(r.flags & VHOST_USER_FLAG_REPLY) || r.size != reply_len)
		return broke(u, -EPROTO);
	ret = recv_all(u, reply, reply_len, deadline);
	if (ret)
		return broke(u, ret);
	if (ack && ack_val != 0)
		return -EIO;
	return 0;
}

static int get_u64(struct vhost_user *u, uint32_t req, uint64_t *v)
{
	return request(u, req, NULL, 0, -1, v, sizeof(*v));
}

static int set_u64(struct vhost_user *u, uint32_t req, uint64_t v, int fd)
{
	return request(u, req, &v, sizeof(v), fd, NULL, 0);
}

static int set_state(struct vhost_user *u, uint32_t req, uint32_t index, uint32_t num)
{
	struct vhu_vring_state s = { .index = index, .num = num };

	return request(u, req, &s, sizeof(s), -1, NULL, 0);
}

int vhost_user_handshake(struct vhost_user *u, uint64_t required)
{
	uint64_t pf;
	int ret;

	if ((ret = request(u, VHOST_USER_SET_OWNER, NULL, 0, -1, NULL, 0)) ||
	    (ret = get_u64(u, VHOST_USER_GET_FEATURES, &u->features)))
		return ret;
	if ((u->features & required) != required)
		return -ENOTSUP;
	if (!(u->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
		return 0;
	ret = get_u64(u, VHOST_USER_GET_PROTOCOL_FEATURES, &pf);
	if (ret)
		return ret;
	pf &= 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	/* Not acknowledged itself: REPLY_ACK applies from the next request. */
	ret = set_u64(u, VHOST_USER_SET_PROTOCOL_FEATURES, pf, -1);
	if (ret)
		return ret;
	u->protocol = true;
	u->protocol_features = pf;
	return 0;
}

int vhost_user_set_features(struct vhost_user *u, uint64_t features)
{
	if (features & ~u->features)
		return -EINVAL;
	if (u->protocol)
		features |= 1ull << VHOST_USER_F_PROTOCOL_FEATURES;
	return set_u64(u, VHOST_USER_SET_FEATURES, features, -1);
}

int vhost_user_set_mem_table(struct vhost_user *u, const struct guest_mem *m)
{
	struct vhu_mem_table t = {
		.nregions = 1,
		.region[0] = {
			.guest_phys_addr = 0,
			.memory_size = m->size,
			.userspace_addr = (uint64_t)(uintptr_t)m->host,
			.mmap_offset = 0,
		},
	};

	if (!m->host || m->fd < 0)
		return -EINVAL;
	return request(u, VHOST_USER_SET_MEM_TABLE, &t, sizeof(t), m->fd, NULL, 0);
}

int vhost_user_vring_start(struct vhost_user *u, const struct vhost_user_vring *r)
{
	struct vhu_vring_addr a = {
		.index = r->index, .desc = r->desc, .used = r->used, .avail = r->avail,
	};
	int ret;

	if (r->index > 0xff || r->kick_fd < 0 || r->call_fd < 0)
		return -EINVAL;
	if ((ret = set_state(u, VHOST_USER_SET_VRING_NUM, r->index, r->num)) ||
	    (ret = set_state(u, VHOST_USER_SET_VRING_BASE, r->index, 0)) ||
	    (ret = request(u, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), -1, NULL, 0)) ||
	    (ret = set_u64(u, VHOST_USER_SET_VRING_KICK, r->index, r->kick_fd)) ||
	    (ret = set_u64(u, VHOST_USER_SET_VRING_CALL, r->index, r->call_fd)))
		return ret;
	if (u->protocol)
		ret = set_state(u, VHOST_USER_SET_VRING_ENABLE, r->index, 1);
	return ret;
}

int vhost_user_vring_stop(struct vhost_user *u, unsigned int index, uint32_t *base)
{
	struct vhu_vring_state s = { .index = index }, r;
	int ret;

	if (index > 0xff)
		return -EINVAL;
	ret = request(u, VHOST_USER_GET_VRING_BASE, &s, sizeof(s), -1, &r, sizeof(r));
	if (ret)
		return ret;
	if (r.index != index)
		return broke(u, -EPROTO);
	*base = r.num;
	return 0;
}

const char *vhost_user_strerror(int err)
{
	switch (err) {
	case -EPIPE:
		return "the backend closed the connection";
	case -ETIMEDOUT:
		return "the backend did not answer in time";
	case -EPROTO:
		return "the backend sent a malformed reply";
	case -ENOTSUP:
		return "the backend lacks a required feature";
	case -EIO:
		return "the backend refused the request";
	default:
		return strerror(err < 0 ? -err : err);
	}
}
