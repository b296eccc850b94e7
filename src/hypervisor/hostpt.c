// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host's own page table.  After launch L1 can rewrite every kernel page
 * table, so the host cannot keep using them: it would follow whatever L1
 * wrote.  This table lives in the arena and maps only what Ring -1 needs:
 * the direct map of physical memory (arena and guest memory), the kernel
 * image (memcpy, return thunks) and this module.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/vmalloc.h>
#include <asm/pgtable.h>
#include "hyperbox.h"

#define PTE_P	(1ULL << 0)
#define PTE_W	(1ULL << 1)
#define PTE_PS	(1ULL << 7)
#define PTE_ADDR 0x000ffffffffff000ULL

static u64 *hostpt_next(struct hv *hv, u64 *e)
{
	u64 pa, *t;

	if (*e & PTE_P)
		return __va(*e & PTE_ADDR);
	t = hv_arena_alloc(&hv->arena, PAGE_SIZE, &pa);
	if (!t)
		return NULL;
	*e = pa | PTE_P | PTE_W;
	return t;
}

/* Map one 4 KiB or 2 MiB page. */
static int hostpt_map(struct hv *hv, u64 *pml4, u64 va, u64 pa, bool large)
{
	u64 *pdpt, *pd, *pt;

	pdpt = hostpt_next(hv, &pml4[(va >> 39) & 511]);
	if (!pdpt)
		return -ENOMEM;
	pd = hostpt_next(hv, &pdpt[(va >> 30) & 511]);
	if (!pd)
		return -ENOMEM;
	if (large) {
		pd[(va >> 21) & 511] = pa | PTE_P | PTE_W | PTE_PS;
		return 0;
	}
	if (pd[(va >> 21) & 511] & PTE_PS)
		return 0;	/* already covered */
	pt = hostpt_next(hv, &pd[(va >> 21) & 511]);
	if (!pt)
		return -ENOMEM;
	pt[(va >> 12) & 511] = pa | PTE_P | PTE_W;
	return 0;
}

int hv_hostpt_build(struct hv *hv)
{
	unsigned long base = (unsigned long)THIS_MODULE->core_layout.base;
	unsigned long size = THIS_MODULE->core_layout.size, off;
	u64 pa, *pml4, va, kstart, kend;
	int ret;

	if (native_read_cr4() & X86_CR4_LA57) {
		pr_err(HV_NAME ": refusing to load: 5-level paging is not supported yet\n");
		return -EOPNOTSUPP;
	}
	pml4 = hv_arena_alloc(&hv->arena, PAGE_SIZE, &hv->host_cr3);
	if (!pml4)
		return -ENOMEM;
	for (pa = 0; pa < hv->npt_top; pa += 1ULL << 21) {
		ret = hostpt_map(hv, pml4, (u64)__va(pa), pa, true);
		if (ret)
			return ret;
	}
	kstart = hv_sym("_text");
	kend = hv_sym("_end");
	if (!kstart || !kend)
		return -ENOENT;
	kstart &= ~((1UL << 21) - 1);
	kend = ALIGN(kend, 1UL << 21);
	for (va = kstart; va < kend; va += 1ULL << 21) {
		ret = hostpt_map(hv, pml4, va, va - __START_KERNEL_map + phys_base, true);
		if (ret)
			return ret;
	}
	for (off = 0; off < size; off += PAGE_SIZE) {
		ret = hostpt_map(hv, pml4, base + off,
				 (u64)vmalloc_to_pfn((void *)(base + off)) << PAGE_SHIFT, false);
		if (ret)
			return ret;
	}
	return 0;
}
