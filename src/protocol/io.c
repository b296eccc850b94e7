// SPDX-License-Identifier: LGPL-2.1-or-later
/* A write that never raises SIGPIPE in the caller, for both sides: the
 * library writes its log lines from the embedder's threads, whose SIGPIPE
 * disposition is the embedder's; the VMM's threads use it too. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "vmm_protocol.h"

ssize_t proto_write_nosigpipe(int fd, const void *buf, size_t len)
{
	struct timespec zero = { 0, 0 };
	sigset_t set, old, pending;
	bool was_pending;
	ssize_t n;
	int err;

	/* Blocked for this write only. A SIGPIPE that was pending before
	 * belongs to the caller and is left alone. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
	n = write(fd, buf, len);
	err = errno;
	if (n < 0 && err == EPIPE && !was_pending)
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n;
}

void proto_log_line(int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	proto_vlog_line(fd, fmt, ap);
	va_end(ap);
}

void proto_vlog_line(int fd, const char *fmt, va_list ap)
{
	char line[PROTO_LOG_LINE_MAX];
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int n;

	if (fd < 0)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* A log nobody reads must hold up neither alcatraz_vm_create() nor
	 * the VMM; a reader that went away is EPIPE, never a SIGPIPE. */
	if (poll(&p, 1, PROTO_LOG_WAIT_MS) == 1 && (p.revents & (POLLOUT | POLLERR)))
		(void)!proto_write_nosigpipe(fd, line, (size_t)n);
}
