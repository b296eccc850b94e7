// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Execs, host side (see exec.h): the control channel's and the device
 * thread's half; the calls any thread makes are in exec_api.c. State
 * lives under the control channel's lock. Every exec has a fixed slot;
 * what the guest sends is bounded by the protocol's windows, so each
 * buffer here is allocated once, when the exec starts:
 *  - stdout and stderr: the guest's bytes land in a staging buffer of one
 *    window, move into the stream's outbuf (the same bounded, filtered,
 *    non-blocking sink machinery as the console) as it has room, and are
 *    acknowledged only then, so the guest never has more in flight than the
 *    staging buffer holds;
 *  - stdin: read only while the guest's window has room, one chunk at a
 *    time.
 * Host descriptors are watched through one epoll set that the device thread
 * polls (an exec starts while the loop runs, and the loop's own sources are
 * fixed at start). Regular files cannot be in an epoll set and are always
 * ready: they are read and written directly.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "control.h"
#include "evloop.h"
#include "exec.h"
#include "outbuf.h"
#include "virtio/virtio.h"
/* Last: control_proto.h's CLI status macros overlap the public enum. */
#include "exec_table.h"

/* Tags of the epoll set's entries: slot index << 2 | what, or EV_KICK. */
#define EV_IN 0u
#define EV_OUT(s) (1u + (s))
#define EV_KICK (~0ULL)

static short epoll_want(void *opaque)
{
	return POLLIN;
}

static void epoll_ready(void *opaque, int fd, short revents)
{
	exec_poll(opaque);
}

int exec_table_new(struct vm *vm, struct control *c, struct exec_table **out)
{
	struct exec_table *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	t->vm = vm;
	t->c = c;
	t->next_id = 1;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->epfd < 0 || t->done_fd < 0 || t->kick_fd < 0) {
		ret = -errno;
		goto fail;
	}
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_KICK };

		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->kick_fd, &ev) < 0) {
			ret = -errno;
			goto fail;
		}
	}
	/* Unit tests have no device thread: they call exec_poll() instead. */
	if (vm->evloop && (ret = evloop_add(vm->evloop, t->epfd, epoll_want, epoll_ready, vm)))
		goto fail;
	*out = t;
	return 0;
fail:
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->done_fd >= 0)
		close(t->done_fd);
	if (t->kick_fd >= 0)
		close(t->kick_fd);
	free(t);
	return ret;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void exec_slot_release(struct exec_slot *s)
{
	close_fd(&s->in_fd);
	free(s->in_buf);
	free(s->rec);
	for (unsigned int k = 0; k < 2; k++) {
		outbuf_free(s->out[k].ob);
		free(s->out[k].stage);
		close_fd(&s->out[k].fd);
	}
	memset(s, 0, sizeof(*s));
	s->in_fd = s->out[0].fd = s->out[1].fd = -1;
}

void exec_table_free(struct exec_table *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++)
		if (t->s[i].st != SLOT_FREE)
			exec_slot_release(&t->s[i]);
	close(t->epfd);
	close(t->done_fd);
	close(t->kick_fd);
	free(t);
}

/* The device thread sends what the API queued: the API's caller may be a
 * thread whose seccomp list has neither epoll_ctl nor KVM_IRQ_LINE. */
void exec_kick(struct exec_table *t)
{
	uint64_t one = 1;

	(void)!write(t->kick_fd, &one, sizeof(one));
}

/* Adds or removes fd from the epoll set as `want` says. Returns false when
 * the fd cannot be polled (a regular file: always ready). */
static bool set_poll(struct exec_table *t, int fd, bool *polled, uint32_t events, uint64_t tag,
		     bool want)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	if (want == *polled || fd < 0)
		return true;
	if (!want) {
		(void)epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, NULL);
		*polled = false;
		return true;
	}
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
		*polled = true;
		return true;
	}
	return errno != EPERM;
}

struct exec_slot *exec_find(struct exec_table *t, uint32_t id)
{
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++)
		if (t->s[i].st != SLOT_FREE && t->s[i].st != SLOT_DONE && t->s[i].id == id)
			return &t->s[i];
	return NULL;
}

static unsigned int index_of(struct exec_table *t, struct exec_slot *s)
{
	return (unsigned int)(s - t->s);
}

static void mark_done(struct exec_table *t, struct exec_slot *s)
{
	uint64_t one = 1;

	s->st = SLOT_DONE;
	s->seq = ++t->done_seq;
	for (unsigned int k = 0; k < 2; k++)
		(void)set_poll(t, s->out[k].fd, &s->out[k].polled, 0, 0, false);
	(void)!write(t->done_fd, &one, sizeof(one));
}

/* ------------------------------------------------------------- output */

/* Moves staged bytes into the stream's buffer and writes what the sink
 * takes; what moved is owed an acknowledgement. */
static void stream_pump(struct exec_table *t, struct exec_slot *s, unsigned int k)
{
	struct exec_stream *o = &s->out[k];

	for (;;) {
		size_t n = o->len ? outbuf_put(o->ob, o->stage + o->off, o->len) : 0;

		o->off += n;
		o->len -= n;
		o->ack_owed += (uint32_t)n;
		if (!o->len)
			o->off = 0;
		/* The sink took everything and more is staged: it fits now. */
		if (outbuf_drain(o->ob) == -EAGAIN || !o->len)
			break;
	}
	/* The sink pushes back: wait for it to take more. */
	if (!set_poll(t, o->fd, &o->polled, EPOLLOUT,
		      (uint64_t)index_of(t, s) << 2 | EV_OUT(k),
		      outbuf_poll_events(o->ob) != 0))
		o->pollable = false;
	if (s->st == SLOT_STATUS && !s->out[0].len && !s->out[1].len &&
	    outbuf_idle(s->out[0].ob) && outbuf_idle(s->out[1].ob))
		mark_done(t, s);
}

static int receive_data(struct exec_table *t, const uint8_t *p, uint32_t len, const char **why)
{
	struct exec_slot *s = exec_find(t, alcatraz_ctl_get_le32(p));
	uint32_t stream = alcatraz_ctl_get_le32(p + 4), n = len - ALCATRAZ_CTL_EXEC_DATA_HDR;
	struct exec_stream *o;

	if (!s || s->st != SLOT_RUNNING) {
		*why = "EXEC_DATA for no running exec";
		return -EPROTO;
	}
	if (stream != ALCATRAZ_CTL_STREAM_STDOUT && stream != ALCATRAZ_CTL_STREAM_STDERR) {
		*why = "EXEC_DATA for an unknown stream";
		return -EPROTO;
	}
	o = &s->out[stream - 1];
	if (o->unacked + n > ALCATRAZ_CTL_EXEC_WINDOW) {
		*why = "EXEC_DATA beyond the window";
		return -EPROTO;
	}
	/* unacked >= len: the staged bytes and what follows fit one window. */
	if (o->off + o->len + n > ALCATRAZ_CTL_EXEC_WINDOW) {
		memmove(o->stage, o->stage + o->off, o->len);
		o->off = 0;
	}
	memcpy(o->stage + o->off + o->len, p + ALCATRAZ_CTL_EXEC_DATA_HDR, n);
	o->len += n;
	o->unacked += n;
	stream_pump(t, s, stream - 1);
	return 0;
}

/* -------------------------------------------------------------- stdin */

static void stdin_end(struct exec_table *t, struct exec_slot *s)
{
	(void)set_poll(t, s->in_fd, &s->in_polled, 0, 0, false);
	close_fd(&s->in_fd);
	s->in_eof = true;
}

/* Takes the next chunk of stdin when the guest's window has room. */
static void stdin_read(struct exec_table *t, struct exec_slot *s)
{
	size_t room = ALCATRAZ_CTL_EXEC_WINDOW - s->in_unacked;
	ssize_t n;

	if (room > ALCATRAZ_CTL_EXEC_CHUNK)
		room = ALCATRAZ_CTL_EXEC_CHUNK;
	do
		n = read(s->in_fd, s->in_buf, room);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0)
		stdin_end(t, s);
	else
		s->in_len = (size_t)n;
}

/* Watches stdin exactly while a read could be sent. */
static void stdin_update(struct exec_table *t, struct exec_slot *s)
{
	bool want = s->in_fd >= 0 && s->in_len == 0 && s->in_unacked < ALCATRAZ_CTL_EXEC_WINDOW &&
		    (s->st == SLOT_SENT || s->st == SLOT_RUNNING);

	if (!s->in_pollable) {
		if (want)
			stdin_read(t, s);
		return;
	}
	if (!set_poll(t, s->in_fd, &s->in_polled, EPOLLIN, (uint64_t)index_of(t, s) << 2 | EV_IN,
		      want)) {
		s->in_pollable = false;
		if (want)
			stdin_read(t, s);
	}
}

/* ------------------------------------------------------ guest records */

static int receive_status(struct exec_table *t, struct exec_slot *s, const uint8_t *p,
			  const char **why)
{
	uint32_t kind = alcatraz_ctl_get_le32(p + 4);
	int32_t value = (int32_t)alcatraz_ctl_get_le32(p + 8);

	switch (kind) {
	case ALCATRAZ_CTL_ST_EXITED:
		if (value < 0 || value > 255)
			goto bad;
		break;
	case ALCATRAZ_CTL_ST_SIGNALED:
		if (value < 1 || value > (int32_t)ALCATRAZ_CTL_MAX_SIGNO)
			goto bad;
		break;
	case ALCATRAZ_CTL_ST_EXEC_FAILED:
	case ALCATRAZ_CTL_ST_INIT_ERROR:
		if (value < 0 || value >= 4096)
			goto bad;
		break;
	default:
		goto bad;
	}
	s->res.kind = kind;
	s->res.value = value;
	s->res.exit_code = alcatraz_ctl_status_to_exit(kind, value);
	s->st = SLOT_STATUS;
	stdin_end(t, s);
	s->in_len = 0;
	stream_pump(t, s, 0); /* done once both streams are written out */
	return 0;
bad:
	*why = "EXEC_STATUS with an invalid status";
	return -EPROTO;
}

int exec_receive(struct exec_table *t, uint32_t type, const uint8_t *p, uint32_t len,
		 const char **why)
{
	struct exec_slot *s;

	if (type == ALCATRAZ_CTL_EXEC_DATA)
		return receive_data(t, p, len, why);
	s = exec_find(t, alcatraz_ctl_get_le32(p));
	switch (type) {
	case ALCATRAZ_CTL_EXEC_START:
		if (!s || s->st != SLOT_SENT) {
			*why = "EXEC_START for no exec sent";
			return -EPROTO;
		}
		s->st = SLOT_RUNNING;
		return 0;
	case ALCATRAZ_CTL_EXEC_STDIN_ACK: {
		uint32_t n = alcatraz_ctl_get_le32(p + 4);

		if (!s || s->st != SLOT_RUNNING || n > s->in_unacked) {
			*why = "EXEC_STDIN_ACK for bytes not sent";
			return -EPROTO;
		}
		s->in_unacked -= n;
		stdin_update(t, s);
		return 0;
	}
	case ALCATRAZ_CTL_EXEC_STATUS:
		if (!s || s->st != SLOT_RUNNING || alcatraz_ctl_get_le32(p + 12) != 0) {
			*why = "EXEC_STATUS for no running exec";
			return -EPROTO;
		}
		return receive_status(t, s, p, why);
	default:
		*why = "unexpected exec record";
		return -EPROTO;
	}
}

/* ------------------------------------------------------- host records */

size_t exec_put_rec(uint8_t *buf, uint32_t type, const uint32_t *words, unsigned int n,
		    const void *data, uint32_t dlen)
{
	alcatraz_ctl_put_hdr(buf, type, 4 * n + dlen);
	for (unsigned int i = 0; i < n; i++)
		alcatraz_ctl_put_le32(buf + ALCATRAZ_CTL_HDR_SIZE + 4 * i, words[i]);
	if (dlen)
		memcpy(buf + ALCATRAZ_CTL_HDR_SIZE + 4 * n, data, dlen);
	return ALCATRAZ_CTL_HDR_SIZE + 4 * n + dlen;
}

size_t exec_fill(struct exec_table *t, uint8_t *buf, size_t room)
{
	size_t used = 0;

	for (unsigned int i = 0; t && i < ALCATRAZ_CTL_MAX_EXECS; i++) {
		struct exec_slot *s = &t->s[i];

		if (s->st != SLOT_SENT && s->st != SLOT_RUNNING)
			continue;
		for (unsigned int k = 0; k < 2; k++) {
			uint32_t w[3] = { s->id, k + 1, s->out[k].ack_owed };

			if (!w[2] || room - used < ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_EXEC_ACK_LEN)
				continue;
			used += exec_put_rec(buf + used, ALCATRAZ_CTL_EXEC_ACK, w, 3, NULL, 0);
			s->out[k].unacked -= w[2];
			s->out[k].ack_owed = 0;
		}
		if (s->in_len && room - used >= ALCATRAZ_CTL_HDR_SIZE + 4 + s->in_len) {
			used += exec_put_rec(buf + used, ALCATRAZ_CTL_EXEC_STDIN, &s->id, 1, s->in_buf,
					(uint32_t)s->in_len);
			s->in_unacked += (uint32_t)s->in_len;
			s->in_len = 0;
			stdin_update(t, s);
		}
		if (s->in_eof && !s->in_len && !s->eof_sent &&
		    room - used >= ALCATRAZ_CTL_HDR_SIZE + 4) {
			used += exec_put_rec(buf + used, ALCATRAZ_CTL_EXEC_STDIN, &s->id, 1, NULL, 0);
			s->eof_sent = true;
		}
	}
	return used;
}

bool exec_has_output(struct exec_table *t)
{
	for (unsigned int i = 0; t && i < ALCATRAZ_CTL_MAX_EXECS; i++) {
		struct exec_slot *s = &t->s[i];

		if (s->st != SLOT_SENT && s->st != SLOT_RUNNING)
			continue;
		if (s->out[0].ack_owed || s->out[1].ack_owed || s->in_len ||
		    (s->in_eof && !s->eof_sent))
			return true;
	}
	return false;
}

/* Queued EXEC records go out after END (lock held). */
static void send_queued(struct exec_table *t)
{
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++) {
		struct exec_slot *s = &t->s[i];

		if (s->st != SLOT_QUEUED)
			continue;
		if (t->refused) {
			s->res.error = -EOPNOTSUPP;
			s->res.exit_code = ALCATRAZ_CTL_EXIT_RUNTIME;
			stdin_end(t, s);
			mark_done(t, s);
		} else if (control_put_raw_locked(t->c, s->rec, s->rec_len) == 0) {
			s->st = SLOT_SENT;
			stdin_update(t, s);
		} else {
			s->res.error = -ENOMEM;
			s->res.exit_code = ALCATRAZ_CTL_EXIT_RUNTIME;
			stdin_end(t, s);
			mark_done(t, s);
		}
		free(s->rec);
		s->rec = NULL;
		s->rec_len = 0;
	}
}

bool exec_snap_idle(const struct exec_table *t, bool *ready, bool *refused)
{
	*ready = t->ready;
	*refused = t->refused;
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++)
		if (t->s[i].st != SLOT_FREE)
			return false;
	return true;
}

void exec_channel_ready(struct exec_table *t, bool guest_execs, bool guest_winsize)
{
	t->ready = true;
	t->refused = !guest_execs;
	t->winsize = guest_execs && guest_winsize;
	send_queued(t);
}

/* ------------------------------------------------ the device thread */

void exec_poll(struct vm *vm)
{
	struct exec_table *t;
	struct epoll_event ev[32];
	int n;

	if (!control_lock(vm, &t))
		return;
	n = epoll_wait(t->epfd, ev, ARRAY_SIZE(ev), 0);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 == EV_KICK) {
			uint64_t v;

			(void)!read(t->kick_fd, &v, sizeof(v));
			if (t->ready)
				send_queued(t);
			continue;
		}
		unsigned int si = (unsigned int)(ev[i].data.u64 >> 2), what = ev[i].data.u64 & 3;
		struct exec_slot *s = &t->s[si % ALCATRAZ_CTL_MAX_EXECS];

		if (what == EV_IN && s->in_polled) {
			stdin_read(t, s);
			stdin_update(t, s);
		} else if (what != EV_IN && (s->st == SLOT_RUNNING || s->st == SLOT_STATUS) &&
			   s->out[what - 1].polled) {
			stream_pump(t, s, what - 1);
		}
	}
	control_unlock(vm);
	if (n > 0)
		virtio_vsock_flush(vm);
}
