// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A virtio-mmio device's state to and from its snapshot section (the layout
 * is in snapshot_virtio.h). Only the transport is here; what a device keeps
 * beyond its registers and queues is its own save/restore
 * (virtio_dev_ops), which gets the bytes after the queues.
 */
#include <errno.h>
#include <string.h>

#include "snapshot_virtio.h"

/* The device status bits (virtio 1.2, 2.1) a driver may set, and the
 * device's own NEEDS_RESET. */
#define ST_DRIVER_OK 4u
#define ST_FEATURES_OK 8u
#define ST_NEEDS_RESET 0x40u
#define ST_ALL (1u | 2u | ST_DRIVER_OK | ST_FEATURES_OK | ST_NEEDS_RESET | 0x80u)
#define ISR_ALL 3u

static void put32(uint8_t **p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		*(*p)++ = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t **p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p, (uint32_t)(v >> 32));
}

static void put16(uint8_t **p, uint16_t v)
{
	*(*p)++ = (uint8_t)v;
	*(*p)++ = (uint8_t)(v >> 8);
}

static uint32_t get32(const uint8_t **p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)(*p)[i] << (8 * i);
	*p += 4;
	return v;
}

static uint64_t get64(const uint8_t **p)
{
	uint64_t lo = get32(p);

	return lo | (uint64_t)get32(p) << 32;
}

static uint16_t get16(const uint8_t **p)
{
	uint16_t v = (uint16_t)((*p)[0] | (*p)[1] << 8);

	*p += 2;
	return v;
}

int snap_virtio_save(struct virtio_dev *d, uint8_t *buf, const char **why)
{
	uint8_t *p = buf, *own_len;
	int own = 0;

	if (!d->ops->snapshot) {
		*why = "a device snapshots cannot hold yet";
		return -ENOTSUP;
	}
	if (d->nr_queues > VIRTIO_MAX_QUEUES) {
		*why = "too many queues";
		return -EINVAL;
	}
	put32(&p, SNAP_VIRTIO_VERSION);
	put32(&p, d->device_id);
	put32(&p, d->nr_queues);
	put32(&p, d->status);
	put64(&p, d->features);
	put64(&p, d->driver_features);
	put32(&p, d->isr);
	put32(&p, d->config_gen);
	put32(&p, d->queue_sel);
	put32(&p, d->dev_feat_sel);
	put32(&p, d->drv_feat_sel);
	own_len = p;
	put32(&p, 0);
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		const struct virtq *q = &d->vqs[i];

		put64(&p, q->desc);
		put64(&p, q->avail);
		put64(&p, q->used);
		put16(&p, q->num);
		put16(&p, q->last_avail);
		put16(&p, q->used_idx);
		*p++ = q->ready;
		*p++ = 0;
	}
	if (d->ops->save) {
		own = d->ops->save(d, p, SNAP_VIRTIO_MAX_OWN, why);
		if (own < 0)
			return own;
		if (own > (int)SNAP_VIRTIO_MAX_OWN) {
			*why = "device state too large";
			return -EINVAL;
		}
	}
	put32(&own_len, (uint32_t)own);
	return (int)(p - buf) + own;
}

static bool pow2_or_zero(uint16_t n)
{
	return (n & (n - 1)) == 0;
}

static int parse_queue(const uint8_t **p, struct snap_virtq *q, const char **why)
{
	uint8_t ready, pad;

	q->desc = get64(p);
	q->avail = get64(p);
	q->used = get64(p);
	q->num = get16(p);
	q->last_avail = get16(p);
	q->used_idx = get16(p);
	ready = *(*p)++;
	pad = *(*p)++;
	if (ready > 1 || pad) {
		*why = "bad queue flags";
		return -EINVAL;
	}
	q->ready = ready;
	if (q->num > VIRTQ_MAX_SIZE || !pow2_or_zero(q->num) || (q->ready && !q->num)) {
		*why = "bad queue size";
		return -EINVAL;
	}
	return 0;
}

static int parse_fields(const struct snap_virtio *s, const char **why)
{
	if (s->nr_queues == 0 || s->nr_queues > VIRTIO_MAX_QUEUES)
		*why = "bad queue count";
	else if (s->status & ~ST_ALL)
		*why = "bad device status";
	else if ((s->status & ST_DRIVER_OK) && !(s->status & (ST_FEATURES_OK | ST_NEEDS_RESET)))
		*why = "device status DRIVER_OK without FEATURES_OK";
	else if (s->isr & ~ISR_ALL)
		*why = "bad interrupt status";
	else if (s->driver_features & ~s->features)
		*why = "driver features that were not offered";
	else if (s->own_len > SNAP_VIRTIO_MAX_OWN)
		*why = "device state too large";
	else
		return 0;
	return -EINVAL;
}

int snap_virtio_parse(const uint8_t *buf, size_t len, struct snap_virtio *s, const char **why)
{
	const uint8_t *p = buf;
	size_t want;
	int ret;

	memset(s, 0, sizeof(*s));
	if (len < SNAP_VIRTIO_HDR) {
		*why = "virtio device state truncated";
		return -EINVAL;
	}
	if (get32(&p) != SNAP_VIRTIO_VERSION) {
		*why = "virtio device state of another version";
		return -EPROTONOSUPPORT;
	}
	s->device_id = get32(&p);
	s->nr_queues = get32(&p);
	s->status = get32(&p);
	s->features = get64(&p);
	s->driver_features = get64(&p);
	s->isr = get32(&p);
	s->config_gen = get32(&p);
	s->queue_sel = get32(&p);
	s->dev_feat_sel = get32(&p);
	s->drv_feat_sel = get32(&p);
	s->own_len = get32(&p);
	ret = parse_fields(s, why);
	if (ret)
		return ret;
	/* Both bounded above: no overflow. */
	want = SNAP_VIRTIO_HDR + (size_t)s->nr_queues * SNAP_VIRTIO_QUEUE + s->own_len;
	if (len != want) {
		*why = "virtio device state of the wrong length";
		return -EINVAL;
	}
	for (uint32_t i = 0; i < s->nr_queues; i++) {
		ret = parse_queue(&p, &s->q[i], why);
		if (ret)
			return ret;
	}
	s->own = p;
	return 0;
}

uint32_t snap_virtio_device_id(const uint8_t *buf, size_t len)
{
	const uint8_t *p = buf + 4; /* after the version */

	return len < 8 ? 0 : get32(&p);
}

int snap_virtio_apply(struct virtio_dev *d, const struct snap_virtio *s, const char **why)
{
	int ret;

	if (s->device_id != d->device_id || s->nr_queues != d->nr_queues ||
	    s->features != d->features) {
		*why = "virtio device of another kind or configuration";
		return -EINVAL;
	}
	for (uint32_t i = 0; i < s->nr_queues; i++) {
		struct virtq q = { .num = s->q[i].num, .desc = s->q[i].desc,
				   .avail = s->q[i].avail, .used = s->q[i].used };

		if (s->q[i].ready && vq_check_layout(&d->vm->mem, &q)) {
			*why = "queue rings outside RAM or misaligned";
			return -EINVAL;
		}
	}
	if (!d->ops->restore && s->own_len) {
		*why = "state for a device that keeps none";
		return -EINVAL;
	}
	/* The device's own part first: it may still refuse. */
	if (d->ops->restore) {
		ret = d->ops->restore(d, s->own, s->own_len, why);
		if (ret)
			return ret;
	}
	d->status = s->status;
	d->driver_features = s->driver_features;
	d->isr = s->isr;
	d->config_gen = s->config_gen;
	d->queue_sel = s->queue_sel;
	d->dev_feat_sel = s->dev_feat_sel;
	d->drv_feat_sel = s->drv_feat_sel;
	for (uint32_t i = 0; i < s->nr_queues; i++) {
		struct virtq *q = &d->vqs[i];

		q->num = s->q[i].num;
		q->ready = s->q[i].ready;
		q->desc = s->q[i].desc;
		q->avail = s->q[i].avail;
		q->used = s->q[i].used;
		q->last_avail = s->q[i].last_avail;
		q->used_idx = s->q[i].used_idx;
	}
	/* Chains the driver made available before the snapshot may not have
	 * been seen yet: the device looks at every ready queue once. */
	for (uint32_t i = 0; i < s->nr_queues && virtio_dev_live(d); i++)
		if (d->vqs[i].ready)
			virtio_notify_again(d, i);
	return 0;
}
