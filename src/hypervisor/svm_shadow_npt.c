// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shadows of L1's nested page tables (L2 gpa -> host pa) for nested SVM:
 * one per (root, L1 ASID) in use, filled on L2's faults after walking L1's
 * table as the CPU would and after Hyper-box's own checks, ahead on
 * sequential faults, the least recently run replaced.
 */
#include <linux/mm.h>
#include <linux/string.h>
#include "svm_nested.h"

/* Returns -1 if the table at table_pa (level 4..1) is acceptable, else the violation. */
static int __hv_host npt_validate(struct svm_cpu *sc, u64 table_pa, int level, u64 *bad)
{
	/* not present, or faults as reserved: skipped */
	return hv_nested_validate(sc->hv.hv, table_pa, level, PTE_P, sc->n->rsvd_mask, &sc->n->tables, bad);
}

/* ---- shadow nested page table ---- */

static void __hv_host slot_reset(struct svm_cpu *sc, struct svm_shadow_slot *sl)
{
	hv_shadow_reset(&sl->s);
	sl->flush = true;
	sl->next_fill = 0;
	sc->hv.stats->shadow_resets++;
}

static void __hv_host shadow_reset(struct svm_cpu *sc)
{
	slot_reset(sc, sc->n->cur);
}

static int __hv_host shadow_map(struct svm_cpu *sc, u64 gpa, u64 leaf)
{
	return hv_shadow_map(&sc->n->cur->s, gpa, leaf);
}

/*
 * After a fill of a 4 KiB leaf that followed the previous one: the next
 * entries of the same L1 table, as far as they are already accessed (and
 * writable only when already dirty), so that L1's accessed/dirty bits stay
 * what L2's own accesses made them; same checks as a fill.  upper: the
 * W/U/X the levels above allow.
 */
static void __hv_host shadow_ahead(struct svm_cpu *sc, u64 gpa, const u64 *pte, bool w_up, bool x_up)
{
	/* pte is L1's entry for gpa, mapped by the walk; its neighbours share its page */
	struct hv *hv = sc->hv.hv;
	unsigned int i;

	for (i = 1; i <= SHADOW_AHEAD && ((gpa >> 12) + i) % 512; i++) {
		u64 e = READ_ONCE(pte[i]), hpa = e & PTE_ADDR;
		bool w;

		if ((e & (PTE_P | PTE_U | PTE_A)) != (PTE_P | PTE_U | PTE_A) || (e & sc->n->rsvd_mask) ||
		    hpa >= hv->npt_top || hv_nested_leaf_check(hv, hpa, PAGE_SIZE, false) >= 0)
			break;
		w = w_up && (e & PTE_W) && (e & PTE_D) && hv_nested_leaf_check(hv, hpa, PAGE_SIZE, true) < 0;
		if (shadow_map(sc, gpa + i * PAGE_SIZE, hpa | PTE_P | PTE_U | (w ? PTE_W : 0) |
			       (x_up && !(e & PTE_NX) ? 0 : PTE_NX)))
			break;
		sc->hv.stats->shadow_ahead++;
	}
	sc->n->cur->next_fill = gpa + i * PAGE_SIZE;
}

/*
 * L2 faulted on the shadow at gpa.  Walk L1's nested table the way the CPU
 * would (every level must be present, user, and writable/executable for
 * such an access), then either fill the shadow with that translation, after
 * Hyper-box's own checks, or hand the fault to L1 with the error code L1's
 * table gives.  Accessed and dirty bits are set in L1's table as the CPU
 * would set them.
 */
int __hv_host svm_shadow_fault(struct svm_cpu *sc, u64 gpa, u64 *err)
{
	struct hv_cpu *c = &sc->hv;
	struct svm_nested *n = sc->n;
	bool write = *err & PF_W, exec = *err & PF_ID, w = true, x = true, u = true, w_up = true;
	u64 table = n->cur->ncr3 & PTE_ADDR, e = 0, hpa, size;
	u64 *ents[4];
	int level, nents = 0, v;
	bool x_up = true;

	*err &= ~(PF_P | PF_RSVD);
	for (level = 4; level >= 1; level--) {
		u64 *p = hv_gmem_map(c->hv, table + ((gpa >> (12 + 9 * (level - 1))) & 511) * 8, 8, true);

		if (!p) {
			hv_violation(c, HV_V_NESTED_HIDDEN, table, gpa);
			return SHADOW_REFUSE;
		}
		e = READ_ONCE(*p);
		if (!(e & PTE_P))
			return SHADOW_REFLECT;
		if ((e & n->rsvd_mask) || (level == 4 && (e & PTE_PS))) {
			*err |= PF_P | PF_RSVD;
			return SHADOW_REFLECT;
		}
		ents[nents++] = p;
		w_up = w;
		w &= !!(e & PTE_W);
		u &= !!(e & PTE_U);
		if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
			x_up = x;
			x &= !(e & PTE_NX);
			break;
		}
		x &= !(e & PTE_NX);
		table = e & PTE_ADDR;
	}
	size = 1ULL << (12 + 9 * (level - 1));
	if (!u || (write && !w) || (exec && !x)) {
		*err |= PF_P;
		return SHADOW_REFLECT;
	}
	hpa = ((e & PTE_ADDR & ~(size - 1)) | (gpa & (size - 1))) & PTE_ADDR;
	v = hv_nested_leaf_check(c->hv, hpa, PAGE_SIZE, false);
	if (v < 0 && hpa >= c->hv->npt_top)
		v = HV_V_NESTED_HIDDEN;
	if (v >= 0 || (write && hv_nested_leaf_check(c->hv, hpa, PAGE_SIZE, true) >= 0)) {
		hv_violation(c, v >= 0 ? v : HV_V_NESTED_PROTECTED, hpa, gpa);
		return SHADOW_REFUSE;
	}
	/* Writable in the shadow only once dirty, and never over protected memory. */
	for (level = 0; level < nents; level++)
		if (!(READ_ONCE(*ents[level]) & PTE_A))
			__atomic_fetch_or(ents[level], PTE_A, __ATOMIC_RELAXED);
	if (write && !(e & PTE_D))
		__atomic_fetch_or(ents[nents - 1], PTE_D, __ATOMIC_RELAXED);
	w = w && (write || (e & PTE_D)) && hv_nested_leaf_check(c->hv, hpa, PAGE_SIZE, true) < 0;
	if (shadow_map(sc, gpa, hpa | PTE_P | PTE_U | (w ? PTE_W : 0) | (x ? 0 : PTE_NX))) {
		shadow_reset(sc);
		if (shadow_map(sc, gpa, hpa | PTE_P | PTE_U | (w ? PTE_W : 0) | (x ? 0 : PTE_NX)))
			return SHADOW_REFUSE;
	}
	c->stats->shadow_fills++;
	if (nents == 4 && (gpa & PAGE_MASK) == n->cur->next_fill)
		shadow_ahead(sc, gpa & PAGE_MASK, ents[3], w_up, x_up);
	else
		n->cur->next_fill = (gpa & PAGE_MASK) + PAGE_SIZE;
	return SHADOW_FILLED;
}

/*
 * The shadow for L1's root ncr3 and ASID asid12: the one kept if L1 did
 * not flush, else a slot reset (a free one, or the least recently run),
 * after validating a root no slot holds.  -1, or the violation and *bad.
 */
int __hv_host svm_shadow_select(struct svm_cpu *sc, u64 ncr3, u32 asid12, u8 tlb_ctl, u64 *bad)
{
	struct svm_nested *n = sc->n;
	struct svm_shadow_slot *sl = NULL, *victim = NULL;
	bool known = false;
	unsigned int i;
	int viol = -1;

	for (i = 0; i < n->nslots; i++) {
		struct svm_shadow_slot *t = &n->slot[i];

		if (t->ok && t->ncr3 == ncr3) {
			known = true;
			if (t->asid12 == asid12)
				sl = t;
		}
		if (!victim || (victim->ok && (!t->ok || t->last_run < victim->last_run)))
			victim = t;
	}
	if (tlb_ctl == TLB_CONTROL_FLUSH_ALL_ASID)
		for (i = 0; i < n->nslots; i++)
			n->slot[i].ok = false;
	if (!sl || !sl->ok || tlb_ctl != TLB_CONTROL_DO_NOTHING) {
		if (!sl)
			sl = victim;
		n->tables = 0;
		if (!known)
			viol = npt_validate(sc, ncr3, 4, bad);
		if (viol >= 0)
			return viol;
		slot_reset(sc, sl);
		sl->ncr3 = ncr3;
		sl->asid12 = asid12;
		sl->ok = true;
	}
	sl->last_run = ++n->runs;
	n->cur = sl;
	return -1;
}
