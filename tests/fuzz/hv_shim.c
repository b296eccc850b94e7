// SPDX-License-Identifier: GPL-2.0-only
/* The fuzz targets' stand-ins for gmem.c, arena.c and protect.c (hv_shim.h). */
#include <stdlib.h>
#include <string.h>
#include <linux/mm.h>

#include "hv_shim.h"

#define ARENA_BLOCK (PAGE_SIZE << HV_ARENA_ORDER)
/* Arena blocks get physical addresses L1's memory never has. */
#define ARENA_FAKE_PA 0x40000000000ULL

struct hv_fuzz_env hv_fuzz;

bool hv_arena_contains(const struct hv_arena *a, u64 pa)
{
	for (unsigned int i = 0; i < a->nr; i++)
		if (pa >= a->pa[i] && pa - a->pa[i] < ARENA_BLOCK)
			return true;
	return false;
}

void *hv_arena_alloc(struct hv_arena *a, size_t size, u64 *pa)
{
	void *p;

	if (a->nr >= HV_ARENA_MAX || size > ARENA_BLOCK)
		return NULL;
	p = aligned_alloc(PAGE_SIZE, (size + PAGE_SIZE - 1) & PAGE_MASK);
	if (!p)
		return NULL;
	memset(p, 0, size);
	a->va[a->nr] = p;
	a->pa[a->nr] = ARENA_FAKE_PA + (u64)a->nr * ARENA_BLOCK;
	*pa = a->pa[a->nr++];
	return p;
}

void hv_fuzz_arena_free(struct hv_arena *a)
{
	for (unsigned int i = 0; i < a->nr; i++)
		free(a->va[i]);
	a->nr = 0;
}

static const struct hv_range *range_find(const struct hv *hv, u64 pa)
{
	for (unsigned int i = 0; i < hv->nr_ranges; i++)
		if (pa >= hv->ranges[i].start && pa < hv->ranges[i].end)
			return &hv->ranges[i];
	return NULL;
}

/* gmem.c's rules, over hv_fuzz.mem. */
void *hv_gmem_map(struct hv *hv, u64 gpa, size_t len, bool write)
{
	const struct hv_range *r;

	if (!len || len > PAGE_SIZE - (gpa & ~PAGE_MASK) || gpa >= hv->npt_top)
		return NULL;
	if (hv_arena_contains(&hv->arena, gpa))
		return NULL;
	r = range_find(hv, gpa);
	if (r && (r->kind == HV_PROT_HIDDEN || write))
		return NULL;
	return hv_fuzz.mem + gpa;
}

/* Like gmem.c: page by page, so a read that runs into an unmapped page
 * fails after copying what was mapped. */
int hv_gva_read(struct hv *hv, u64 cr3, u64 gva, void *dst, size_t len)
{
	u8 *d = dst;

	(void)hv;
	(void)cr3;
	while (len) {
		size_t n = PAGE_SIZE - (gva & ~PAGE_MASK);
		u64 off = gva - hv_fuzz.code_va;

		if (n > len)
			n = len;
		if (gva < hv_fuzz.code_va || off >= hv_fuzz.code_len || n > hv_fuzz.code_len - off)
			return -EFAULT;
		memcpy(d, hv_fuzz.code + off, n);
		d += n;
		gva += n;
		len -= n;
	}
	return 0;
}
