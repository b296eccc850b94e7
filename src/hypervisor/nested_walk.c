// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested paging helpers shared by svm_nested.c and vmx_shadow_ept.c (see
 * nested_walk.h).  Host code: every address in L1's tables is guest-chosen,
 * so each table is reached through hv_gmem_map and each leaf is checked
 * against the arena and the protected ranges before anything maps it.
 */
#include <linux/mm.h>
#include <linux/string.h>
#include "nested_walk.h"

int __hv_host hv_nested_leaf_check(struct hv *hv, u64 pa, u64 len, bool writable)
{
	unsigned int i;

	for (i = 0; i < hv->arena.nr; i++)
		if (pa < hv->arena.pa[i] + (PAGE_SIZE << HV_ARENA_ORDER) && hv->arena.pa[i] < pa + len)
			return HV_V_NESTED_HIDDEN;
	for (i = 0; i < hv->nr_ranges; i++) {
		const struct hv_range *r = &hv->ranges[i];

		if (pa < r->end && r->start < pa + len && (r->kind == HV_PROT_HIDDEN || writable))
			return r->kind == HV_PROT_HIDDEN ? HV_V_NESTED_HIDDEN : HV_V_NESTED_PROTECTED;
	}
	return -1;
}

static bool __hv_host is_leaf(u64 e, int level)
{
	return level == 1 || ((level == 2 || level == 3) && (e & HV_NW_PS));
}

int __hv_host hv_nested_validate(struct hv *hv, u64 table_pa, int level, u64 present_mask,
				 u64 skip_mask, unsigned int *tables, u64 *bad)
{
	const u64 *t;
	int i, v;

	if (++*tables > HV_NW_MAX_TABLES) {
		*bad = table_pa;
		return HV_V_NESTED_VMCB;
	}
	t = hv_gmem_map(hv, table_pa, PAGE_SIZE, false);
	if (!t) {
		*bad = table_pa;
		return HV_V_NESTED_HIDDEN;
	}
	for (i = 0; i < 512; i++) {
		u64 e = READ_ONCE(t[i]), pa = e & HV_NW_ADDR;

		if (!(e & present_mask) || (e & skip_mask))
			continue;
		if (is_leaf(e, level)) {
			u64 size = 1ULL << (12 + 9 * (level - 1));

			pa &= ~(size - 1);
			v = hv_nested_leaf_check(hv, pa, size, e & HV_NW_W);
			if (v >= 0) {
				*bad = pa;
				return v;
			}
			continue;
		}
		v = hv_nested_validate(hv, pa, level - 1, present_mask, skip_mask, tables, bad);
		if (v >= 0)
			return v;
	}
	return -1;
}

int __hv_host hv_nested_walk(struct hv *hv, u64 root_pa, u64 gpa, u64 present_mask, u64 rsvd_mask,
			     struct hv_nested_walk *w)
{
	u64 table = root_pa & HV_NW_ADDR, e;
	int level;

	w->n = 0;
	for (level = 4; level >= 1; level--) {
		u64 *p = hv_gmem_map(hv, table + ((gpa >> (12 + 9 * (level - 1))) & 511) * 8, 8, true);

		if (!p)
			return HV_NW_HIDDEN;
		e = READ_ONCE(*p);
		w->e[w->n] = e;
		w->p[w->n] = p;
		w->n++;
		w->level = level;
		if (!(e & present_mask))
			return HV_NW_NOT_PRESENT;
		if ((e & rsvd_mask) || (level == 4 && (e & HV_NW_PS)))
			return HV_NW_RSVD;
		if (is_leaf(e, level))
			return HV_NW_LEAF;
		table = e & HV_NW_ADDR;
	}
	return HV_NW_RSVD;	/* not reached: level 1 is always a leaf */
}

int hv_shadow_init(struct hv *hv, struct hv_shadow *s, unsigned int pool_pages)
{
	s->root = hv_arena_alloc(&hv->arena, PAGE_SIZE, &s->root_pa);
	s->pool = hv_arena_alloc(&hv->arena, (size_t)pool_pages * PAGE_SIZE, &s->pool_pa);
	s->pool_pages = pool_pages;
	s->pool_used = 0;
	return s->root && s->pool ? 0 : -ENOMEM;
}

void __hv_host hv_shadow_reset(struct hv_shadow *s)
{
	memset(s->root, 0, PAGE_SIZE);
	s->pool_used = 0;
}

/* The next-level table under *e, taken from the pool if absent; NULL if the pool is used up. */
static u64 *__hv_host shadow_next(struct hv_shadow *s, u64 *e)
{
	u64 *t;

	if (*e & 7)
		return s->pool + (((*e & HV_NW_ADDR) - s->pool_pa) >> 3);
	if (s->pool_used == s->pool_pages)
		return NULL;
	t = s->pool + (size_t)s->pool_used * 512;
	memset(t, 0, PAGE_SIZE);
	*e = (s->pool_pa + (u64)s->pool_used * PAGE_SIZE) | 7;
	s->pool_used++;
	return t;
}

int __hv_host hv_shadow_map(struct hv_shadow *s, u64 gpa, u64 leaf)
{
	u64 *t = s->root;
	int level;

	for (level = 4; level > 1; level--) {
		t = shadow_next(s, &t[(gpa >> (12 + 9 * (level - 1))) & 511]);
		if (!t)
			return -ENOMEM;
	}
	WRITE_ONCE(t[(gpa >> 12) & 511], leaf);
	return 0;
}
