// SPDX-License-Identifier: GPL-2.0-only
/*
 * L1's nested page table: an identity map of physical memory, 2 MiB pages,
 * split to 4 KiB only where a protected range needs it.  The format (x86-64
 * long-mode tables, U=1 on every entry because nested walks are user
 * accesses) is shared by AMD NPT; Intel EPT would supply its own bits.
 */
#include <linux/mm.h>
#include <linux/string.h>
#include "hyperbox.h"

#define NPT_P	(1ULL << 0)
#define NPT_W	(1ULL << 1)
#define NPT_U	(1ULL << 2)
#define NPT_PS	(1ULL << 7)
#define NPT_ADDR 0x000ffffffffff000ULL
#define NPT_TABLE (NPT_P | NPT_W | NPT_U)

static u64 *npt_table(struct hv *hv, u64 *pa)
{
	return hv_arena_alloc(&hv->arena, PAGE_SIZE, pa);
}

/* The arena block holding a table: tables are only ever in the arena. */
static u64 *__hv_host npt_va(struct hv *hv, u64 pa)
{
	return (u64 *)__va(pa & NPT_ADDR);
}

int hv_npt_build(struct hv *hv, u64 top)
{
	u64 pa, pdpt_pa, pd_pa, *pdpt = NULL, *pd;
	unsigned int i;

	top = ALIGN(top, 1ULL << 30);
	if (top > (512ULL << 30))
		return -E2BIG;		/* one PDPT is enough for the lab and most hosts */
	hv->npt_root = npt_table(hv, &hv->npt_root_pa);
	pdpt = npt_table(hv, &pdpt_pa);
	if (!hv->npt_root || !pdpt)
		return -ENOMEM;
	hv->npt_root[0] = pdpt_pa | NPT_TABLE;
	for (i = 0; i < top >> 30; i++) {
		pd = npt_table(hv, &pd_pa);
		if (!pd)
			return -ENOMEM;
		pdpt[i] = pd_pa | NPT_TABLE;
		for (pa = 0; pa < (1ULL << 30); pa += 1ULL << 21)
			pd[pa >> 21] = (((u64)i << 30) + pa) | NPT_TABLE | NPT_PS | hv->ops->npt_leaf_bits;
	}
	hv->npt_top = top;
	return 0;
}

/* The PD entry (2 MiB) or PT entry (4 KiB) translating pa; NULL if beyond. */
u64 *__hv_host hv_npt_pte(struct hv *hv, u64 pa, bool *large)
{
	u64 *pdpt, *pd, *pt;

	if (pa >= hv->npt_top)
		return NULL;
	pdpt = npt_va(hv, hv->npt_root[0]);
	pd = npt_va(hv, pdpt[pa >> 30]);
	if (pd[(pa >> 21) & 511] & NPT_PS || !(pd[(pa >> 21) & 511] & NPT_P)) {
		*large = true;
		return &pd[(pa >> 21) & 511];
	}
	pt = npt_va(hv, pd[(pa >> 21) & 511]);
	*large = false;
	return &pt[(pa >> 12) & 511];
}

static int npt_split(struct hv *hv, u64 *pde)
{
	u64 base = *pde & NPT_ADDR & ~((1ULL << 21) - 1);
	u64 flags = (*pde & (NPT_P | NPT_W | NPT_U)) | hv->ops->npt_leaf_bits;
	u64 pt_pa, *pt;
	unsigned int i;

	pt = npt_table(hv, &pt_pa);
	if (!pt)
		return -ENOMEM;
	for (i = 0; i < 512; i++)
		pt[i] = (base + ((u64)i << 12)) | flags;
	WRITE_ONCE(*pde, pt_pa | NPT_TABLE);
	return 0;
}

/*
 * Before launch only (allocates).  A whole, aligned 2 MiB range is changed in
 * its large entry; anything smaller splits it.
 */
int hv_npt_protect(struct hv *hv, u64 pa, u64 len, int perm)
{
	u64 end = pa + len, *e, bits = (perm & 1 ? NPT_P | NPT_U | hv->ops->npt_leaf_bits : 0) |
					(perm & 2 ? NPT_W : 0);
	bool large;
	int ret;

	pa &= PAGE_MASK;
	while (pa < end) {
		e = hv_npt_pte(hv, pa, &large);
		if (!e)
			return -ERANGE;
		if (large && !(pa & ((1ULL << 21) - 1)) && end - pa >= (1ULL << 21)) {
			*e = (pa & NPT_ADDR) | NPT_PS | bits;
			pa += 1ULL << 21;
			continue;
		}
		if (large) {
			if (!(*e & NPT_P))
				return -EINVAL;	/* never split a hidden block */
			ret = npt_split(hv, e);
			if (ret)
				return ret;
			continue;
		}
		*e = (pa & NPT_ADDR) | bits;
		pa += PAGE_SIZE;
	}
	return 0;
}
