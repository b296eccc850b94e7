// SPDX-License-Identifier: LGPL-2.1-or-later
/* The library's own lines (cgroup, sandbox, spawn) to the VM's log fd. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "lib.h"

/* A log nobody reads must not hold up alcatraz_vm_create(). */
#define LOG_WAIT_MS 100

void lib_log(int fd, const char *fmt, ...)
{
	char line[512];
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	va_list ap;
	int n;

	if (fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* The log's reader may be gone: that is EPIPE here, never a SIGPIPE
	 * to the embedding program. */
	if (poll(&p, 1, LOG_WAIT_MS) == 1 && (p.revents & (POLLOUT | POLLERR)))
		(void)!proto_write_nosigpipe(fd, line, (size_t)n);
}
