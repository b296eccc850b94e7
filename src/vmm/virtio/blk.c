// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * virtio-blk (virtio 1.2, section 5.2) over a raw image file. The I/O goes
 * through a small engine interface (blk_engine) so the synchronous
 * preadv/pwritev engine used here can be replaced (io_uring) without
 * touching request parsing.
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

/* The I/O engine: whole-request operations, returning 0 or -errno. */
struct blk_engine {
	int (*readv)(int fd, const struct iovec *iov, unsigned int n, uint64_t off);
	int (*writev)(int fd, const struct iovec *iov, unsigned int n, uint64_t off);
	int (*flush)(int fd);
};

static int sync_rw(int fd, const struct iovec *iov0, unsigned int n, uint64_t off, bool write)
{
	struct iovec iov[VQ_MAX_SEGS];
	unsigned int first = 0;

	memcpy(iov, iov0, n * sizeof(iov[0]));
	while (first < n) {
		ssize_t r = write ? pwritev(fd, iov + first, (int)(n - first), (off_t)off)
				  : preadv(fd, iov + first, (int)(n - first), (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			/* Reading past a file that shrank: the rest reads as zeros. */
			if (write)
				return -EIO;
			for (; first < n; first++)
				memset(iov[first].iov_base, 0, iov[first].iov_len);
			return 0;
		}
		off += (uint64_t)r;
		while (r > 0 && first < n) {
			if ((size_t)r >= iov[first].iov_len) {
				r -= (ssize_t)iov[first].iov_len;
				first++;
			} else {
				iov[first].iov_base = (uint8_t *)iov[first].iov_base + r;
				iov[first].iov_len -= (size_t)r;
				r = 0;
			}
		}
	}
	return 0;
}

static int sync_readv(int fd, const struct iovec *iov, unsigned int n, uint64_t off)
{
	return sync_rw(fd, iov, n, off, false);
}

static int sync_writev(int fd, const struct iovec *iov, unsigned int n, uint64_t off)
{
	return sync_rw(fd, iov, n, off, true);
}

static int sync_flush(int fd)
{
	return fdatasync(fd) < 0 ? -errno : 0;
}

static const struct blk_engine sync_engine = {
	.readv = sync_readv, .writev = sync_writev, .flush = sync_flush,
};

struct blk {
	struct virtio_dev *dev;
	const struct blk_engine *io;
	int fd;
	bool readonly;
	uint64_t sectors;
	char id[BLK_ID_LEN];
	struct vq_elem elem;
	struct iovec data[VQ_MAX_SEGS];
};

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* Executes one request; returns the status byte and sets *written. */
static uint8_t blk_do(struct blk *b, const struct vq_elem *e, uint32_t *written)
{
	struct blk_req_hdr h;
	uint64_t data_len, off, end;
	unsigned int n;

	*written = 0;
	if (iov_to_buf(e->out, e->n_out, 0, &h, sizeof(h)) != sizeof(h))
		return VIRTIO_BLK_S_IOERR;
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		data_len = e->in_len - 1; /* the status byte is the last one */
		if (data_len % SECTOR || __builtin_mul_overflow(h.sector, SECTOR, &off) ||
		    __builtin_add_overflow(off, data_len, &end) || end > b->sectors * SECTOR)
			return VIRTIO_BLK_S_IOERR;
		n = iov_slice(e->in, e->n_in, 0, data_len, b->data, VQ_MAX_SEGS);
		if (data_len && b->io->readv(b->fd, b->data, n, off))
			return VIRTIO_BLK_S_IOERR;
		*written = (uint32_t)data_len;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		if (b->readonly)
			return VIRTIO_BLK_S_IOERR;
		data_len = e->out_len - sizeof(h);
		if (data_len % SECTOR || __builtin_mul_overflow(h.sector, SECTOR, &off) ||
		    __builtin_add_overflow(off, data_len, &end) || end > b->sectors * SECTOR)
			return VIRTIO_BLK_S_IOERR;
		n = iov_slice(e->out, e->n_out, sizeof(h), data_len, b->data, VQ_MAX_SEGS);
		if (data_len && b->io->writev(b->fd, b->data, n, off))
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		if (!b->readonly && b->io->flush(b->fd))
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		data_len = e->in_len - 1;
		*written = (uint32_t)buf_to_iov(e->in, e->n_in, 0, b->id,
						data_len < BLK_ID_LEN ? data_len : BLK_ID_LEN);
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void blk_notify(struct virtio_dev *d, unsigned int q)
{
	struct blk *b = d->priv;
	struct vq_elem *e = &b->elem;
	bool any = false;

	while (virtio_pop(d, 0, e) > 0) {
		uint32_t written = 0;
		uint8_t status;

		if (e->in_len < 1) {
			/* Nowhere to put a status: the driver broke the protocol. */
			virtio_dev_needs_reset(d, "request without a status byte");
			break;
		}
		status = blk_do(b, e, &written);
		buf_to_iov(e->in, e->n_in, e->in_len - 1, &status, 1);
		(void)vq_push(&d->vm->mem, &d->vqs[0], e->head, written + 1);
		any = true;
	}
	if (any)
		virtio_signal_used(d, 0);
}

static void blk_free(struct virtio_dev *d)
{
	struct blk *b = d->priv;

	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

static const struct virtio_dev_ops blk_ops = { .notify = blk_notify, .free = blk_free };

static int open_image(struct vm *vm, const char *path, bool readonly, int *fd_out,
		      uint64_t *size)
{
	struct stat st;
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	int ret;

	if (fd < 0) {
		ret = -errno;
		vm_log(vm, LOG_ERR, "disk '%s': %s", path, strerror(-ret));
		return ret;
	}
	/* Two writers on one image corrupt it: take an advisory lock. */
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

int virtio_blk_init(struct vm *vm, const char *path, bool readonly)
{
	struct blk *b = calloc(1, sizeof(*b));
	uint64_t size, features = (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_SEG_MAX);
	uint32_t seg_max = VQ_MAX_SEGS - 2;
	int ret;

	if (!b)
		return -ENOMEM;
	b->fd = -1;
	ret = open_image(vm, path, readonly, &b->fd, &size);
	if (ret) {
		free(b);
		return ret;
	}
	b->io = &sync_engine;
	b->readonly = readonly;
	b->sectors = size / SECTOR;
	if (readonly)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	snprintf(b->id, sizeof(b->id), "alcatraz%u", vm->nr_virtio);
	ret = virtio_dev_add(vm, "blk", VIRTIO_ID_BLOCK, features, 1, &blk_ops, b, &b->dev);
	if (ret) {
		close(b->fd);
		free(b);
		return ret;
	}
	memcpy(b->dev->config, &b->sectors, 8);          /* capacity */
	memcpy(b->dev->config + 12, &seg_max, 4);        /* seg_max */
	b->dev->config_len = 16;
	return 0;
}
