// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Split virtqueues (virtio 1.2, section 2.7). The rings live in guest RAM and
 * the driver may rewrite them at any moment, so every field is read once
 * into a local copy, checked, and only the copy is used. Indirect
 * descriptors and event indices are not offered, which keeps the walk to
 * one table.
 */
#include <errno.h>
#include <string.h>

#include "virtio.h"

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct vring_desc_copy {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Ring sizes for a queue of num entries (the trailing event fields are
 * included although unused, as the spec sizes the rings with them). */
static uint64_t desc_bytes(uint16_t num) { return 16ULL * num; }
static uint64_t avail_bytes(uint16_t num) { return 6ULL + 2ULL * num; }
static uint64_t used_bytes(uint16_t num) { return 6ULL + 8ULL * num; }

int vq_check_layout(const struct guest_mem *m, const struct virtq *q)
{
	if (q->num == 0 || q->num > VIRTQ_MAX_SIZE || (q->num & (q->num - 1)))
		return -EINVAL;
	if ((q->desc & 15) || (q->avail & 1) || (q->used & 3))
		return -EINVAL;
	if (!gmem_ptr(m, q->desc, desc_bytes(q->num)) ||
	    !gmem_ptr(m, q->avail, avail_bytes(q->num)) ||
	    !gmem_ptr(m, q->used, used_bytes(q->num)))
		return -EINVAL;
	return 0;
}

static int read_avail_idx(const struct guest_mem *m, const struct virtq *q, uint16_t *idx)
{
	uint64_t at;

	if (__builtin_add_overflow(q->avail, 2, &at))
		return -EINVAL;
	if (gmem_read(m, at, idx, sizeof(*idx)))
		return -EINVAL;
	/* The entries the index covers must be read after the index. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return 0;
}

bool vq_has_avail(const struct guest_mem *m, const struct virtq *q)
{
	uint16_t idx;

	if (!q->ready || read_avail_idx(m, q, &idx))
		return false;
	return idx != q->last_avail;
}

static int add_seg(struct iovec *iov, unsigned int *n, uint64_t *total, void *p, uint32_t len)
{
	if (*n >= VQ_MAX_SEGS || __builtin_add_overflow(*total, (uint64_t)len, total) ||
	    *total > UINT32_MAX)
		return -EINVAL;
	iov[*n].iov_base = p;
	iov[*n].iov_len = len;
	(*n)++;
	return 0;
}

int vq_pop(const struct guest_mem *m, struct virtq *q, struct vq_elem *e)
{
	uint16_t avail_idx, head, i;
	uint64_t at;
	unsigned int count = 0;

	if (!q->ready)
		return 0;
	/* Ready implies a checked layout, but the ring arithmetic below must
	 * not trust that: a size of 0 would divide by zero. */
	if (q->num == 0)
		return -EINVAL;
	if (read_avail_idx(m, q, &avail_idx))
		return -EINVAL;
	if (avail_idx == q->last_avail)
		return 0;
	/* The driver cannot have more chains outstanding than ring slots. */
	if ((uint16_t)(avail_idx - q->last_avail) > q->num)
		return -EINVAL;
	at = q->avail + 4 + 2ULL * (q->last_avail % q->num); /* in range: layout checked */
	if (gmem_read(m, at, &head, sizeof(head)) || head >= q->num)
		return -EINVAL;

	e->head = head;
	e->n_out = e->n_in = 0;
	e->out_len = e->in_len = 0;
	i = head;
	for (;;) {
		struct vring_desc_copy d;
		void *p;

		/* A chain longer than the table must revisit an entry: a loop. */
		if (++count > q->num)
			return -EINVAL;
		if (gmem_read(m, q->desc + 16ULL * i, &d, sizeof(d)))
			return -EINVAL;
		if (d.flags & VRING_DESC_F_INDIRECT)
			return -EINVAL; /* not negotiated */
		if (d.len) {
			p = gmem_ptr(m, d.addr, d.len);
			if (!p)
				return -EINVAL;
			if (d.flags & VRING_DESC_F_WRITE) {
				if (add_seg(e->in, &e->n_in, &e->in_len, p, d.len))
					return -EINVAL;
			} else {
				/* Readable segments must all precede writable ones. */
				if (e->n_in || add_seg(e->out, &e->n_out, &e->out_len, p, d.len))
					return -EINVAL;
			}
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= q->num)
			return -EINVAL;
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

void vq_unpop(struct virtq *q)
{
	q->last_avail--;
}

int vq_push_many(struct guest_mem *m, struct virtq *q, const uint16_t *heads,
		 const uint32_t *lens, unsigned int n)
{
	uint16_t idx = q->used_idx;

	if (q->num == 0 || n > q->num)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++, idx++) {
		uint32_t elem[2] = { heads[i], lens[i] };
		if (gmem_write(m, q->used + 4 + 8ULL * (idx % q->num), elem, sizeof(elem)))
			return -EFAULT;
	}
	/* The elements must be visible before the index that publishes them. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (gmem_write(m, q->used + 2, &idx, sizeof(idx)))
		return -EFAULT;
	q->used_idx = idx;
	return 0;
}
int vq_push(struct guest_mem *m, struct virtq *q, uint16_t head, uint32_t len)
{
	return vq_push_many(m, q, &head, &len, 1);
}

bool vq_wants_interrupt(const struct guest_mem *m, const struct virtq *q)
{
	uint16_t flags = 0;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (gmem_read(m, q->avail, &flags, sizeof(flags)))
		return true;
	return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
}

/*
 * One walk for both directions, so the offset arithmetic that skips `off`
 * bytes of a guest-supplied chain exists once.
 */
static size_t iov_copy(const struct iovec *iov, unsigned int n, size_t off, uint8_t *buf,
		       size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t chunk = iov[i].iov_len - off;
		if (chunk > len - done)
			chunk = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, buf + done, chunk);
		else
			memcpy(buf + done, (uint8_t *)iov[i].iov_base + off, chunk);
		done += chunk;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t off, void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, false);
}

size_t buf_to_iov(const struct iovec *iov, unsigned int n, size_t off, const void *buf,
		  size_t len)
{
	/* iov_copy only reads buf in this direction. */
	return iov_copy(iov, n, off, (uint8_t *)buf, len, true);
}

unsigned int iov_slice(const struct iovec *src, unsigned int n, size_t off, size_t len,
		       struct iovec *dst, unsigned int max)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n && len && k < max; i++) {
		if (off >= src[i].iov_len) {
			off -= src[i].iov_len;
			continue;
		}
		size_t chunk = src[i].iov_len - off;
		if (chunk > len)
			chunk = len;
		dst[k].iov_base = (uint8_t *)src[i].iov_base + off;
		dst[k].iov_len = chunk;
		k++;
		len -= chunk;
		off = 0;
	}
	return k;
}
