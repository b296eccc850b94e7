/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frontend side of the vhost-user protocol (QEMU's docs/interop/
 * vhost-user.rst, "Front-end message types"): the messages the VMM sends a
 * backend such as virtiofsd over a connected stream socket, and the replies
 * it reads back.
 *
 * The backend is another process and may be compromised: every reply is
 * read with a deadline, must carry the reply flag and the request it
 * answers, and must be exactly as long as that request's reply. Anything
 * else breaks the connection for good (the stream cannot be resynchronised):
 * every later call fails with the same error. Descriptors a backend attaches
 * to a reply are never received (the kernel closes them).
 */
#ifndef ALCATRAZ_VHOST_USER_H
#define ALCATRAZ_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm.h"

/* Front-end requests (the numbering is the protocol's). */
enum vhost_user_request {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_SET_VRING_ENABLE = 18,
};

#define VHOST_USER_VERSION 0x1
#define VHOST_USER_VERSION_MASK 0x3
#define VHOST_USER_FLAG_REPLY (1u << 2)
#define VHOST_USER_FLAG_NEED_REPLY (1u << 3)
#define VHOST_USER_HDR_SIZE 12
/* The largest payload this frontend sends (a one-region memory table is
 * 40 bytes; a vring address 40). */
#define VHOST_USER_MAX_PAYLOAD 64

#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_VRING_NOFD (1ull << 8)

/* How long one request may wait for its reply or for room to be sent. */
#define VHOST_USER_TIMEOUT_MS 5000

struct vhost_user {
	int fd;                    /* connected stream socket, owned */
	int timeout_ms;
	int broken;                /* 0, or the error that broke the connection */
	uint64_t features;         /* what the backend offered (GET_FEATURES) */
	bool protocol;             /* VHOST_USER_F_PROTOCOL_FEATURES negotiated */
	uint64_t protocol_features;/* what both sides use */
};

/* Takes sock_fd (closed by vhost_user_close, also when this fails). */
void vhost_user_init(struct vhost_user *u, int sock_fd);
void vhost_user_close(struct vhost_user *u);

/*
 * SET_OWNER, GET_FEATURES (the backend must offer every bit of `required`),
 * then the protocol features: REPLY_ACK when offered, so that every later
 * SET_* is acknowledged. Errors: -EPIPE the backend closed, -ETIMEDOUT no
 * reply in time, -EPROTO a malformed reply, -ENOTSUP a required feature is
 * missing.
 */
int vhost_user_handshake(struct vhost_user *u, uint64_t required) __must_check;
/* SET_FEATURES: `features` must be a subset of what the backend offered
 * (the protocol-features bit is added when negotiated). */
int vhost_user_set_features(struct vhost_user *u, uint64_t features) __must_check;
/* SET_MEM_TABLE: guest RAM as one region, its memfd attached. */
int vhost_user_set_mem_table(struct vhost_user *u, const struct guest_mem *m) __must_check;

/* One ring, as the backend is told it: host virtual addresses of the
 * frontend's mapping of guest RAM. */
struct vhost_user_vring {
	unsigned int index;
	unsigned int num;
	uint64_t desc, avail, used;
	int kick_fd, call_fd;      /* eventfds, not owned */
};
/* NUM, BASE 0, ADDR, KICK, CALL, then ENABLE when protocol features are
 * in use (rings start disabled then). */
int vhost_user_vring_start(struct vhost_user *u, const struct vhost_user_vring *r) __must_check;
/* GET_VRING_BASE: the backend stops the ring; *base is where it stopped. */
int vhost_user_vring_stop(struct vhost_user *u, unsigned int index, uint32_t *base) __must_check;

/* A one-line description of a vhost_user_* error. */
const char *vhost_user_strerror(int err);

#endif
