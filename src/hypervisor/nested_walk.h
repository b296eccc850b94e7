/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Vendor-neutral pieces of nested paging shared by the AMD-V (NPT) and
 * VT-x (EPT) backends: L1's tables are read through hv_gmem_*, so a table
 * in Hyper-box memory is refused like a leaf that maps it.  The two formats
 * agree on what is used here: permission bits 0-2 (NPT P/W/U, EPT R/W/X),
 * W = bit 1, PS = bit 7, address in bits 51:12.
 */
#ifndef HV_NESTED_WALK_H
#define HV_NESTED_WALK_H

#include "hyperbox.h"

#define HV_NW_W		(1ULL << 1)
#define HV_NW_PS	(1ULL << 7)
#define HV_NW_ADDR	0x000ffffffffff000ULL
#define HV_NW_MAX_TABLES 8192		/* bounds the host's time per validation */

/* -1 if [pa, pa + len) may be given to L2 (writable: also not protected), else the violation. */
int hv_nested_leaf_check(struct hv *hv, u64 pa, u64 len, bool writable);

/*
 * Walk a whole table tree from table_pa (level 4..1): -1 if every leaf
 * passes hv_nested_leaf_check, else the violation and *bad.  An entry is
 * present when it has a bit of present_mask and none of skip_mask (entries
 * with reserved bits fault in the CPU instead of translating).
 */
int hv_nested_validate(struct hv *hv, u64 table_pa, int level, u64 present_mask,
		       u64 skip_mask, unsigned int *tables, u64 *bad);

/*
 * One translation through L1's table, as the CPU walks it: the entries
 * read at each level (ents[0] is the root level), how many, and pointers
 * to them in L1 memory for accessed/dirty updates.
 */
struct hv_nested_walk {
	u64 e[4];
	u64 *p[4];
	int n;			/* entries read */
	int level;		/* level of the last one (1 = 4 KiB) */
};
enum { HV_NW_LEAF, HV_NW_NOT_PRESENT, HV_NW_RSVD, HV_NW_HIDDEN };
/*
 * Stops at a leaf (level 1, or PS at level 2/3), at an entry without a bit
 * of present_mask, or at one with a bit of rsvd_mask or PS at level 4.
 * HV_NW_HIDDEN: a table is not L1's to give.
 */
int hv_nested_walk(struct hv *hv, u64 root_pa, u64 gpa, u64 present_mask, u64 rsvd_mask,
		   struct hv_nested_walk *w);

/* The host-physical address of gpa through the walk's leaf. */
static inline u64 hv_nested_walk_hpa(const struct hv_nested_walk *w, u64 gpa)
{
	u64 size = 1ULL << (12 + 9 * (w->level - 1));

	return ((w->e[w->n - 1] & HV_NW_ADDR & ~(size - 1)) | (gpa & (size - 1))) & HV_NW_ADDR;
}

/*
 * A shadow table (L2 gpa -> host pa, 4 KiB leaves) in arena pages: a root
 * and a pool handed out in order; non-leaf entries get bits 0-2 set, which
 * is "present, writable, user" for NPT and "read, write, execute" for EPT.
 */
struct hv_shadow {
	u64 *root;
	u64 root_pa;
	u64 *pool;
	u64 pool_pa;
	unsigned int pool_pages, pool_used;
};
int hv_shadow_init(struct hv *hv, struct hv_shadow *s, unsigned int pool_pages);
void hv_shadow_reset(struct hv_shadow *s);
/* -ENOMEM when the pool is used up (the caller resets and retries). */
int hv_shadow_map(struct hv_shadow *s, u64 gpa, u64 leaf);

#endif
