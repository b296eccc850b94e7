/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Disk I/O engines. The preferred one is a restricted io_uring: created
 * disabled, limited to registered files and the READV/WRITEV opcodes, then
 * enabled, so that even a VMM taken over by its guest can use the ring for
 * nothing but these disks (and seccomp forbids creating another).  Its
 * requests never wait for an io-wq worker (io_engine.c, uring_batch): what
 * would block, and flushes, are done synchronously. Where
 * io_uring is unavailable (blocked by a container profile, or
 * kernel.io_uring_disabled), a synchronous preadv/pwritev engine takes over
 * and the reason is logged.
 *
 * Requests are queued with io_engine_queue() and completed together by
 * io_engine_run(), so several are in flight at once on io_uring.
 */
#ifndef ALCATRAZ_IO_ENGINE_H
#define ALCATRAZ_IO_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum io_op { IO_READ, IO_WRITE, IO_FLUSH };

struct io_req {
	enum io_op op;
	unsigned int file;        /* index into the engine's files */
	const struct iovec *iov;
	unsigned int n;
	uint64_t off;
	uint64_t len;             /* bytes the request must move in all */
	int res;                  /* 0 or -errno, set on completion */
};

struct io_engine;

#define IO_ENGINE_DEPTH 64

/* Creates an engine for @fds. @why receives the reason when io_uring could
 * not be used (the engine then is the synchronous one). 0 or -errno. */
int io_engine_new(const int *fds, unsigned int nfds, bool allow_uring, struct io_engine **out,
		  char *why, size_t why_len);
const char *io_engine_name(const struct io_engine *e);
/* Queues @req (at most IO_ENGINE_DEPTH at a time); it must stay valid until
 * io_engine_run() returns. */
int io_engine_queue(struct io_engine *e, struct io_req *req);
/* Runs every queued request to completion; each gets its res. */
void io_engine_run(struct io_engine *e);
void io_engine_free(struct io_engine *e);

/* For tests: the ring behind a uring engine, or NULL. */
struct io_uring *io_engine_ring(struct io_engine *e);

#endif
