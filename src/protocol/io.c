// SPDX-License-Identifier: LGPL-2.1-or-later
/* A write that never raises SIGPIPE in the caller, for both sides: the
 * library writes its log lines from the embedder's threads, whose SIGPIPE
 * disposition is the embedder's; the VMM's threads use it too. */
#include <errno.h>
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
