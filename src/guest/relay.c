// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The stdio relay.  hvc0 stays raw and never becomes the command's
 * controlling terminal (see control_proto.h), so init copies bytes between
 * it and the command's stdin pipe or pty.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

void pump_done_out(struct pump *p)
{
	if (p->out >= 0)
		dbg("pump %d->%d: done after %llu bytes", p->in, p->out, (unsigned long long)p->got);
	if (p->out >= 0 && p->close_out)
		close(p->out);
	p->out = -1;
	p->len = p->off = 0;
}

void pump_check_done(struct pump *p)
{
	if (p->counted && p->got >= p->target)
		p->reading = false;
	if (!p->reading && p->len == 0)
		pump_done_out(p);
}

void pump_read(struct pump *p)
{
	size_t want = sizeof(p->buf);
	ssize_t n;

	if (p->counted && p->target - p->got < want)
		want = (size_t)(p->target - p->got);
	n = read(p->in, p->buf, want);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	dbg("pump %d->%d: read %zd (%s), %llu so far", p->in, p->out, n,
	    n < 0 ? strerror(errno) : "ok", (unsigned long long)(p->got + (n > 0 ? (uint64_t)n : 0)));
	if (n <= 0) {
		/* EOF, or EIO from a hung-up tty / a pty without slaves. */
		p->reading = false;
	} else {
		p->got += (uint64_t)n;
		/* With the reader gone, keep consuming so the host never
		 * blocks on a full queue, but drop the bytes. */
		if (p->out >= 0) {
			p->off = 0;
			p->len = (size_t)n;
		}
	}
	pump_check_done(p);
}

void pump_write(struct pump *p)
{
	ssize_t n = write(p->out, p->buf + p->off, p->len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		/* EPIPE: the command closed its stdin. */
		bool keep_reading = p->reading;

		pump_done_out(p);
		p->reading = keep_reading;
		return;
	}
	p->off += (size_t)n;
	p->len -= (size_t)n;
	pump_check_done(p);
}

/*
 * After the command ended: move what the pty still holds to the console,
 * for at most `ms`, since background processes may keep writing.
 */
void pump_drain(struct pump *p, int ms)
{
	uint64_t deadline = now_ns() + (uint64_t)ms * 1000000u;
	int timeout_ms = 20; /* quiet this long: nothing more is coming */

	while (p->out >= 0 && now_ns() < deadline) {
		struct pollfd pfd = { .fd = p->len ? p->out : p->in,
				      .events = p->len ? POLLOUT : POLLIN };

		if (!p->len && !p->reading)
			break;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			break;
		if (p->len)
			pump_write(p);
		else
			pump_read(p);
	}
}
