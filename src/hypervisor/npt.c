// SPDX-License-Identifier: GPL-2.0-only
/*
 * L1's nested page table: an identity map of physical memory, 2 MiB pages,
 * split to 4 KiB only where a protected range needs it.  The format (x86-64
 * long-mode tables, U=1 on every entry because nested walks are user
 * accesses) is shared by AMD NPT; Intel EPT would supply its own bits.
 */
#include <linux/mm.h>
#include <linux/ioport.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include "hyperbox.h"

#define NPT_P	(1ULL << 0)
#define NPT_W	(1ULL << 1)
#define NPT_U	(1ULL << 2)
#define NPT_PS	(1ULL << 7)
#define NPT_ADDR 0x000ffffffffff000ULL
#define NPT_TABLE (NPT_P | NPT_W | NPT_U)
#define NPT_GIB	(1ULL << 30)
#define NPT_PHYS_MAX (1ULL << 48)	/* what 4-level nested tables translate */

static u64 *npt_table(struct hv *hv, u64 *pa)
{
	return hv_arena_alloc(&hv->arena, PAGE_SIZE, pa);
}

/* The arena block holding a table: tables are only ever in the arena. */
static u64 *__hv_host npt_va(struct hv *hv, u64 pa)
{
	return (u64 *)__va(pa & NPT_ADDR);
}

/* The PDPT covering pa (a 512 GiB slot of the root), allocated on first use. */
static u64 *npt_pdpt(struct hv *hv, u64 pa)
{
	u64 *e = &hv->npt_root[(pa >> 39) & 511], pdpt_pa, *pdpt;

	if (*e & NPT_P)
		return npt_va(hv, *e);
	pdpt = npt_table(hv, &pdpt_pa);
	if (pdpt)
		*e = pdpt_pa | NPT_TABLE;
	return pdpt;
}

/* One GiB at base as 2 MiB leaves with these memory-type bits. */
static int npt_map_gib_2m(struct hv *hv, u64 *pdpte, u64 base, u64 leaf_bits)
{
	u64 pd_pa, *pd, off;

	pd = npt_table(hv, &pd_pa);
	if (!pd)
		return -ENOMEM;
	for (off = 0; off < NPT_GIB; off += 1ULL << 21)
		pd[off >> 21] = (base + off) | NPT_TABLE | NPT_PS | leaf_bits;
	*pdpte = pd_pa | NPT_TABLE;
	return 0;
}

/*
 * The identity map: [0, top) (all RAM and everything below 4 GiB) in 2 MiB
 * leaves that hv_npt_protect() can split, with the vendor's memory type.
 * [top, phys_top) holds only device memory (64-bit PCI BARs and windows): it
 * is mapped too, with the vendor's MMIO memory type, in 1 GiB leaves where
 * the nested table has them; without, in 2 MiB leaves for each GiB that an
 * iomem resource (a PCI host bridge window covers every BAR it may hold)
 * reaches, so that the table stays small.
 */
int hv_npt_build(struct hv *hv, u64 top, u64 phys_top)
{
	/* Without the vendor's say, the host's format (AMD NPT): CPUID Page1GB. */
	bool gib = hv->ops->npt_1g ? hv->ops->npt_1g() : boot_cpu_has(X86_FEATURE_GBPAGES);
	u64 pa, *pdpt;
	int ret;

	top = ALIGN(top, NPT_GIB);
	if (top > (512ULL << 30))
		return -E2BIG;		/* the host page table maps RAM through one PDPT */
	phys_top = max(ALIGN_DOWN(min(phys_top, NPT_PHYS_MAX), NPT_GIB), top);
	hv->npt_root = npt_table(hv, &hv->npt_root_pa);
	if (!hv->npt_root)
		return -ENOMEM;
	for (pa = 0; pa < phys_top; pa += NPT_GIB) {
		if (pa >= top && !gib &&
		    region_intersects(pa, NPT_GIB, IORESOURCE_MEM, IORES_DESC_NONE) == REGION_DISJOINT)
			continue;
		pdpt = npt_pdpt(hv, pa);
		if (!pdpt)
			return -ENOMEM;
		if (pa >= top && gib) {
			pdpt[(pa >> 30) & 511] = pa | NPT_TABLE | NPT_PS | hv->ops->npt_mmio_bits;
			continue;
		}
		ret = npt_map_gib_2m(hv, &pdpt[(pa >> 30) & 511], pa,
				     pa < top ? hv->ops->npt_leaf_bits : hv->ops->npt_mmio_bits);
		if (ret)
			return ret;
	}
	hv->npt_top = top;
	return 0;
}

/* The PD entry (2 MiB) or PT entry (4 KiB) translating pa; NULL if beyond the RAM part. */
u64 *__hv_host hv_npt_pte(struct hv *hv, u64 pa, bool *large)
{
	u64 *pdpt, *pd, *pt;

	if (pa >= hv->npt_top)
		return NULL;
	pdpt = npt_va(hv, hv->npt_root[(pa >> 39) & 511]);
	pd = npt_va(hv, pdpt[(pa >> 30) & 511]);
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
