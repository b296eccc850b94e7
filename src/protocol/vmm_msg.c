// SPDX-License-Identifier: LGPL-2.1-or-later
/* Messages between libalcatraz and alcatraz-vmm: framing and descriptors. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm_protocol.h"

#define SANDBOX_PREFIX "SANDBOX "

int vmm_msg_send(int sock, uint16_t type, int32_t err, const void *payload, uint32_t len,
		 const int *fds, unsigned int nfds)
{
	struct vmm_msg hdr = { .magic = VMM_PROTO_MAGIC, .version = VMM_PROTO_VERSION,
			       .type = type, .err = err, .len = len };
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)payload, len } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * VMM_MSG_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (len > VMM_MSG_MAX_PAYLOAD || nfds > VMM_MSG_MAX_FDS)
		return -EMSGSIZE;
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	return n == (ssize_t)(sizeof(hdr) + len) ? 0 : -EPIPE;
}

static void close_all(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
}

/* The descriptors of a received message: into fds, or closed. */
static int take_fds(struct msghdr *mh, int *fds, unsigned int max_fds, unsigned int *nfds)
{
	int got[VMM_MSG_MAX_FDS];
	unsigned int n = 0;
	bool overflow = (mh->msg_flags & MSG_CTRUNC) != 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (n < VMM_MSG_MAX_FDS)
				got[n++] = fd;
			else
				close(fd);
		}
		overflow |= k > VMM_MSG_MAX_FDS;
	}
	if (overflow || n > max_fds || (n && !fds)) {
		close_all(got, n);
		return -EPROTO;
	}
	if (n)
		memcpy(fds, got, n * sizeof(int));
	if (nfds)
		*nfds = n;
	return 0;
}

int vmm_msg_recv(int sock, struct vmm_msg_buf *m, int *fds, unsigned int max_fds,
		 unsigned int *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VMM_MSG_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	ssize_t n;
	int ret;

	if (nfds)
		*nfds = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -EPIPE : -errno;
	ret = take_fds(&mh, fds, max_fds, nfds);
	if (n == 0)
		return ret ? ret : -EPIPE;
	if (ret)
		return ret;
	if ((size_t)n > strlen(SANDBOX_PREFIX) && (size_t)n < sizeof(m->hdr) + 16 &&
	    !memcmp(m, SANDBOX_PREFIX, strlen(SANDBOX_PREFIX))) {
		char line[32] = "";
		memcpy(line, (char *)m + strlen(SANDBOX_PREFIX), (size_t)n - strlen(SANDBOX_PREFIX));
		m->hdr.err = atoi(line);
		ret = VMM_MSG_SANDBOX_LINE;
	} else if ((size_t)n < sizeof(m->hdr) || m->hdr.magic != VMM_PROTO_MAGIC ||
		   /* a HELLO of another version is the caller's to report */
		   (m->hdr.version != VMM_PROTO_VERSION && m->hdr.type != VMM_MSG_HELLO) ||
		   m->hdr.type == 0 ||
		   m->hdr.type >= VMM_MSG_TYPE_END || (mh.msg_flags & MSG_TRUNC) ||
		   m->hdr.len != (size_t)n - sizeof(m->hdr)) {
		ret = -EPROTO;
	}
	if (ret < 0 && nfds) {
		close_all(fds, *nfds);
		*nfds = 0;
	}
	return ret;
}
