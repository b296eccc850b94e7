// SPDX-License-Identifier: LGPL-2.1-or-later
/* Non-blocking, SIGPIPE-free writes to host sinks (see sink.h). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"
#include "vmm_protocol.h"

static __thread bool sigpipe_blocked;

void sink_thread_block_sigpipe(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigpipe_blocked = true;
}

ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	/* Our own threads block SIGPIPE for good (sink_thread_block_sigpipe). */
	if (sigpipe_blocked)
		return write(fd, buf, len);
	return proto_write_nosigpipe(fd, buf, len);
}

void sink_init_as(struct sink *s, int fd, enum vmm_sink_class class, bool tty, int own_fd)
{
	static const enum sink_kind kinds[VMM_SINK_CLASS_END] = {
		[VMM_SINK_FILE] = SINK_FILE, [VMM_SINK_SOCKET] = SINK_SOCKET,
		[VMM_SINK_NONBLOCK] = SINK_REOPENED, [VMM_SINK_POLLED] = SINK_POLLED,
	};

	*s = (struct sink){ .fd = fd, .own_fd = own_fd, .kind = SINK_NONE, .tty = tty };
	if (fd < 0 || (unsigned int)class >= VMM_SINK_CLASS_END || !kinds[class])
		return;
	s->kind = kinds[class];
	if (own_fd >= 0)
		s->fd = own_fd;
}

void sink_init(struct sink *s, int fd)
{
	enum vmm_sink_class class = VMM_SINK_POLLED;
	int own_fd = -1;
	bool tty = false;

	if (fd >= 0)
		class = proto_sink_classify(fd, &tty, &own_fd);
	sink_init_as(s, fd, class, tty, own_fd);
}

void sink_fini(struct sink *s)
{
	if (s->own_fd >= 0)
		close(s->own_fd);
	s->own_fd = s->fd = -1;
	s->kind = SINK_NONE;
}

static ssize_t write_polled(struct sink *s, const void *buf, size_t len)
{
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };

	if (poll(&p, 1, 0) < 0)
		return -1;
	if (!(p.revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))) {
		errno = EAGAIN;
		return -1;
	}
	return write_nosigpipe(s->fd, buf, len < PIPE_BUF ? len : PIPE_BUF);
}

ssize_t sink_write(struct sink *s, const void *buf, size_t len)
{
	ssize_t n;

	if (s->fd < 0)
		return -EBADF;
	do {
		switch (s->kind) {
		case SINK_SOCKET:
			n = send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			break;
		case SINK_POLLED:
			n = write_polled(s, buf, len);
			break;
		default:
			n = write_nosigpipe(s->fd, buf, len);
			break;
		}
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n == 0 && len ? -EAGAIN : n;
}

const char *sink_kind_name(enum sink_kind kind)
{
	static const char *const names[] = {
		[SINK_NONE] = "none", [SINK_FILE] = "file", [SINK_SOCKET] = "socket",
		[SINK_REOPENED] = "pipe or terminal", [SINK_POLLED] = "polled",
	};
	return (unsigned int)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}
