// SPDX-License-Identifier: LGPL-2.1-or-later
/* Bounded output buffers drained by the device thread (see outbuf.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "outbuf.h"
#include "vmm.h"

struct outbuf {
	pthread_mutex_t lock;
	struct vm *vm;
	const char *name;
	struct sink sink;
	uint8_t *ring;
	size_t cap, head, len;       /* bytes [head, head + len) mod cap are queued */
	bool filter;
	struct outbuf_filter fst;
	bool waiting;                /* a put came up short: call space() on room */
	bool broken;
	int error;                   /* why the sink broke */
	bool drop_logged, broken_logged;
	uint64_t dropped;
	void (*space)(void *opaque);
	void *space_opaque;
	void (*wake)(void *opaque);
	void *wake_opaque;
};

/* ------------------------------------------------------------ the filter */

static size_t put_escape(uint8_t *out, uint8_t b)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = 'x';
	out[2] = (uint8_t)hex[b >> 4];
	out[3] = (uint8_t)hex[b & 15];
	return 4;
}

static size_t flush_held(struct outbuf_filter *st, uint8_t *out)
{
	size_t n = 0;

	for (unsigned int i = 0; i < st->n_held; i++)
		n += put_escape(out + n, st->held[i]);
	st->n_held = st->need = 0;
	return n;
}

/* Continuation bytes a UTF-8 lead byte announces; 0 for an invalid lead. */
static unsigned int utf8_needs(uint8_t b)
{
	if (b >= 0xc2 && b <= 0xdf)
		return 1;
	if (b >= 0xe0 && b <= 0xef)
		return 2;
	if (b >= 0xf0 && b <= 0xf4)
		return 3;
	return 0;
}

/* Is b acceptable as continuation number n_held (1-based) after lead? Rules
 * out overlong forms, surrogates and code points above U+10FFFF. */
static bool utf8_cont_ok(uint8_t lead, unsigned int n_held, uint8_t b)
{
	if ((b & 0xc0) != 0x80)
		return false;
	if (n_held != 1)
		return true;
	switch (lead) {
	case 0xe0: return b >= 0xa0;
	case 0xed: return b <= 0x9f;
	case 0xf0: return b >= 0x90;
	case 0xf4: return b <= 0x8f;
	default: return true;
	}
}

static size_t filter_byte(struct outbuf_filter *st, uint8_t b, uint8_t *out)
{
	size_t n = 0;

	if (st->need) {
		if (utf8_cont_ok(st->held[0], st->n_held, b)) {
			st->held[st->n_held++] = b;
			if (--st->need)
				return 0;
			/* C1 controls (U+0080-U+009F, lead 0xc2) act as
			 * escape sequences on some terminals. */
			if (st->held[0] == 0xc2 && st->held[1] < 0xa0)
				return flush_held(st, out);
			memcpy(out, st->held, st->n_held);
			n = st->n_held;
			st->n_held = 0;
			return n;
		}
		n = flush_held(st, out); /* malformed: escape it, then look at b afresh */
	}
	if (b == '\n' || b == '\r' || b == '\t' || (b >= 0x20 && b < 0x7f)) {
		out[n] = b;
		return n + 1;
	}
	if (b >= 0x80 && (st->need = utf8_needs(b))) {
		st->held[0] = b;
		st->n_held = 1;
		return n;
	}
	return n + put_escape(out + n, b);
}

size_t outbuf_filter(struct outbuf_filter *st, const uint8_t *in, size_t len, uint8_t *out,
		     bool end)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += filter_byte(st, in[i], out + n);
	if (end)
		n += flush_held(st, out + n);
	return n;
}

/* ------------------------------------------------------------ the buffer */

int outbuf_new_sink(struct vm *vm, const char *name, struct sink *sink, size_t cap,
		    bool filter, struct outbuf **out)
{
	struct outbuf *ob;

	if (cap < OUTBUF_FILTER_MAX * 4) {
		sink_fini(sink);
		return -EINVAL;
	}
	ob = calloc(1, sizeof(*ob));
	if (ob)
		ob->ring = malloc(cap);
	if (!ob || !ob->ring) {
		free(ob);
		sink_fini(sink);
		return -ENOMEM;
	}
	pthread_mutex_init(&ob->lock, NULL);
	ob->vm = vm;
	ob->name = name;
	ob->cap = cap;
	ob->filter = filter;
	ob->sink = *sink;
	ob->broken = sink->fd < 0; /* no sink: output is discarded */
	*out = ob;
	return 0;
}

int outbuf_new(struct vm *vm, const char *name, int fd, size_t cap, bool filter,
	       struct outbuf **out)
{
	struct sink sink;

	sink_init(&sink, fd);
	return outbuf_new_sink(vm, name, &sink, cap, filter, out);
}

void outbuf_free(struct outbuf *ob)
{
	if (!ob)
		return;
	if (ob->dropped)
		vm_log(ob->vm, LOG_INFO, "%s: %llu bytes of output dropped in all", ob->name,
		       (unsigned long long)ob->dropped);
	sink_fini(&ob->sink);
	pthread_mutex_destroy(&ob->lock);
	free(ob->ring);
	free(ob);
}

void outbuf_set_space_cb(struct outbuf *ob, void (*fn)(void *opaque), void *opaque)
{
	ob->space = fn;
	ob->space_opaque = opaque;
}

void outbuf_set_wake_cb(struct outbuf *ob, void (*fn)(void *opaque), void *opaque)
{
	ob->wake = fn;
	ob->wake_opaque = opaque;
}

/* Copies n bytes into the ring's free space. Lock held, room checked. */
static void ring_store(struct outbuf *ob, const uint8_t *p, size_t n)
{
	size_t tail = (ob->head + ob->len) % ob->cap;
	size_t first = n < ob->cap - tail ? n : ob->cap - tail;

	memcpy(ob->ring + tail, p, first);
	memcpy(ob->ring, p + first, n - first);
	ob->len += n;
}

static size_t room_locked(const struct outbuf *ob)
{
	size_t free_bytes = ob->cap - ob->len;

	if (ob->broken)
		return SIZE_MAX;
	return ob->filter ? free_bytes / OUTBUF_FILTER_MAX : free_bytes;
}

#define FILTER_CHUNK 64 /* input bytes filtered per step */

/* Lock held. Returns input bytes taken; end: flush the filter's state. */
static size_t store_locked(struct outbuf *ob, const uint8_t *p, size_t len, bool end)
{
	uint8_t tmp[FILTER_CHUNK * OUTBUF_FILTER_MAX];
	size_t done = 0;

	if (ob->broken) {
		if (ob->sink.fd >= 0)
			ob->dropped += len;
		return len;
	}
	if (!ob->filter) {
		done = len < ob->cap - ob->len ? len : ob->cap - ob->len;
		ring_store(ob, p, done);
		return done;
	}
	while (done < len) {
		size_t chunk = len - done, room = room_locked(ob);

		if (chunk > FILTER_CHUNK)
			chunk = FILTER_CHUNK;
		if (chunk > room)
			chunk = room;
		if (!chunk)
			break;
		ring_store(ob, tmp, outbuf_filter(&ob->fst, p + done, chunk, tmp, false));
		done += chunk;
	}
	/* The held bytes of a partial sequence: at most 3 escapes. */
	if (end && done == len && room_locked(ob) > 0)
		ring_store(ob, tmp, outbuf_filter(&ob->fst, NULL, 0, tmp, true));
	return done;
}

static void wake_if(struct outbuf *ob, bool was_empty)
{
	if (was_empty && ob->wake)
		ob->wake(ob->wake_opaque);
}

size_t outbuf_put(struct outbuf *ob, const void *buf, size_t len)
{
	bool was_empty;
	size_t done;

	pthread_mutex_lock(&ob->lock);
	was_empty = ob->len == 0;
	done = store_locked(ob, buf, len, false);
	if (done < len)
		ob->waiting = true;
	was_empty = was_empty && ob->len;
	pthread_mutex_unlock(&ob->lock);
	wake_if(ob, was_empty);
	return done;
}

bool outbuf_put_all(struct outbuf *ob, const void *buf, size_t len)
{
	bool was_empty, fits;

	pthread_mutex_lock(&ob->lock);
	was_empty = ob->len == 0;
	fits = room_locked(ob) >= len;
	if (fits)
		store_locked(ob, buf, len, false);
	else if (ob->sink.fd >= 0)
		ob->dropped += len;
	was_empty = was_empty && ob->len;
	pthread_mutex_unlock(&ob->lock);
	wake_if(ob, was_empty);
	return fits;
}

size_t outbuf_room(struct outbuf *ob)
{
	size_t room;

	pthread_mutex_lock(&ob->lock);
	room = room_locked(ob);
	pthread_mutex_unlock(&ob->lock);
	return room;
}

void outbuf_end(struct outbuf *ob)
{
	bool was_empty;

	pthread_mutex_lock(&ob->lock);
	was_empty = ob->len == 0;
	if (ob->filter && ob->fst.n_held && !ob->broken)
		store_locked(ob, NULL, 0, true);
	was_empty = was_empty && ob->len;
	pthread_mutex_unlock(&ob->lock);
	wake_if(ob, was_empty);
}

static void log_once(struct outbuf *ob, bool *logged, const char *what)
{
	pthread_mutex_lock(&ob->lock);
	bool first = !*logged;
	*logged = true;
	pthread_mutex_unlock(&ob->lock);
	if (first)
		vm_log(ob->vm, LOG_WARN, "%s: %s", ob->name, what);
}

void outbuf_drop(struct outbuf *ob, size_t n)
{
	pthread_mutex_lock(&ob->lock);
	ob->dropped += n;
	pthread_mutex_unlock(&ob->lock);
	log_once(ob, &ob->drop_logged,
		 "the guest wrote while the sink was full: output dropped (counted)");
}

/* Writes from the ring until the sink pushes back. Only one consumer runs
 * at a time, and producers only append, so the write itself needs no lock. */
int outbuf_drain(struct outbuf *ob)
{
	bool call_space = false, broke = false;
	int ret = 0;

	for (;;) {
		pthread_mutex_lock(&ob->lock);
		size_t head = ob->head;
		size_t n = ob->len < ob->cap - head ? ob->len : ob->cap - head;
		if (!n || ob->broken) {
			pthread_mutex_unlock(&ob->lock);
			break;
		}
		pthread_mutex_unlock(&ob->lock);

		ssize_t w = sink_write(&ob->sink, ob->ring + head, n);

		pthread_mutex_lock(&ob->lock);
		if (w == -EAGAIN) {
			pthread_mutex_unlock(&ob->lock);
			ret = -EAGAIN;
			break;
		}
		if (w < 0) {
			/* The reader went away: discard, and let producers go on. */
			ob->broken = broke = true;
			ob->error = (int)-w;
			ob->dropped += ob->len;
			ob->len = 0;
		} else {
			ob->head = (ob->head + (size_t)w) % ob->cap;
			ob->len -= (size_t)w;
		}
		if (ob->waiting && room_locked(ob) > 0) {
			ob->waiting = false;
			call_space = true;
		}
		pthread_mutex_unlock(&ob->lock);
	}
	if (broke)
		log_once(ob, &ob->broken_logged, "the sink failed: further output is discarded");
	/* Outside the lock: the device takes its own lock and puts again. */
	if (call_space && ob->space)
		ob->space(ob->space_opaque);
	return ret;
}

short outbuf_poll_events(struct outbuf *ob)
{
	short ev;

	pthread_mutex_lock(&ob->lock);
	ev = ob->len && !ob->broken ? POLLOUT : 0;
	pthread_mutex_unlock(&ob->lock);
	return ev;
}

bool outbuf_idle(struct outbuf *ob)
{
	bool idle;

	pthread_mutex_lock(&ob->lock);
	idle = ob->broken || (!ob->len && !ob->waiting);
	pthread_mutex_unlock(&ob->lock);
	return idle;
}

struct vm *outbuf_vm(const struct outbuf *ob)
{
	return ob->vm;
}

int outbuf_fd(const struct outbuf *ob)
{
	return ob->sink.fd;
}

bool outbuf_is_tty(const struct outbuf *ob)
{
	return ob->sink.tty;
}

uint64_t outbuf_dropped(struct outbuf *ob)
{
	uint64_t n;

	pthread_mutex_lock(&ob->lock);
	n = ob->dropped;
	pthread_mutex_unlock(&ob->lock);
	return n;
}

bool outbuf_broken(struct outbuf *ob)
{
	bool b;

	pthread_mutex_lock(&ob->lock);
	b = ob->broken;
	pthread_mutex_unlock(&ob->lock);
	return b;
}
