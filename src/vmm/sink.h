/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host file descriptors that receive guest output or the VMM's log. Writes
 * never wait for a reader and never raise SIGPIPE in the embedding program:
 *
 * - sockets: send(MSG_DONTWAIT | MSG_NOSIGNAL), a per-call non-blocking,
 *   signal-free write;
 * - pipes, FIFOs, ttys and other character devices: reopened once through
 *   /proc/self/fd with O_NONBLOCK. That is a new open file description of
 *   the same pipe or terminal, so the flag never reaches the caller's own
 *   descriptor (setting O_NONBLOCK on a dup would: a dup shares the file
 *   description, and the embedder's stdout would start failing with EAGAIN);
 * - regular files and block devices: plain write(), which does not wait for
 *   a reader (and a reopen would lose the caller's shared file offset);
 * - where the reopen fails (no /proc): poll() with a zero timeout, then at
 *   most PIPE_BUF bytes, which a pipe with room takes without blocking as
 *   long as nobody else writes to it between the two calls.
 *
 * A pipe write can raise SIGPIPE in the writing thread. Every VMM thread
 * blocks SIGPIPE for its whole life (sink_thread_block_sigpipe); a write
 * from a caller's thread blocks it around the write and takes back the
 * SIGPIPE that write raised, leaving the caller's disposition and mask alone.
 */
#ifndef ALCATRAZ_SINK_H
#define ALCATRAZ_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vmm_protocol.h"

enum sink_kind { SINK_NONE, SINK_FILE, SINK_SOCKET, SINK_REOPENED, SINK_POLLED };

struct sink {
	int fd;              /* where writes go, or -1 */
	int own_fd;          /* the non-blocking reopen this sink owns, or -1 */
	enum sink_kind kind;
	bool tty;            /* the original descriptor is a terminal */
};

/* fd stays the caller's; the sink may open (and owns) a second one. */
void sink_init(struct sink *s, int fd);
/* As sink_init, with what proto_sink_classify() found out already (for a
 * jailed thread, which may not look itself); own_fd, the non-blocking
 * reopen or -1, becomes the sink's. An invalid class: no sink. */
void sink_init_as(struct sink *s, int fd, enum vmm_sink_class class, bool tty, int own_fd);
void sink_fini(struct sink *s);
/* Bytes written (> 0), -EAGAIN when the sink has no room now, or another
 * negative errno when it is broken (-EPIPE: the reader went away). */
ssize_t sink_write(struct sink *s, const void *buf, size_t len);
const char *sink_kind_name(enum sink_kind kind);


/* For threads the VMM creates: SIGPIPE stays blocked in them for good. */
void sink_thread_block_sigpipe(void);
/* write() that never leaves a SIGPIPE for the calling thread. */
ssize_t write_nosigpipe(int fd, const void *buf, size_t len);

#endif
