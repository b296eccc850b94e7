// SPDX-License-Identifier: LGPL-2.1-or-later
/* virtio-rng (virtio 1.2, section 5.4): the host's getrandom() for the guest. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "virtio.h"

#define VIRTIO_ID_RNG 4
/* Per request: a guest asking for a huge buffer gets part of it. */
#define RNG_MAX_CHUNK 4096

struct rng {
	struct virtio_dev *dev;
	struct vq_elem elem;
};

static void rng_notify(struct virtio_dev *d, unsigned int q)
{
	struct rng *r = d->priv;
	struct vq_elem *e = &r->elem;
	uint8_t buf[RNG_MAX_CHUNK];
	unsigned int done_chains = 0;

	while (done_chains < VQ_NOTIFY_BUDGET && virtio_pop(d, 0, e) > 0) {
		size_t want = e->in_len < sizeof(buf) ? e->in_len : sizeof(buf);
		ssize_t n = want ? getrandom(buf, want, 0) : 0;
		if (n < 0)
			n = 0;
		size_t done = buf_to_iov(e->in, e->n_in, 0, buf, (size_t)n);
		(void)vq_push(&d->vm->mem, &d->vqs[0], e->head, (uint32_t)done);
		done_chains++;
	}
	if (done_chains)
		virtio_signal_used(d, 0);
	if (done_chains == VQ_NOTIFY_BUDGET)
		virtio_notify_again(d, 0);
}

static void rng_free(struct virtio_dev *d)
{
	free(d->priv);
}

/* Nothing of its own: every request is answered when it arrives. */
static const struct virtio_dev_ops rng_ops = { .notify = rng_notify, .free = rng_free,
					       .snapshot = true };

int virtio_rng_init(struct vm *vm)
{
	struct rng *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	ret = virtio_dev_add(vm, "rng", VIRTIO_ID_RNG, 0, 1, &rng_ops, r, &r->dev);
	if (ret)
		free(r);
	return ret;
}
