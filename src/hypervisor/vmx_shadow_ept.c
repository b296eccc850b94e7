// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested VT-x: shadow EPT.  L2 never runs on L1's EPT.  VMCS02 points at a
 * per-CPU shadow that starts empty; an EPT violation is resolved by walking
 * L1's EPT as the CPU would (nested_walk.c): a translation L1 allows is
 * checked against Hyper-box memory and the protected ranges and mapped
 * 4 KiB (never writable over protected memory); one L1 does not allow goes
 * to L1 as its own EPT violation or misconfiguration; one Hyper-box refuses
 * ends L2 with a triple-fault VM exit to L1 (KVM stops that guest).  The
 * shadow is dropped on L1's INVEPT and when the EPT root changes, as the
 * TLB would be.
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

void __hv_host vmx_shadow_ept_drop(struct vmx_cpu *vc)
{
	hv_shadow_reset(&vc->n->shadow);
	vc->n->flush_ept = true;
	vc->hv.stats->shadow_resets++;
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
 * L2 took an EPT violation on the shadow at gpa.  *q is the CPU's
 * qualification; it becomes the one L1's EPT gives (access bits kept,
 * bits 5:3 the permissions L1's entries allow) when the fault is L1's.
 */
int __hv_host vmx_shadow_ept_fault(struct vmx_cpu *vc, u64 gpa, u64 *q)
{
	struct hv_cpu *c = &vc->hv;
	struct vmx_nested *n = vc->n;
	struct hv_nested_walk w;
	u64 perm = EPT_RWX, acc = *q & EPT_RWX, hpa, leaf;
	int i, r, v;

	r = hv_nested_walk(c->hv, n->eptp12, gpa, EPT_RWX, n->rsvd_mask, &w);
	if (r == HV_NW_HIDDEN) {
		hv_violation(c, HV_V_NESTED_HIDDEN, n->eptp12, gpa);
		return SHADOW_REFUSE;
	}
	if (r == HV_NW_RSVD)
		return SHADOW_MISCONFIG;
	for (i = 0; i < w.n; i++) {
		if (r == HV_NW_LEAF && ept_misconfigured(w.e[i], 4 - i, i == w.n - 1))
			return SHADOW_MISCONFIG;
		perm &= w.e[i] & EPT_RWX;
	}
	if (r != HV_NW_LEAF || (acc & ~perm)) {
		*q = (*q & ~0x38ULL) | (perm << 3);
		return SHADOW_REFLECT;
	}
	hpa = hv_nested_walk_hpa(&w, gpa);
	v = hv_nested_leaf_check(c->hv, hpa, PAGE_SIZE, false);
	if (v < 0 && hpa >= c->hv->npt_top)
		v = HV_V_NESTED_HIDDEN;
	if (v < 0 && (acc & EPT_VIOLATION_ACC_WRITE) && hv_nested_leaf_check(c->hv, hpa, PAGE_SIZE, true) >= 0)
		v = HV_V_NESTED_PROTECTED;
	if (v >= 0) {
		hv_violation(c, v, hpa, gpa);
		return SHADOW_REFUSE;
	}
	if ((perm & VMX_EPT_WRITABLE_MASK) && hv_nested_leaf_check(c->hv, hpa, PAGE_SIZE, true) >= 0)
		perm &= ~VMX_EPT_WRITABLE_MASK;
	leaf = hpa | perm | (w.e[w.n - 1] & EPT_MT_IPAT);
	if (hv_shadow_map(&n->shadow, gpa, leaf)) {
		vmx_shadow_ept_drop(vc);
		if (hv_shadow_map(&n->shadow, gpa, leaf))
			return SHADOW_REFUSE;
	}
	/* A fault on a present shadow entry (a permission L1 has since granted): cached copies go. */
	n->flush_ept = true;
	c->stats->shadow_fills++;
	return SHADOW_FILLED;
}
