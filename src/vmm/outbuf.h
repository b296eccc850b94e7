/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A bounded output buffer between a device (the producer, on a vCPU thread
 * with the device's lock held) and its host sink (drained by the device
 * thread, evloop.c). A put never blocks: it stores what fits and says how
 * much, and the device decides whether the rest waits in the guest (back-
 * pressure) or is dropped (outbuf_drop, counted and logged once). When the
 * drain frees room after a short put, the device's space callback runs on
 * the device thread so it can resume. A sink that fails (its reader went
 * away) turns the buffer into a sink of its own: puts take everything and
 * discard it, so a dead reader never stalls a guest.
 *
 * Optionally the bytes are filtered for a terminal on their way in: \n, \r,
 * \t, printable ASCII and valid UTF-8 of printable characters pass; any other
 * byte (ESC, other C0/C1 controls, DEL, malformed UTF-8) becomes a visible
 * "\xHH", so a guest cannot drive the host terminal with escape sequences.
 */
#ifndef ALCATRAZ_OUTBUF_H
#define ALCATRAZ_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sink.h"

#define OUTBUF_DEFAULT_CAP (64u * 1024)

struct vm;
struct outbuf;

/* fd stays the caller's. vm (may be NULL) is where drops are logged. */
int outbuf_new(struct vm *vm, const char *name, int fd, size_t cap, bool filter,
	       struct outbuf **out) __attribute__((warn_unused_result));
/* With a sink made already (sink_init_as): it becomes the buffer's, also
 * on failure. */
int outbuf_new_sink(struct vm *vm, const char *name, struct sink *sink, size_t cap,
		    bool filter, struct outbuf **out) __attribute__((warn_unused_result));
void outbuf_free(struct outbuf *ob);
void outbuf_set_space_cb(struct outbuf *ob, void (*fn)(void *opaque), void *opaque);
void outbuf_set_wake_cb(struct outbuf *ob, void (*fn)(void *opaque), void *opaque);

/* Producer side (any thread). Returns the input bytes taken (filtering may
 * store more); a short count means "full for now": the space callback
 * runs once room is back. */
size_t outbuf_put(struct outbuf *ob, const void *buf, size_t len);
/* All of buf or nothing (a log line); false when it did not fit. */
bool outbuf_put_all(struct outbuf *ob, const void *buf, size_t len);
/* Input bytes the next put surely takes. */
size_t outbuf_room(struct outbuf *ob);
/* The producer threw away n bytes (e.g. written while it said "full"). */
void outbuf_drop(struct outbuf *ob, size_t n);
/* The end of the stream: a partial UTF-8 sequence held by the filter is
 * emitted as escapes. */
void outbuf_end(struct outbuf *ob);

/* Consumer side (the device thread, or the owner when no thread runs).
 * Writes what the sink takes now: 0 when empty (or the sink is broken),
 * -EAGAIN when bytes remain. */
int outbuf_drain(struct outbuf *ob);
/* POLLOUT when there is something to write, else 0. */
short outbuf_poll_events(struct outbuf *ob);
/* Nothing left to write and no producer waiting for room (or broken). */
bool outbuf_idle(struct outbuf *ob);
int outbuf_fd(const struct outbuf *ob);
struct vm *outbuf_vm(const struct outbuf *ob);
bool outbuf_is_tty(const struct outbuf *ob);
uint64_t outbuf_dropped(struct outbuf *ob);
bool outbuf_broken(struct outbuf *ob);

/* The terminal filter alone: filters in[0..len) into out (room for at
 * least OUTBUF_FILTER_MAX per input byte), keeping a partial UTF-8 sequence
 * in *state between calls. Returns the bytes written to out. */
#define OUTBUF_FILTER_MAX 16
struct outbuf_filter {
	uint8_t held[4];
	unsigned int n_held, need;
};
size_t outbuf_filter(struct outbuf_filter *st, const uint8_t *in, size_t len, uint8_t *out,
		     bool end);

#endif
