// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested VT-x: shadow EPT.  L2 never runs on L1's EPT.  VMCS02 points at a
 * per-CPU shadow that starts empty; an EPT violation is resolved by walking
 * L1's EPT as the CPU would (nested_walk.c): a translation L1 allows is
 * checked against Hyper-box memory and the protected ranges and mapped
 * 4 KiB (never writable over protected memory); one L1 does not allow goes
 * to L1 as its own EPT violation or misconfiguration; one Hyper-box refuses
 * ends L2 with a triple-fault VM exit to L1 (KVM stops that guest).  A
 * shadow is kept per L1 root (several per CPU) and emptied on L1's INVEPT
 * of it, as the TLB would be.
 */
#include <linux/mm.h>
#include "vmx_nested.h"

void __hv_host vmx_invept_all(void)
{
	struct { u64 eptp, zero; } d = { 0, 0 };

	asm volatile("invept %0, %1" : : "m"(d), "r"((u64)VMX_EPT_EXTENT_GLOBAL) : "cc", "memory");
}

void __hv_host vmx_invvpid_l2(void)
{
	struct { u64 vpid, gva; } d = { VMX_VPID_L2, 0 };
	u64 type = (vmx_caps.ept_vpid >> 32) & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT ?
		   VMX_VPID_EXTENT_SINGLE_CONTEXT : VMX_VPID_EXTENT_ALL_CONTEXT;

	if (vmx_caps.vpid)
		asm volatile("invvpid %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

/*
 * VMX_SHADOWS shadows per CPU, one per L1 EPT root, so that L1 switching
 * between its guests (or vCPUs with their own roots) on one CPU does not
 * refill them.  Each has its own root page; the tables below come from one
 * pool (hv_shadow's bump allocator, its count kept in n->pool_used).  An
 * emptied shadow leaves its tables in the pool until the pool runs out,
 * which empties every shadow.
 */
int vmx_shadow_ept_setup(struct hv *hv, struct vmx_nested *n)
{
	unsigned int i;

	if (hv_shadow_init(hv, &n->shadow[0], SHADOW_POOL))
		return -ENOMEM;
	for (i = 1; i < VMX_SHADOWS; i++) {
		n->shadow[i] = n->shadow[0];
		n->shadow[i].root = hv_arena_alloc(&hv->arena, PAGE_SIZE, &n->shadow[i].root_pa);
		if (!n->shadow[i].root)
			return -ENOMEM;
	}
	return 0;
}

static void __hv_host shadow_empty(struct vmx_cpu *vc, unsigned int i)
{
	memset(vc->n->shadow[i].root, 0, PAGE_SIZE);
	vc->n->shadow_live[i] = false;
	vc->n->flush_ept = true;	/* the CPU's cached translations of that root */
}

/* The pool is used up: every shadow starts again empty (the current one keeps its root). */
void __hv_host vmx_shadow_ept_drop(struct vmx_cpu *vc)
{
	struct vmx_nested *n = vc->n;
	unsigned int i;

	for (i = 0; i < VMX_SHADOWS; i++) {
		shadow_empty(vc, i);
		if (i != n->cur_sh)
			n->shadow_eptp[i] = 0;
	}
	n->pool_used = 0;
	n->shadow_live[n->cur_sh] = true;
	vc->hv.stats->shadow_resets++;
}

/* The shadow kept for L1's root eptp on this CPU, or -1 (a root not seen here yet). */
int __hv_host vmx_shadow_ept_find(struct vmx_nested *n, u64 eptp)
{
	int i;

	for (i = 0; i < VMX_SHADOWS; i++)
		if (eptp && n->shadow_eptp[i] == eptp)
			return i;
	return -1;
}

/* L2 runs on shadow i (-1: a new one, taking a free slot or the next in turn) for root eptp. */
void __hv_host vmx_shadow_ept_use(struct vmx_cpu *vc, int i, u64 eptp)
{
	struct vmx_nested *n = vc->n;

	if (i < 0) {
		for (i = 0; i < VMX_SHADOWS && n->shadow_eptp[i]; i++)
			;
		if (i == VMX_SHADOWS) {
			i = n->next_sh;
			n->next_sh = (n->next_sh + 1) % VMX_SHADOWS;
		}
		n->shadow_eptp[i] = eptp;
		shadow_empty(vc, i);
	}
	if (!n->shadow_live[i]) {
		n->shadow_live[i] = true;
		vc->hv.stats->shadow_resets++;
	}
	n->cur_sh = i;
	n->eptp12 = eptp;
}

/* L1's VMXON/VMXOFF: no root is kept across them (a later EPT at the same address starts empty). */
void __hv_host vmx_shadow_ept_forget(struct vmx_cpu *vc)
{
	struct vmx_nested *n = vc->n;
	unsigned int i;

	for (i = 0; i < VMX_SHADOWS; i++) {
		shadow_empty(vc, i);
		n->shadow_eptp[i] = 0;
	}
	n->pool_used = 0;
	n->eptp12 = 0;
}

/* L1's INVEPT: single-context empties that root's shadow, global every one. */
void __hv_host vmx_shadow_ept_invept(struct vmx_cpu *vc, u64 type, u64 eptp)
{
	struct vmx_nested *n = vc->n;
	unsigned int i;

	for (i = 0; i < VMX_SHADOWS; i++)
		if (n->shadow_live[i] && (type == VMX_EPT_EXTENT_GLOBAL || n->shadow_eptp[i] == (eptp & EPT_ADDR)))
			shadow_empty(vc, i);
}

/* A leaf into the current shadow; -ENOMEM when the shared pool is used up. */
static int __hv_host shadow_map(struct vmx_nested *n, u64 gpa, u64 leaf)
{
	struct hv_shadow *s = &n->shadow[n->cur_sh];
	int r;

	s->pool_used = n->pool_used;
	r = hv_shadow_map(s, gpa, leaf);
	n->pool_used = s->pool_used;
	return r;
}

/* Does this entry of L1's EPT make the CPU report a misconfiguration (SDM "EPT Misconfigurations")? */
static bool __hv_host ept_misconfigured(u64 e, int level, bool leaf)
{
	u64 mt = (e >> 3) & 7;

	if ((e & 3) == 2)
		return true;			/* writable, not readable */
	if ((e & 7) == 4 && !(vmx_caps.ept_vpid & VMX_EPT_EXECUTE_ONLY_BIT))
		return true;
	if (!leaf)
		return e & 0xf8;		/* bits 7:3 reserved in tables */
	if (level > 1 && (e & GENMASK_ULL(12 + 9 * (level - 1) - 1, 12)))
		return true;			/* large page address below its size */
	return mt == 2 || mt == 3 || mt == 7;
}

/*
 * gpa through L1's EPT for an access acc (EPT_RWX bits; 0: any), as the CPU
 * would take it.  SHADOW_FILLED: *leaf is the shadow entry to map (checked
 * against Hyper-box memory and the protected ranges, never writable over
 * protected memory).  SHADOW_REFLECT: L1's EPT does not allow it, *perm is
 * what it allows.  SHADOW_REFUSE: *viol and *addr are the violation.
 */
static int __hv_host shadow_translate(struct vmx_cpu *vc, u64 gpa, u64 acc, u64 *perm,
				      u64 *leaf, int *viol, u64 *addr)
{
	struct hv *hv = vc->hv.hv;
	struct vmx_nested *n = vc->n;
	struct hv_nested_walk w;
	u64 hpa;
	int i, r, v;

	*perm = EPT_RWX;
	r = hv_nested_walk(hv, n->eptp12, gpa, EPT_RWX, n->rsvd_mask, &w);
	if (r == HV_NW_HIDDEN) {
		*viol = HV_V_NESTED_HIDDEN;
		*addr = n->eptp12;
		return SHADOW_REFUSE;
	}
	if (r == HV_NW_RSVD)
		return SHADOW_MISCONFIG;
	for (i = 0; i < w.n; i++) {
		if (r == HV_NW_LEAF && ept_misconfigured(w.e[i], 4 - i, i == w.n - 1))
			return SHADOW_MISCONFIG;
		*perm &= w.e[i] & EPT_RWX;
	}
	if (r != HV_NW_LEAF || (acc & ~*perm))
		return SHADOW_REFLECT;
	hpa = hv_nested_walk_hpa(&w, gpa);
	v = hv_nested_leaf_check(hv, hpa, PAGE_SIZE, false);
	if (v < 0 && hpa >= hv->npt_top)
		v = HV_V_NESTED_HIDDEN;
	if (v < 0 && (acc & EPT_VIOLATION_ACC_WRITE) && hv_nested_leaf_check(hv, hpa, PAGE_SIZE, true) >= 0)
		v = HV_V_NESTED_PROTECTED;
	if (v >= 0) {
		*viol = v;
		*addr = hpa;
		return SHADOW_REFUSE;
	}
	*leaf = hpa | *perm | (w.e[w.n - 1] & EPT_MT_IPAT);
	if ((*perm & VMX_EPT_WRITABLE_MASK) && hv_nested_leaf_check(hv, hpa, PAGE_SIZE, true) >= 0)
		*leaf &= ~VMX_EPT_WRITABLE_MASK;
	return SHADOW_FILLED;
}

/*
 * Map gpa ahead of L2's access when L1's EPT already allows it: exactly
 * what a fault there would map, nothing when the fault would do anything
 * else (that fault then happens and decides).  Never resets the shadow.
 * Returns whether it mapped.
 */
static bool __hv_host shadow_map_ahead(struct vmx_cpu *vc, u64 gpa, u64 acc)
{
	u64 perm, leaf, addr;
	int viol;

	if (shadow_translate(vc, gpa, acc, &perm, &leaf, &viol, &addr) != SHADOW_FILLED ||
	    shadow_map(vc->n, gpa, leaf))
		return false;
	vc->hv.stats->shadow_ahead++;
	return true;
}

/*
 * L2 took an EPT violation on the shadow at gpa.  *q is the CPU's
 * qualification; it becomes the one L1's EPT gives (access bits kept,
 * bits 5:3 the permissions L1's entries allow) when the fault is L1's.
 * A fill also maps the other pages of its aligned group of
 * VMX_EPT_AHEAD that L1's EPT maps, as KVM's own prefetch does for its
 * EPT: an L2 touching memory in sequence faults once per group.
 */
int __hv_host vmx_shadow_ept_fault(struct vmx_cpu *vc, u64 gpa, u64 *q)
{
	struct hv_cpu *c = &vc->hv;
	struct vmx_nested *n = vc->n;
	u64 perm, leaf, addr, acc = *q & EPT_RWX, g, base = gpa & ~(VMX_EPT_AHEAD * PAGE_SIZE - 1);
	int r, viol;

	gpa &= PAGE_MASK;
	r = shadow_translate(vc, gpa, acc, &perm, &leaf, &viol, &addr);
	if (r == SHADOW_REFUSE) {
		hv_violation(c, viol, addr, gpa);
		return SHADOW_REFUSE;
	}
	if (r == SHADOW_REFLECT) {
		*q = (*q & ~0x38ULL) | (perm << 3);
		/* L1 maps it and resumes L2: vmx_shadow_ept_prefill() maps it then. */
		n->ahead_gpa = gpa | 1;
		n->ahead_acc = acc;
	}
	if (r != SHADOW_FILLED)
		return r;
	if (shadow_map(n, gpa, leaf)) {
		vmx_shadow_ept_drop(vc);
		if (shadow_map(n, gpa, leaf))
			return SHADOW_REFUSE;
	}
	for (g = base; g < base + VMX_EPT_AHEAD * PAGE_SIZE; g += PAGE_SIZE)
		if (g != gpa)
			shadow_map_ahead(vc, g, 0);
	/* A fault on a present shadow entry (a permission L1 has since granted): cached copies go. */
	n->flush_ept = true;
	c->stats->shadow_fills++;
	return SHADOW_FILLED;
}

/*
 * VMRESUME after an EPT violation went to L1: L1 has usually just mapped
 * the page (KVM faults its EPT in on demand), so it is mapped in the
 * shadow now instead of at a second fault when L2 retries.
 */
void __hv_host vmx_shadow_ept_prefill(struct vmx_cpu *vc)
{
	struct vmx_nested *n = vc->n;
	u64 gpa = n->ahead_gpa;

	n->ahead_gpa = 0;
	if ((gpa & 1) && shadow_map_ahead(vc, gpa & PAGE_MASK, n->ahead_acc))
		n->flush_ept = true;
}
