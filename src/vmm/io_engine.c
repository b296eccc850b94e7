// SPDX-License-Identifier: LGPL-2.1-or-later
/* The restricted io_uring engine and its synchronous fallback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <liburing.h>

#include "io_engine.h"

struct io_engine {
	bool uring;
	struct io_uring ring;
	int *fds;
	unsigned int nfds;
	struct io_req *queued[IO_ENGINE_DEPTH];
	unsigned int nqueued;
};

/* Moves what remains of a request after @done bytes, synchronously: short
 * transfers are rare (a file that shrank, a signal), and looping through the
 * ring for them would add a second completion path. */
static int sync_rest(int fd, struct io_req *r, uint64_t done)
{
	struct iovec iov[1024]; /* IOV_MAX on Linux */
	unsigned int n = 0;
	uint64_t skip = done, off = r->off + done;

	if (r->n > sizeof(iov) / sizeof(iov[0]))
		return -EINVAL;
	for (unsigned int i = 0; i < r->n; i++) {
		if (skip >= r->iov[i].iov_len) {
			skip -= r->iov[i].iov_len;
			continue;
		}
		iov[n].iov_base = (uint8_t *)r->iov[i].iov_base + skip;
		iov[n].iov_len = r->iov[i].iov_len - skip;
		skip = 0;
		n++;
	}
	unsigned int first = 0;
	while (first < n) {
		ssize_t got = r->op == IO_WRITE ? pwritev(fd, iov + first, (int)(n - first), (off_t)off)
						: preadv(fd, iov + first, (int)(n - first), (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0) {
			if (r->op == IO_WRITE)
				return -EIO;
			/* Past the end of a file that shrank: zeros. */
			for (; first < n; first++)
				memset(iov[first].iov_base, 0, iov[first].iov_len);
			return 0;
		}
		off += (uint64_t)got;
		while (got > 0 && first < n) {
			if ((size_t)got >= iov[first].iov_len) {
				got -= (ssize_t)iov[first].iov_len;
				first++;
			} else {
				iov[first].iov_base = (uint8_t *)iov[first].iov_base + got;
				iov[first].iov_len -= (size_t)got;
				got = 0;
			}
		}
	}
	return 0;
}

static int sync_one(struct io_engine *e, struct io_req *r)
{
	int fd = e->fds[r->file];

	if (r->op == IO_FLUSH)
		return fdatasync(fd) < 0 ? -errno : 0;
	return sync_rest(fd, r, 0);
}

/* Debian 12's liburing declares io_uring_register_restrictions() and
 * io_uring_enable_rings() but does not export them: call the kernel. */
static int uring_register(struct io_uring *ring, unsigned int op, const void *arg,
			  unsigned int nr)
{
	long ret = syscall(__NR_io_uring_register, ring->ring_fd, op, arg, nr);
	return ret < 0 ? -errno : 0;
}

static int uring_setup(struct io_engine *e, char *why, size_t len)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_R_DISABLED;
	ret = io_uring_queue_init_params(IO_ENGINE_DEPTH, &e->ring, &p);
	if (ret < 0) {
		snprintf(why, len, "io_uring_setup: %s", strerror(-ret));
		return ret;
	}
	ret = io_uring_register_files(&e->ring, e->fds, e->nfds);
	if (ret < 0) {
		snprintf(why, len, "registering files: %s", strerror(-ret));
		goto fail;
	}
	/* Only these opcodes, only on registered files, no other SQE flag;
	 * no further registration of any kind. */
	struct io_uring_restriction res[3];
	memset(res, 0, sizeof(res));
	res[0].opcode = IORING_RESTRICTION_SQE_OP;
	res[0].sqe_op = IORING_OP_READV;
	res[1].opcode = IORING_RESTRICTION_SQE_OP;
	res[1].sqe_op = IORING_OP_WRITEV;
	res[2].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[2].sqe_flags = IOSQE_FIXED_FILE;
	ret = uring_register(&e->ring, IORING_REGISTER_RESTRICTIONS, res, 3);
	if (ret < 0) {
		snprintf(why, len, "restricting the ring: %s", strerror(-ret));
		goto fail;
	}
	ret = uring_register(&e->ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (ret < 0) {
		snprintf(why, len, "enabling the ring: %s", strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	io_uring_queue_exit(&e->ring);
	return ret;
}

int io_engine_new(const int *fds, unsigned int nfds, bool allow_uring, struct io_engine **out,
		  char *why, size_t why_len)
{
	struct io_engine *e = calloc(1, sizeof(*e));

	if (why_len)
		why[0] = 0;
	if (!e || !nfds)
		goto nomem;
	e->fds = malloc(nfds * sizeof(int));
	if (!e->fds)
		goto nomem;
	memcpy(e->fds, fds, nfds * sizeof(int));
	e->nfds = nfds;
	if (!allow_uring)
		snprintf(why, why_len, "io_uring disabled by configuration");
	else if (uring_setup(e, why, why_len) == 0)
		e->uring = true;
	*out = e;
	return 0;
nomem:
	free(e);
	return nfds ? -ENOMEM : -EINVAL;
}

const char *io_engine_name(const struct io_engine *e)
{
	return e->uring ? "io_uring (restricted)" : "preadv/pwritev";
}

struct io_uring *io_engine_ring(struct io_engine *e)
{
	return e->uring ? &e->ring : NULL;
}

int io_engine_queue(struct io_engine *e, struct io_req *r)
{
	if (e->nqueued == IO_ENGINE_DEPTH || r->file >= e->nfds)
		return -EINVAL;
	r->res = 1; /* pending: no completion seen yet */
	e->queued[e->nqueued++] = r;
	return 0;
}

/*
 * Reads and writes of @reqs (no flush among them) through the ring, each
 * with RWF_NOWAIT: one that would block completes with -EAGAIN and is done
 * synchronously here.  So the ring never hands work to an io-wq worker,
 * which would be a new task of this process: the jailed VMM may create
 * none (RLIMIT_NPROC 0), and a request waiting for a worker that cannot
 * be created waits forever on recent kernels (seen on Linux 6.18).
 */
static void uring_batch(struct io_engine *e, struct io_req **reqs, unsigned int nreqs)
{
	unsigned int submitted = 0, done = 0;

	for (unsigned int i = 0; i < nreqs; i++) {
		struct io_req *r = reqs[i];
		struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

		if (!sqe) {
			r->res = sync_one(e, r);
			continue;
		}
		if (r->op == IO_READ)
			io_uring_prep_readv(sqe, (int)r->file, r->iov, r->n, r->off);
		else
			io_uring_prep_writev(sqe, (int)r->file, r->iov, r->n, r->off);
		sqe->rw_flags = RWF_NOWAIT;
		sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data(sqe, r);
		submitted++;
	}
	if (submitted) {
		int ret;
		do
			ret = io_uring_submit_and_wait(&e->ring, submitted);
		while (ret == -EINTR);
	}
	while (done < submitted) {
		struct io_uring_cqe *cqe;
		int ret = io_uring_wait_cqe(&e->ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret < 0)
			break;
		struct io_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&e->ring, cqe);
		done++;
		if (res == -EAGAIN || res == -EOPNOTSUPP)	/* would block, or no NOWAIT here */
			r->res = sync_one(e, r);
		else if (res < 0)
			r->res = res;
		else if ((uint64_t)res < r->len)
			r->res = sync_rest(e->fds[r->file], r, (uint64_t)res);
		else
			r->res = 0;
	}
	/* A ring that broke mid-way leaves requests without a completion:
	 * fail them rather than guess. */
	if (done < submitted)
		for (unsigned int i = 0; i < nreqs; i++)
			if (reqs[i]->res == 1)
				reqs[i]->res = -EIO;
}

/* The queue in runs between flushes; a flush, synchronous (an FSYNC in the
 * ring always goes to an io-wq worker), after what was queued before it. */
static void uring_run(struct io_engine *e)
{
	unsigned int i = 0;

	while (i < e->nqueued) {
		unsigned int j = i;

		if (e->queued[i]->op == IO_FLUSH) {
			e->queued[i]->res = sync_one(e, e->queued[i]);
			i++;
			continue;
		}
		while (j < e->nqueued && e->queued[j]->op != IO_FLUSH)
			j++;
		uring_batch(e, e->queued + i, j - i);
		i = j;
	}
}

void io_engine_run(struct io_engine *e)
{
	if (e->uring) {
		uring_run(e);
	} else {
		for (unsigned int i = 0; i < e->nqueued; i++)
			e->queued[i]->res = sync_one(e, e->queued[i]);
	}
	e->nqueued = 0;
}

void io_engine_free(struct io_engine *e)
{
	if (!e)
		return;
	if (e->uring)
		io_uring_queue_exit(&e->ring);
	free(e->fds);
	free(e);
}
