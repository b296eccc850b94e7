// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The requests between alcatraz-oci's commands and a container's
 * supervisor: one SOCK_SEQPACKET socket, STATEDIR/sock, one message per
 * request and per reply, text ("start", "state", "kill SIG", "killall SIG",
 * "exec\nPROCESS-JSON" with three descriptors; replies "ok TEXT" or
 * "err TEXT"). The socket is reached through /proc/self/fd/DIRFD/sock, so
 * that a long --root never exceeds sun_path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "oci.h"

int oci_connect(int dirfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 30 };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" OCI_SOCK_NAME, dirfd);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;
		close(s);
		return err;
	}
	/* A supervisor that hangs must not hang every command with it. */
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

int oci_send(int sock, const char *msg, size_t len, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		memset(&c, 0, sizeof(c));
		mh.msg_control = c.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		return (size_t)n == len ? 0 : -EMSGSIZE;
	}
}

/* Every descriptor a message carried: kept when wanted and exactly 3,
 * closed otherwise (a peer cannot make us leak them). */
static void take_fds(struct msghdr *mh, int *fds, int *nfds)
{
	int got = 0;

	if (nfds)
		*nfds = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int tmp[8];
		if (n > 8)
			n = 8;
		memcpy(tmp, CMSG_DATA(cm), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			if (fds && got < 3)
				fds[got++] = tmp[i];
			else
				close(tmp[i]);
		}
	}
	if (fds && got != 3) {
		for (int i = 0; i < got; i++)
			close(fds[i]);
		got = 0;
	}
	if (nfds)
		*nfds = got;
}

ssize_t oci_recv(int sock, char *buf, size_t len, int *fds, int *nfds)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { .iov_base = buf, .iov_len = len - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf) };
	ssize_t n;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	take_fds(&mh, fds, nfds);
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (fds && nfds && *nfds)
			for (int i = 0; i < *nfds; i++)
				close(fds[i]);
		if (nfds)
			*nfds = 0;
		return -EMSGSIZE;
	}
	buf[n] = '\0';
	return n;
}

int oci_request(int dirfd, const char *req, char *reply, size_t len)
{
	int s = oci_connect(dirfd), ret;
	char buf[1024];
	ssize_t n;

	if (s < 0)
		return s;
	ret = oci_send(s, req, strlen(req), NULL, 0);
	n = ret ? ret : oci_recv(s, buf, sizeof(buf), NULL, NULL);
	close(s);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ECONNRESET;
	if (!strncmp(buf, "ok", 2) && (buf[2] == ' ' || !buf[2])) {
		snprintf(reply, len, "%s", buf[2] ? buf + 3 : "");
		return 0;
	}
	snprintf(reply, len, "%s", !strncmp(buf, "err ", 4) ? buf + 4 : "malformed reply");
	return -1;
}
