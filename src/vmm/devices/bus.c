// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Port-I/O and MMIO dispatch. Regions never overlap; a lookup is a linear scan
 * because a microVM has a handful of devices and the scan is cheaper than
 * anything cleverer at that size.
 */
#include <errno.h>
#include <string.h>

#include "vmm.h"

int bus_init(struct bus *b)
{
	memset(b, 0, sizeof(*b));
	return -pthread_mutex_init(&b->lock, NULL);
}

void bus_fini(struct bus *b)
{
	pthread_mutex_destroy(&b->lock);
}

static bool overlaps(const struct bus_region *r, uint64_t base, uint64_t end)
{
	return base < r->base + r->len && r->base < end;
}

int bus_register(struct bus *b, const char *name, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque)
{
	uint64_t end;

	if (!len || !ops || __builtin_add_overflow(base, len, &end))
		return -EINVAL;
	if (b->count >= ARRAY_SIZE(b->regions))
		return -ENOSPC;
	for (unsigned int i = 0; i < b->count; i++)
		if (overlaps(&b->regions[i], base, end))
			return -EBUSY;
	b->regions[b->count++] = (struct bus_region){
		.name = name, .base = base, .len = len, .ops = ops, .opaque = opaque,
	};
	return 0;
}

static const struct bus_region *bus_find(const struct bus *b, uint64_t addr, uint32_t size)
{
	uint64_t end;

	if (__builtin_add_overflow(addr, (uint64_t)size, &end))
		return NULL;
	for (unsigned int i = 0; i < b->count; i++) {
		const struct bus_region *r = &b->regions[i];
		/* The whole access must fall inside the region. */
		if (addr >= r->base && end <= r->base + r->len)
			return r;
	}
	return NULL;
}

bool bus_access(struct bus *b, uint64_t addr, void *data, uint32_t size, bool is_write)
{
	const struct bus_region *r;
	bool owned = false;

	if (size == 0 || size > 8)
		return false;
	pthread_mutex_lock(&b->lock);
	r = bus_find(b, addr, size);
	if (r) {
		owned = true;
		if (is_write) {
			if (r->ops->write)
				r->ops->write(r->opaque, addr - r->base, data, size);
		} else if (r->ops->read) {
			r->ops->read(r->opaque, addr - r->base, data, size);
		} else {
			memset(data, 0xff, size);
		}
	} else {
		b->unclaimed++;
		if (!is_write)
			memset(data, 0xff, size);
	}
	pthread_mutex_unlock(&b->lock);
	return owned;
}
