/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Nested VT-x, private to vmx_nested.c, vmcs12.c, vmx_nested_entry.c,
 * vmx_l2_exit.c and vmx_shadow_ept.c: the per-CPU nested state and what
 * those files share.  The vendor backend (vmx.c, vmx_exit.c) sees only the
 * vmx_nested_*() calls in vmx.h.
 */
#ifndef HV_VMX_NESTED_H
#define HV_VMX_NESTED_H

#include "vmx.h"
#include "nested_walk.h"

#define VMX_NO_VMCS	(~0ULL)
/* SDM "VM-instruction error numbers" */
#define VMXERR_VMCLEAR_BAD_ADDR		2
#define VMXERR_VMCLEAR_VMXON_PTR	3
#define VMXERR_VMLAUNCH_NOT_CLEAR	4
#define VMXERR_VMRESUME_NOT_LAUNCHED	5
#define VMXERR_ENTRY_BAD_CONTROLS	7
#define VMXERR_ENTRY_BAD_HOST		8
#define VMXERR_VMPTRLD_BAD_ADDR		9
#define VMXERR_VMPTRLD_VMXON_PTR	10
#define VMXERR_VMPTRLD_BAD_REVISION	11
#define VMXERR_BAD_FIELD		12
#define VMXERR_WRITE_RO_FIELD		13
#define VMXERR_VMXON_IN_ROOT		15
#define VMXERR_BAD_INV_OPERAND		28

#define EPT_RWX		7ULL
#define EPT_ADDR	0x000ffffffffff000ULL
#define EPT_MT_IPAT	0x78ULL		/* leaf memory type (5:3) and ignore-PAT (6) */
#define VMX_VPID_L2	2
/* Exceptions VMCS02 always intercepts, whatever L1 asks (delivery loops). */
#define VMX_L2_FORCED_EXC	((1U << 1) | (1U << 17))
#define SHADOW_POOL	256		/* shadow EPT pages per CPU (roots apart) */
#define VMX_SHADOWS	4		/* L1 EPT roots with a shadow kept per CPU */
#define VMX_EPT_AHEAD	8		/* a shadow EPT fill maps its aligned group of 8 pages */

/* VMCS12 in L1 memory: a header (revision at 0, launch state at 8), then the fields (vmcs12.c). */
#define VMCS12_HDR	64
#define VMCS12_LAUNCHED	8
#define VMCS12_SIZE	(VMCS12_HDR + 448 * 8)

struct vmx_nested {
	bool vmxon;
	bool in_l2;			/* VMCS02 is current */
	bool launch02;			/* VMCS02 is clear: its next entry is a VMLAUNCH */
	bool host02;			/* VMCS02's host state is written */
	bool flush_ept;
	unsigned int tables;		/* EPT tables walked by the current check */
	u64 vmxon_ptr, cur;		/* L1's current-VMCS pointer */
	u64 eptp12;			/* L1's EPT root the current shadow reflects */
	u64 ahead_gpa, ahead_acc;	/* bit 0: an EPT violation at that GPA went to L1 */
	u32 vpid12;			/* L1's VPID for L2 the VPID-2 TLB reflects (0: none) */
	u32 insn_len;			/* L1's VMLAUNCH/VMRESUME, for a VMfail from the CPU */
	bool launching;			/* that instruction was VMLAUNCH */
	u64 rsvd_mask;			/* EPT address bits above MAXPHYADDR */
	u8 *v12;			/* private copy of VMCS12 while L2 runs */
	void *vmcs02;
	u64 vmcs02_pa;
	u8 *msr02;			/* L2's MSR bitmap: L1's OR'ed with Hyper-box's */
	u64 msr02_pa;
	/*
	 * Shadow EPTs, one per L1 root (vmx_shadow_ept.c): their roots are
	 * their own, the pool of tables below them is shared.
	 */
	struct hv_shadow shadow[VMX_SHADOWS];
	u64 shadow_eptp[VMX_SHADOWS];	/* L1's root each reflects; 0: none */
	bool shadow_live[VMX_SHADOWS];	/* holds entries since that root's last INVEPT */
	unsigned int cur_sh, next_sh;	/* in use; the next to reuse */
	unsigned int pool_used;		/* the shared pool's pages in use */
	/* VMCS shadowing (vmx_shadow_vmcs.c) */
	void *svmcs;			/* this CPU's shadow VMCS */
	u64 svmcs_pa;
	u8 *vmread_bm, *vmwrite_bm;	/* set bit: that field exits */
	u64 vmread_bm_pa, vmwrite_bm_pa;
	bool svmcs_live;		/* on in VMCS01, holding VMCS12's listed fields */
	bool svmcs_clear;		/* VMCLEARed once on this CPU */
};

/* vmx_nested.c */
void vmx_nested_succeed(struct hv_cpu *c);
void vmx_nested_fail(struct hv_cpu *c, struct vmx_cpu *vc, u32 err);

/* vmcs12.c */
int vmcs12_off(u64 field);
/* Guest state, the same both ways: VMCS12 -> VMCS02 at entry, back at exit. */
extern const u16 vmcs12_guest_fields[];
extern const unsigned int vmcs12_nr_guest;
/* Exit information L1 reads after a VM exit from L2. */
extern const u16 vmcs12_exit_fields[];
extern const unsigned int vmcs12_nr_exit;
u64 vmcs12_ctl_cap(u32 true_msr, u32 msr);
bool vmcs12_ctl_ok(u64 val, u64 cap);
bool vmcs12_host_state_ok(struct vmx_cpu *vc);
u64 vmx_cr0_fixed_mask(bool unrestricted);
u64 vmx_cr4_fixed_mask(void);

/* A field of the VMCS12 copy (n->v12); 0 for a field the layout does not hold. */
static inline u64 __hv_host v12(struct vmx_nested *n, u32 field)
{
	int off = vmcs12_off(field);

	return off < 0 ? 0 : *(u64 *)(n->v12 + off);
}

static inline void __hv_host v12_set(struct vmx_nested *n, u32 field, u64 val)
{
	int off = vmcs12_off(field);

	if (off >= 0)
		*(u64 *)(n->v12 + off) = val;
}

/* vmx_shadow_ept.c */
enum { SHADOW_FILLED, SHADOW_REFLECT, SHADOW_MISCONFIG, SHADOW_REFUSE };
void vmx_invept_all(void);
void vmx_invvpid_l2(void);
int vmx_shadow_ept_setup(struct hv *hv, struct vmx_nested *n);
void vmx_shadow_ept_drop(struct vmx_cpu *vc);
int vmx_shadow_ept_find(struct vmx_nested *n, u64 eptp);
void vmx_shadow_ept_use(struct vmx_cpu *vc, int i, u64 eptp);
void vmx_shadow_ept_invept(struct vmx_cpu *vc, u64 type, u64 eptp);
void vmx_shadow_ept_forget(struct vmx_cpu *vc);
int vmx_shadow_ept_fault(struct vmx_cpu *vc, u64 gpa, u64 *q);
void vmx_shadow_ept_prefill(struct vmx_cpu *vc);

/* vmx_shadow_vmcs.c */
void vmx_svmcs_probe(void);
int vmx_svmcs_setup(struct hv *hv, struct vmx_nested *n);
void vmx_svmcs_switch(struct vmx_cpu *vc, u64 ptr);
void vmx_svmcs_entry(struct vmx_cpu *vc);
void vmx_svmcs_exit(struct vmx_cpu *vc);

/* vmx_nested_entry.c */
bool vmx_nested_vmentry(struct vmx_cpu *vc, bool launch);

#endif
