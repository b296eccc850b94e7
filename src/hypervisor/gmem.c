// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest memory as the host sees it.  Every host access to memory L1 (or an
 * L2) named goes through here: (address, length) is split at page
 * boundaries and every page is checked, so a guest-chosen address can never
 * reach the arena or, for writes, a protected page.
 */
#include <linux/mm.h>
#include <linux/string.h>
#include "hyperbox.h"

#define PTE_P	(1ULL << 0)
#define PTE_W	(1ULL << 1)
#define PTE_PS	(1ULL << 7)
#define PTE_ADDR 0x000ffffffffff000ULL

/* One page at most; NULL if any byte is not the guest's to touch. */
void *__hv_host hv_gmem_map(struct hv *hv, u64 gpa, size_t len, bool write)
{
	const struct hv_range *r;

	if (!len || len > PAGE_SIZE - (gpa & ~PAGE_MASK) || gpa >= hv->npt_top)
		return NULL;
	if (hv_arena_contains(&hv->arena, gpa))
		return NULL;
	r = hv_range_find(hv, gpa);
	if (r && (r->kind == HV_PROT_HIDDEN || write))
		return NULL;
	return __va(gpa);
}

int __hv_host hv_gmem_read(struct hv *hv, u64 gpa, void *dst, size_t len)
{
	size_t n;
	void *p;

	while (len) {
		n = min_t(size_t, len, PAGE_SIZE - (gpa & ~PAGE_MASK));
		p = hv_gmem_map(hv, gpa, n, false);
		if (!p)
			return -EFAULT;
		memcpy(dst, p, n);
		dst += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

int __hv_host hv_gmem_write(struct hv *hv, u64 gpa, const void *src, size_t len)
{
	size_t n;
	void *p;

	while (len) {
		n = min_t(size_t, len, PAGE_SIZE - (gpa & ~PAGE_MASK));
		p = hv_gmem_map(hv, gpa, n, true);
		if (!p)
			return -EFAULT;
		memcpy(p, src, n);
		src += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

/* Walk L1's 4-level page table (L1 runs with 4-level paging; see hostpt.c). */
int __hv_host hv_gva_to_gpa(struct hv *hv, u64 cr3, u64 gva, u64 *gpa, bool *writable)
{
	u64 table = cr3 & PTE_ADDR, e = 0;
	bool w = true;
	int level, shift;

	for (level = 4; level >= 1; level--) {
		shift = 12 + 9 * (level - 1);
		if (hv_gmem_read(hv, table + ((gva >> shift) & 511) * 8, &e, 8))
			return -EFAULT;
		if (!(e & PTE_P))
			return -EFAULT;
		w &= !!(e & PTE_W);
		if ((level == 3 || level == 2) && (e & PTE_PS)) {
			*gpa = (e & PTE_ADDR & ~((1ULL << shift) - 1)) | (gva & ((1ULL << shift) - 1));
			goto out;
		}
		table = e & PTE_ADDR;
	}
	*gpa = table | (gva & ~PAGE_MASK);
out:
	if (writable)
		*writable = w;
	return 0;
}

int __hv_host hv_gva_read(struct hv *hv, u64 cr3, u64 gva, void *dst, size_t len)
{
	u64 gpa;
	size_t n;

	while (len) {
		n = min_t(size_t, len, PAGE_SIZE - (gva & ~PAGE_MASK));
		if (hv_gva_to_gpa(hv, cr3, gva, &gpa, NULL) || hv_gmem_read(hv, gpa, dst, n))
			return -EFAULT;
		dst += n;
		gva += n;
		len -= n;
	}
	return 0;
}
