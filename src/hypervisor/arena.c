// SPDX-License-Identifier: GPL-2.0-only
/*
 * The arena: every byte the host uses at Ring -1 comes from here.  Blocks are
 * 2 MiB, naturally aligned, so hiding one costs a single large NPT entry and
 * never splits a page of the kernel's.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/io.h>
#include <linux/string.h>
#include "hyperbox.h"

#define HV_ARENA_BYTES (PAGE_SIZE << HV_ARENA_ORDER)

void *hv_arena_alloc(struct hv_arena *a, size_t size, u64 *pa)
{
	struct page *pg;
	void *p;

	size = ALIGN(size, PAGE_SIZE);
	if (size > HV_ARENA_BYTES)
		return NULL;
	if (!a->nr || a->used + size > HV_ARENA_BYTES) {
		if (a->nr == HV_ARENA_MAX)
			return NULL;
		pg = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, HV_ARENA_ORDER);
		if (!pg)
			return NULL;
		a->va[a->nr] = page_address(pg);
		a->pa[a->nr] = page_to_phys(pg);
		a->nr++;
		a->used = 0;
	}
	p = a->va[a->nr - 1] + a->used;
	if (pa)
		*pa = a->pa[a->nr - 1] + a->used;
	a->used += size;
	return p;
}

void hv_arena_free_all(struct hv_arena *a)
{
	while (a->nr) {
		a->nr--;
		free_pages((unsigned long)a->va[a->nr], HV_ARENA_ORDER);
	}
}

bool __hv_host hv_arena_contains(const struct hv_arena *a, u64 pa)
{
	unsigned int i;

	for (i = 0; i < a->nr; i++)
		if (pa - a->pa[i] < HV_ARENA_BYTES)
			return true;
	return false;
}
