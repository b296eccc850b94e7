// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * virtio-blk (virtio 1.2, section 5.2) over a raw image file. Requests are
 * popped in batches of up to BLK_BATCH and handed to the I/O engine
 * together (io_engine.h: a restricted io_uring, or a preadv/pwritev
 * fallback), so several are in flight at once; a flush is queued with drain
 * semantics and so completes after every write queued before it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../io_engine.h"
#include "virtio.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define SECTOR 512ULL
#define BLK_ID_LEN 20

#define BLK_BATCH 16

/* One request between its pop and its push. */
struct blk_req {
	struct vq_elem elem;
	struct iovec data[VQ_MAX_SEGS];
	struct io_req io;
	bool queued;      /* waiting on the engine */
	uint8_t status;
	uint32_t written;
};

struct blk {
	struct virtio_dev *dev;
	struct io_engine *io;
	int fd;
	bool readonly;
	uint64_t sectors;
	char id[BLK_ID_LEN];
	struct blk_req reqs[BLK_BATCH];
};

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* Validates one request and either answers it at once (the status byte is
 * returned) or queues its I/O on the engine (req->queued is set and the
 * status comes from the completion). *written counts bytes for the driver. */
static uint8_t blk_prepare(struct blk *b, struct blk_req *req, uint32_t *written)
{
	const struct vq_elem *e = &req->elem;
	struct blk_req_hdr h;
	uint64_t data_len, off, end;
	unsigned int n;

	*written = 0;
	req->queued = false;
	if (iov_to_buf(e->out, e->n_out, 0, &h, sizeof(h)) != sizeof(h))
		return VIRTIO_BLK_S_IOERR;
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		data_len = e->in_len - 1; /* the status byte is the last one */
		if (data_len % SECTOR || __builtin_mul_overflow(h.sector, SECTOR, &off) ||
		    __builtin_add_overflow(off, data_len, &end) || end > b->sectors * SECTOR)
			return VIRTIO_BLK_S_IOERR;
		n = iov_slice(e->in, e->n_in, 0, data_len, req->data, VQ_MAX_SEGS);
		*written = (uint32_t)data_len;
		if (!data_len)
			return VIRTIO_BLK_S_OK;
		req->io = (struct io_req){ .op = IO_READ, .iov = req->data, .n = n, .off = off,
					   .len = data_len };
		goto queue;
	case VIRTIO_BLK_T_OUT:
		if (b->readonly)
			return VIRTIO_BLK_S_IOERR;
		data_len = e->out_len - sizeof(h);
		if (data_len % SECTOR || __builtin_mul_overflow(h.sector, SECTOR, &off) ||
		    __builtin_add_overflow(off, data_len, &end) || end > b->sectors * SECTOR)
			return VIRTIO_BLK_S_IOERR;
		n = iov_slice(e->out, e->n_out, sizeof(h), data_len, req->data, VQ_MAX_SEGS);
		if (!data_len)
			return VIRTIO_BLK_S_OK;
		req->io = (struct io_req){ .op = IO_WRITE, .iov = req->data, .n = n, .off = off,
					   .len = data_len };
		goto queue;
	case VIRTIO_BLK_T_FLUSH:
		if (b->readonly)
			return VIRTIO_BLK_S_OK;
		req->io = (struct io_req){ .op = IO_FLUSH };
		goto queue;
	case VIRTIO_BLK_T_GET_ID:
		data_len = e->in_len - 1;
		*written = (uint32_t)buf_to_iov(e->in, e->n_in, 0, b->id,
						data_len < BLK_ID_LEN ? data_len : BLK_ID_LEN);
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
queue:
	if (io_engine_queue(b->io, &req->io))
		return VIRTIO_BLK_S_IOERR;
	req->queued = true;
	return VIRTIO_BLK_S_OK;
}

/* The figures of the VM's result (read once the vCPUs are gone). */
static void blk_count(struct vm *vm, const struct io_req *io)
{
	struct alcatraz_usage *u = &vm->result.usage;

	if (io->op == IO_READ)
		__atomic_fetch_add(&u->disk_read_bytes, io->len, __ATOMIC_RELAXED);
	else if (io->op == IO_WRITE)
		__atomic_fetch_add(&u->disk_written_bytes, io->len, __ATOMIC_RELAXED);
}

static void blk_notify(struct virtio_dev *d, unsigned int q)
{
	struct blk *b = d->priv;
	bool any = false, broken = false;
	unsigned int handled = 0;

	while (!broken) {
		unsigned int n = 0;

		while (n < BLK_BATCH && virtio_pop(d, 0, &b->reqs[n].elem) > 0) {
			struct blk_req *req = &b->reqs[n];

			if (req->elem.in_len < 1) {
				/* Nowhere to put a status: the driver broke the protocol. */
				virtio_dev_needs_reset(d, "request without a status byte");
				broken = true;
				break;
			}
			req->status = blk_prepare(b, req, &req->written);
			n++;
		}
		if (n == 0)
			break;
		io_engine_run(b->io);
		/* Answers go back in the order the requests came. */
		for (unsigned int i = 0; i < n; i++) {
			struct blk_req *req = &b->reqs[i];

			if (req->queued && req->io.res)
				req->status = VIRTIO_BLK_S_IOERR;
			else if (req->queued)
				blk_count(d->vm, &req->io);
			if (req->status != VIRTIO_BLK_S_OK)
				req->written = 0;
			buf_to_iov(req->elem.in, req->elem.n_in, req->elem.in_len - 1, &req->status, 1);
			(void)vq_push(&d->vm->mem, &d->vqs[0], req->elem.head, req->written + 1);
			any = true;
		}
		if (n < BLK_BATCH)
			break;
		handled += n;
		if (handled >= VQ_NOTIFY_BUDGET) {
			virtio_notify_again(d, 0);
			break;
		}
	}
	if (any)
		virtio_signal_used(d, 0);
}

/* The image is a registered file of the io_uring, whose teardown in the
 * kernel ends after io_engine_free() returns: the open file description, and
 * the lock on it, would outlive the VM and refuse the next VM on the image.
 * Unlocking acts on the description at once. */
static void release_image(struct blk *b)
{
	if (b->fd >= 0)
		(void)flock(b->fd, LOCK_UN);
	io_engine_free(b->io);
	if (b->fd >= 0)
		close(b->fd);
}

static void blk_free(struct virtio_dev *d)
{
	struct blk *b = d->priv;

	release_image(b);
	free(b);
}

static const struct virtio_dev_ops blk_ops = { .notify = blk_notify, .free = blk_free };

/* The disk's descriptor, received from the library (taken over), or in
 * process (tests) opened from its path. */
static int take_image_fd(struct vm *vm, struct vm_disk *d)
{
	int fd = d->fd, mode;

	d->fd = -1;
	if (fd < 0) {
		fd = open(d->path, (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (fd < 0) {
			vm_log(vm, LOG_ERR, "disk '%s': %s", d->path, strerror(errno));
			return -errno;
		}
		return fd;
	}
	/* A writable disk needs a writable descriptor; a read-only one is
	 * only ever read, whatever its descriptor allows. */
	mode = fcntl(fd, F_GETFL);
	if (mode < 0 || (!d->readonly && (mode & O_ACCMODE) != O_RDWR)) {
		vm_log(vm, LOG_ERR, "disk '%s': its descriptor is not open read-write", d->path);
		close(fd);
		return -EBADF;
	}
	return fd;
}

static int open_image(struct vm *vm, struct vm_disk *d, int *fd_out, uint64_t *size)
{
	const char *path = d->path;
	bool readonly = d->readonly;
	struct stat st;
	int fd = take_image_fd(vm, d);
	int ret;

	if (fd < 0)
		return fd;
	/* Two writers on one image corrupt it: take an advisory lock (the
	 * library took it already on the same open file, which keeps it). */
	if (flock(fd, (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		vm_log(vm, LOG_ERR, "disk '%s' is locked by another user", path);
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0) {
			ret = -errno;
			goto fail;
		}
	} else {
		vm_log(vm, LOG_ERR, "disk '%s' is not a file or block device", path);
		ret = -EINVAL;
		goto fail;
	}
	*fd_out = fd;
	return 0;
fail:
	close(fd);
	return ret;
}

int virtio_blk_init(struct vm *vm, struct vm_disk *d)
{
	const char *path = d->path;
	bool readonly = d->readonly;
	struct blk *b = calloc(1, sizeof(*b));
	uint64_t size, features = (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_SEG_MAX);
	uint32_t seg_max = VQ_MAX_SEGS - 2;
	int ret;

	if (!b)
		return -ENOMEM;
	b->fd = -1;
	ret = open_image(vm, d, &b->fd, &size);
	if (ret) {
		free(b);
		return ret;
	}
	char why[160];
	ret = io_engine_new(&b->fd, 1, true, &b->io, why, sizeof(why));
	if (ret) {
		release_image(b);
		free(b);
		return ret;
	}
	if (why[0])
		vm_log(vm, LOG_WARN, "disk '%s': io_uring unavailable (%s); using %s", path, why,
		       io_engine_name(b->io));
	else
		vm_log(vm, LOG_DEBUG, "disk '%s': I/O through %s", path, io_engine_name(b->io));
	b->readonly = readonly;
	b->sectors = size / SECTOR;
	if (readonly)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	snprintf(b->id, sizeof(b->id), "alcatraz%u", vm->nr_virtio);
	ret = virtio_dev_add(vm, "blk", VIRTIO_ID_BLOCK, features, 1, &blk_ops, b, &b->dev);
	if (ret) {
		release_image(b);
		free(b);
		return ret;
	}
	memcpy(b->dev->config, &b->sectors, 8);          /* capacity */
	memcpy(b->dev->config + 12, &seg_max, 4);        /* seg_max */
	b->dev->config_len = 16;
	return 0;
}
