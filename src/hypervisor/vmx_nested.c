// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested VT-x: L1's VMX instructions (kvm_intel inside the demoted kernel)
 * and its guests (L2) on the hardware.
 *
 * In VMX non-root operation every VMX instruction exits, so L1's VMX is
 * emulated here with the outcomes the SDM gives: #UD outside VMX operation
 * (or with CR4.VMXE clear for VMXON), #GP(0) at CPL > 0 or for a bad memory
 * operand, VMfailInvalid without a current VMCS, VMfailValid(n) with one.
 * L1's VMCS pointers are guest-physical: each is checked with
 * hv_gmem_map() so that none can name Hyper-box memory.  L1's VMCS
 * (VMCS12) is a region of L1 memory in our own layout, read and written by
 * the emulated VMREAD/VMWRITE.
 *
 * VMLAUNCH/VMRESUME: VMCS12 is copied into the arena, then checked on the
 * copy: controls within what L1 was offered (the VMX capability MSRs L1
 * reads are filtered to what is implemented here), L1's EPT pointer and,
 * for a root seen for the first time, every table it reaches (no leaf may
 * map Hyper-box memory, or protected memory writable), and the host state
 * L1 will be given back at the VM exit.  The hardware VMCS for L2 (VMCS02)
 * is built from the copy with Hyper-box's own host state, external-
 * interrupt and NMI exiting, an MSR bitmap that keeps the syscall, feature
 * control and VMX capability MSRs, VPID 2 (L1 has 1) and a shadow EPT.
 * The hardware then checks the rest: a VMfail on VMCS02 is L1's VMfail
 * with the same error number, a failed guest-state check is the VM exit
 * L1 would get.
 *
 * Shadow EPT: L2 never runs on L1's EPT.  VMCS02 points at a per-CPU shadow
 * that starts empty; an EPT violation is resolved by walking L1's EPT as
 * the CPU would: a translation L1 allows is checked against Hyper-box
 * memory and the protected ranges and mapped 4 KiB (never writable over
 * protected memory); one L1 does not allow goes to L1 as its own EPT
 * violation or misconfiguration; one Hyper-box refuses ends L2 with a
 * triple-fault VM exit to L1 (KVM stops that guest).  The shadow is dropped
 * on L1's INVEPT and when the EPT root changes, as the TLB would be.
 *
 * VM exits Hyper-box does not keep go to L1: the exit information and L2's
 * state into VMCS12, L1's host state from VMCS12 into VMCS01 (with CR0.WP,
 * CR4.SMEP/SMAP pinned), L1 resumes at its HOST_RIP.  L1's registers other
 * than RSP/RIP are whatever L2 left, as on a CPU (KVM saves them).
 */
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/processor-flags.h>
#include <asm/msr.h>
#include "vmx.h"
#include "nested_walk.h"
#include "monitor.h"

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
#define VMXERR_VMXON_IN_ROOT		15
#define VMXERR_BAD_INV_OPERAND		28

#define EPT_RWX		7ULL
#define EPT_ADDR	0x000ffffffffff000ULL
#define EPT_MT_IPAT	0x78ULL		/* leaf memory type (5:3) and ignore-PAT (6) */
#define VMX_VPID_L2	2
#define SHADOW_POOL	256		/* shadow EPT pages per CPU (root apart) */
#define VMCS12_SIZE	(VMCS12_HDR + 448 * 8)

struct vmx_nested {
	bool vmxon;
	bool in_l2;			/* VMCS02 is current */
	bool launch02;			/* VMCS02 is clear: its next entry is a VMLAUNCH */
	bool host02;			/* VMCS02's host state is written */
	bool shadow_ok, flush_ept;
	unsigned int tables;		/* EPT tables walked by the current check */
	u64 vmxon_ptr, cur;		/* L1's current-VMCS pointer */
	u64 eptp12;			/* L1's EPT root the shadow reflects */
	u32 vpid12;			/* L1's VPID for L2 the VPID-2 TLB reflects (0: none) */
	u32 insn_len;			/* L1's VMLAUNCH/VMRESUME, for a VMfail from the CPU */
	bool launching;			/* that instruction was VMLAUNCH */
	u64 rsvd_mask;			/* EPT address bits above MAXPHYADDR */
	u8 *v12;			/* private copy of VMCS12 while L2 runs */
	void *vmcs02;
	u64 vmcs02_pa;
	u8 *msr02;			/* L2's MSR bitmap: L1's OR'ed with Hyper-box's */
	u64 msr02_pa;
	struct hv_shadow shadow;
};

int vmx_nested_setup(struct hv *hv, struct vmx_cpu *vc)
{
	struct vmx_nested *n = hv_arena_alloc(&hv->arena, sizeof(*vc->n), NULL);

	vc->n = n;
	if (!n)
		return -ENOMEM;
	n->cur = VMX_NO_VMCS;
	n->launch02 = true;
	n->v12 = hv_arena_alloc(&hv->arena, PAGE_SIZE, NULL);
	n->vmcs02 = hv_arena_alloc(&hv->arena, PAGE_SIZE, &n->vmcs02_pa);
	n->msr02 = hv_arena_alloc(&hv->arena, PAGE_SIZE, &n->msr02_pa);
	if (!n->v12 || !n->vmcs02 || !n->msr02 || hv_shadow_init(hv, &n->shadow, SHADOW_POOL))
		return -ENOMEM;
	*(u32 *)n->vmcs02 = vmx_caps.revision;
	n->rsvd_mask = GENMASK_ULL(51, boot_cpu_data.x86_phys_bits);
	return 0;
}

bool __hv_host vmx_nested_in_l2(struct vmx_cpu *vc)
{
	return vc->n->in_l2;
}

/* Is the next entry the first one of a clear VMCS02 (VMLAUNCH, not VMRESUME)? */
bool __hv_host vmx_nested_launch_next(struct vmx_cpu *vc)
{
	return vc->n->in_l2 && vc->n->launch02;
}

/*
 * What L1 is offered: the VMX capability MSRs with only the controls this
 * file implements for L2 (no APIC virtualization, posted interrupts,
 * preemption timer, VMCS shadowing, VM functions, PML, EPT A/D bits,
 * MSR-list-free perf/BNDCFGS/PT switching or I/O bitmaps).  KVM then only
 * asks for what VMCS02 can really do.
 */
#define L1_PIN	(PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS)
#define L1_PROC	(CPU_BASED_INTR_WINDOW_EXITING | CPU_BASED_USE_TSC_OFFSETTING | CPU_BASED_HLT_EXITING | \
		 CPU_BASED_INVLPG_EXITING | CPU_BASED_MWAIT_EXITING | CPU_BASED_RDPMC_EXITING | \
		 CPU_BASED_RDTSC_EXITING | CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING | \
		 CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING | CPU_BASED_NMI_WINDOW_EXITING | \
		 CPU_BASED_MOV_DR_EXITING | CPU_BASED_UNCOND_IO_EXITING | CPU_BASED_MONITOR_TRAP_FLAG | \
		 CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_MONITOR_EXITING | CPU_BASED_PAUSE_EXITING | \
		 CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
#define L1_PROC2 (SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_DESC | SECONDARY_EXEC_ENABLE_RDTSCP | \
		  SECONDARY_EXEC_ENABLE_VPID | SECONDARY_EXEC_WBINVD_EXITING | \
		  SECONDARY_EXEC_UNRESTRICTED_GUEST | SECONDARY_EXEC_PAUSE_LOOP_EXITING | \
		  SECONDARY_EXEC_RDRAND_EXITING | SECONDARY_EXEC_ENABLE_INVPCID | \
		  SECONDARY_EXEC_RDSEED_EXITING | SECONDARY_EXEC_XSAVES)
#define L1_EXIT	(VM_EXIT_SAVE_DEBUG_CONTROLS | VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_ACK_INTR_ON_EXIT | \
		 VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_IA32_EFER | \
		 VM_EXIT_LOAD_IA32_EFER)
#define L1_ENTRY (VM_ENTRY_LOAD_DEBUG_CONTROLS | VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_IA32_PAT | \
		  VM_ENTRY_LOAD_IA32_EFER)
#define L1_EPT_CAP (VMX_EPT_EXECUTE_ONLY_BIT | VMX_EPT_PAGE_WALK_4_BIT | VMX_EPTP_UC_BIT | \
		    VMX_EPTP_WB_BIT | VMX_EPT_2MB_PAGE_BIT | VMX_EPT_1GB_PAGE_BIT | VMX_EPT_INVEPT_BIT | \
		    VMX_EPT_EXTENT_CONTEXT_BIT | VMX_EPT_EXTENT_GLOBAL_BIT | \
		    ((VMX_VPID_INVVPID_BIT | VMX_VPID_EXTENT_INDIVIDUAL_ADDR_BIT | \
		      VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT | VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT | \
		      VMX_VPID_EXTENT_SINGLE_NON_GLOBAL_BIT) << 32))
#define NR_CAP	(MSR_IA32_VMX_VMFUNC - MSR_IA32_VMX_BASIC + 1)

static u64 l1_cap[NR_CAP] __ro_after_init;
static u32 l1_cap_ok __ro_after_init;	/* bit i: l1_cap[i] is readable */

/* A control MSR as offered: may-be-1 (high half) cut to allowed, must-be-1 kept. */
static u64 cap_ctl(u64 v, u32 allowed)
{
	return (v & 0xffffffffULL) | ((u64)(((u32)(v >> 32) & allowed) | (u32)v) << 32);
}

void vmx_nested_probe(void)
{
	unsigned int i;
	u64 v;

	for (i = 0; i < NR_CAP; i++) {
		if (rdmsrl_safe(MSR_IA32_VMX_BASIC + i, &v))
			continue;
		switch (MSR_IA32_VMX_BASIC + i) {
		case MSR_IA32_VMX_PINBASED_CTLS:
		case MSR_IA32_VMX_TRUE_PINBASED_CTLS:
			v = cap_ctl(v, L1_PIN);
			break;
		case MSR_IA32_VMX_PROCBASED_CTLS:
		case MSR_IA32_VMX_TRUE_PROCBASED_CTLS:
			v = cap_ctl(v, L1_PROC);
			break;
		case MSR_IA32_VMX_PROCBASED_CTLS2:
			v = cap_ctl(v, L1_PROC2);
			break;
		case MSR_IA32_VMX_EXIT_CTLS:
		case MSR_IA32_VMX_TRUE_EXIT_CTLS:
			v = cap_ctl(v, L1_EXIT);
			break;
		case MSR_IA32_VMX_ENTRY_CTLS:
		case MSR_IA32_VMX_TRUE_ENTRY_CTLS:
			v = cap_ctl(v, L1_ENTRY);
			break;
		case MSR_IA32_VMX_MISC:
			/* no VMWRITE to exit-information fields (VMfailValid(13) here) */
			v &= ~MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS;
			break;
		case MSR_IA32_VMX_EPT_VPID_CAP:
			v &= L1_EPT_CAP;
			break;
		case MSR_IA32_VMX_VMFUNC:
			v = 0;
			break;
		}
		l1_cap[i] = v;
		l1_cap_ok |= 1U << i;
	}
}

bool __hv_host vmx_nested_cap_msr(u32 msr, u64 *val)
{
	u32 i = msr - MSR_IA32_VMX_BASIC;

	if (i >= NR_CAP || !(l1_cap_ok & (1U << i)))
		return false;
	*val = l1_cap[i];
	return true;
}

bool __hv_host vmx_nested_vmxon(struct vmx_cpu *vc)
{
	return vc->n->vmxon;
}

#define VMX_FLAGS (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | \
		   X86_EFLAGS_SF | X86_EFLAGS_OF)

static void __hv_host vm_succeed(struct hv_cpu *c)
{
	c->g.rflags &= ~VMX_FLAGS;
}

/*
 * L1's VMCS region holds fields in our own layout (the format is
 * implementation-specific): after a 64-byte header (revision, launch
 * state), 8 bytes per field in one block per (width, type), sized for the
 * highest index the SDM defines in that block (64-bit controls reach
 * index 0x2a).  448 slots: 3648 bytes, within the 4 KiB VMCS region.
 */
#define VMCS12_HDR	64
#define VMCS12_LAUNCHED	8
static const u8 vmcs12_slots[4][4] = {	/* [width][type]: control, exit info, guest, host */
	{ 16, 16, 16, 16 },		/* 16-bit */
	{ 64, 16, 32, 16 },		/* 64-bit */
	{ 32, 32, 32, 32 },		/* 32-bit */
	{ 32, 32, 32, 32 },		/* natural width */
};

static int __hv_host vmcs12_off(u64 field)
{
	u32 idx = (field >> 1) & 0x1ff, type = (field >> 10) & 3, width = (field >> 13) & 3;
	u32 w, t, slot = 0;

	/* Bit 0 (the high half of a 64-bit field) is for 32-bit hosts: not offered. */
	if (field >> 15 || (field & (1 << 12)) || (field & 1) || idx >= vmcs12_slots[width][type])
		return -1;
	for (w = 0; w < 4; w++)
		for (t = 0; t < 4; t++)
			if (w < width || (w == width && t < type))
				slot += vmcs12_slots[w][t];
	return VMCS12_HDR + (slot + idx) * 8;
}

static void __hv_host vm_fail(struct hv_cpu *c, struct vmx_cpu *vc, u32 err)
{
	int off = vmcs12_off(VM_INSTRUCTION_ERROR);

	c->g.rflags &= ~VMX_FLAGS;
	if (vc->n->cur == VMX_NO_VMCS) {
		c->g.rflags |= X86_EFLAGS_CF;		/* VMfailInvalid */
		return;
	}
	c->g.rflags |= X86_EFLAGS_ZF;			/* VMfailValid */
	hv_gmem_write(c->hv, vc->n->cur + off, &err, sizeof(err));
}

/* The linear address of the instruction's memory operand (SDM: VM-exit instruction information). */
static int __hv_host insn_mem_operand(struct hv_cpu *c, u64 *gva)
{
	u32 info = vmcs_read(VMX_INSTRUCTION_INFO);
	u64 a = vmcs_read(EXIT_QUALIFICATION);	/* displacement, sign-extended */

	if (info & (1 << 10))
		return -EINVAL;				/* register operand */
	if (!(info & (1 << 27)))
		a += hv_gpr_get(c, (info >> 23) & 15);
	if (!(info & (1 << 22)))
		a += hv_gpr_get(c, (info >> 18) & 15) << (info & 3);
	switch ((info >> 15) & 7) {
	case 4: a += vmcs_read(GUEST_FS_BASE); break;
	case 5: a += vmcs_read(GUEST_GS_BASE); break;
	}
	if (((info >> 7) & 7) == 1)
		a = (u32)a;
	*gva = a;
	return 0;
}

static int __hv_host read_operand(struct hv_cpu *c, void *dst, size_t len)
{
	u64 gva;

	if (insn_mem_operand(c, &gva) || hv_gva_read(c->hv, c->g.cr3, gva, dst, len)) {
		vmx_inject(c, 13, true, 0);
		return -EFAULT;
	}
	return 0;
}

/* A VMXON/VMCS pointer L1 may use: aligned, guest memory, never ours. */
static bool __hv_host vmcs_ptr_ok(struct hv_cpu *c, u64 pa)
{
	return !(pa & ~PAGE_MASK) && pa < c->hv->npt_top && hv_gmem_map(c->hv, pa, PAGE_SIZE, true);
}

/* ---- the VMCS12 copy ---- */

static u64 __hv_host v12(struct vmx_nested *n, u32 field)
{
	int off = vmcs12_off(field);

	return off < 0 ? 0 : *(u64 *)(n->v12 + off);
}

static void __hv_host v12_set(struct vmx_nested *n, u32 field, u64 val)
{
	int off = vmcs12_off(field);

	if (off >= 0)
		*(u64 *)(n->v12 + off) = val;
}

/* Guest state, the same both ways: VMCS12 -> VMCS02 at entry, back at exit. */
static const u16 guest_fields[] = {
	GUEST_ES_SELECTOR, GUEST_CS_SELECTOR, GUEST_SS_SELECTOR, GUEST_DS_SELECTOR,
	GUEST_FS_SELECTOR, GUEST_GS_SELECTOR, GUEST_LDTR_SELECTOR, GUEST_TR_SELECTOR,
	GUEST_ES_LIMIT, GUEST_CS_LIMIT, GUEST_SS_LIMIT, GUEST_DS_LIMIT, GUEST_FS_LIMIT,
	GUEST_GS_LIMIT, GUEST_LDTR_LIMIT, GUEST_TR_LIMIT, GUEST_GDTR_LIMIT, GUEST_IDTR_LIMIT,
	GUEST_ES_AR_BYTES, GUEST_CS_AR_BYTES, GUEST_SS_AR_BYTES, GUEST_DS_AR_BYTES,
	GUEST_FS_AR_BYTES, GUEST_GS_AR_BYTES, GUEST_LDTR_AR_BYTES, GUEST_TR_AR_BYTES,
	GUEST_INTERRUPTIBILITY_INFO, GUEST_ACTIVITY_STATE, GUEST_SYSENTER_CS,
	GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE,
	GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE, GUEST_LDTR_BASE, GUEST_TR_BASE,
	GUEST_GDTR_BASE, GUEST_IDTR_BASE, GUEST_RSP, GUEST_RIP, GUEST_RFLAGS,
	GUEST_PENDING_DBG_EXCEPTIONS, GUEST_SYSENTER_ESP, GUEST_SYSENTER_EIP,
	GUEST_PDPTR0, GUEST_PDPTR1, GUEST_PDPTR2, GUEST_PDPTR3,
};

/* Controls L1 sets for L2 that reach VMCS02 unchanged (within the checked controls). */
static const u16 ctl_fields[] = {
	EXCEPTION_BITMAP, PAGE_FAULT_ERROR_CODE_MASK, PAGE_FAULT_ERROR_CODE_MATCH,
	CR3_TARGET_COUNT, CR3_TARGET_VALUE0, CR3_TARGET_VALUE1, CR3_TARGET_VALUE2,
	CR3_TARGET_VALUE3, VM_ENTRY_INTR_INFO_FIELD, VM_ENTRY_EXCEPTION_ERROR_CODE,
	VM_ENTRY_INSTRUCTION_LEN, TSC_OFFSET,
};

/* Exit information L1 reads after a VM exit from L2. */
static const u16 exit_fields[] = {
	VM_EXIT_REASON, EXIT_QUALIFICATION, GUEST_LINEAR_ADDRESS, GUEST_PHYSICAL_ADDRESS,
	VM_EXIT_INTR_INFO, VM_EXIT_INTR_ERROR_CODE, IDT_VECTORING_INFO_FIELD,
	IDT_VECTORING_ERROR_CODE, VM_EXIT_INSTRUCTION_LEN, VMX_INSTRUCTION_INFO,
};

/* Hyper-box's host state, the same in VMCS01 and VMCS02. */
static const u16 host_fields[] = {
	HOST_CR0, HOST_CR3, HOST_CR4, HOST_ES_SELECTOR, HOST_CS_SELECTOR, HOST_SS_SELECTOR,
	HOST_DS_SELECTOR, HOST_FS_SELECTOR, HOST_GS_SELECTOR, HOST_TR_SELECTOR, HOST_FS_BASE,
	HOST_GS_BASE, HOST_TR_BASE, HOST_GDTR_BASE, HOST_IDTR_BASE, HOST_IA32_SYSENTER_CS,
	HOST_IA32_SYSENTER_ESP, HOST_IA32_SYSENTER_EIP, HOST_IA32_EFER, HOST_IA32_PAT,
	HOST_RSP, HOST_RIP,
};

/* The control MSR L1 goes by: the TRUE one where the CPU has it (VMX_BASIC bit 55). */
static u64 __hv_host ctl_cap(u32 true_msr, u32 msr)
{
	u64 v = 0;

	if (!vmx_nested_cap_msr(true_msr, &v))
		vmx_nested_cap_msr(msr, &v);
	return v;
}

static bool __hv_host ctl_ok(u64 val, u64 cap)
{
	return (val & (u32)cap) == (u32)cap && !(val & ~(cap >> 32));
}

static bool __hv_host canonical(u64 a)
{
	return __is_canonical_address(a, 48);
}

/*
 * The SDM's checks on the host state L1 gets back at the VM exit (VMfailValid(8)
 * when they fail), plus Hyper-box's: with lock_tables L1's IDT, GDT and TSS
 * must be the ones it runs on now (no LIDT/LGDT/LTR by the back door).  What passes can be loaded into VMCS01 as
 * L1's state without VMCS01's own entry failing.
 */
static bool __hv_host host_state_ok(struct vmx_cpu *vc)
{
	struct vmx_nested *n = vc->n;
	struct hv *hv = vc->hv.hv;
	u64 cr0 = v12(n, HOST_CR0), cr4 = v12(n, HOST_CR4), exit = v12(n, VM_EXIT_CONTROLS);
	static const u16 sels[] = { HOST_ES_SELECTOR, HOST_CS_SELECTOR, HOST_SS_SELECTOR,
				    HOST_DS_SELECTOR, HOST_FS_SELECTOR, HOST_GS_SELECTOR,
				    HOST_TR_SELECTOR };
	unsigned int i;

	if ((cr0 & vmx_caps.cr0_fixed0) != vmx_caps.cr0_fixed0 || (cr0 & ~vmx_caps.cr0_fixed1) ||
	    (cr4 & vmx_caps.cr4_fixed0) != vmx_caps.cr4_fixed0 || (cr4 & ~vmx_caps.cr4_fixed1) ||
	    !(cr4 & X86_CR4_PAE) || (v12(n, HOST_CR3) & n->rsvd_mask) ||
	    !(exit & VM_EXIT_HOST_ADDR_SPACE_SIZE))
		return false;
	for (i = 0; i < ARRAY_SIZE(sels); i++)
		if (v12(n, sels[i]) & 7 || v12(n, sels[i]) >> 16)
			return false;
	if (!v12(n, HOST_CS_SELECTOR) || !v12(n, HOST_TR_SELECTOR) || !canonical(v12(n, HOST_RIP)) ||
	    !canonical(v12(n, HOST_FS_BASE)) || !canonical(v12(n, HOST_GS_BASE)) ||
	    !canonical(v12(n, HOST_TR_BASE)) || !canonical(v12(n, HOST_GDTR_BASE)) ||
	    !canonical(v12(n, HOST_IDTR_BASE)) || !canonical(v12(n, HOST_IA32_SYSENTER_ESP)) ||
	    !canonical(v12(n, HOST_IA32_SYSENTER_EIP)))
		return false;
	if (exit & VM_EXIT_LOAD_IA32_PAT) {
		u64 pat = v12(n, HOST_IA32_PAT);

		for (i = 0; i < 8; i++) {
			u8 t = pat >> (8 * i);

			if (t == 2 || t == 3 || t > 7)
				return false;
		}
	}
	if (exit & VM_EXIT_LOAD_IA32_EFER) {
		u64 efer = v12(n, HOST_IA32_EFER);

		if ((efer & ~(u64)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)) ||
		    !(efer & EFER_LMA) || !(efer & EFER_LME))
			return false;
	}
	if (hv->pol.lock_tables && (v12(n, HOST_IDTR_BASE) != vmcs_read(GUEST_IDTR_BASE) ||
				    v12(n, HOST_GDTR_BASE) != vmcs_read(GUEST_GDTR_BASE) ||
				    v12(n, HOST_TR_BASE) != vmcs_read(GUEST_TR_BASE) ||
				    v12(n, HOST_TR_SELECTOR) != vmcs_read(GUEST_TR_SELECTOR))) {
		hv_violation(&vc->hv, HV_V_NESTED_VMCB, v12(n, HOST_IDTR_BASE), v12(n, HOST_GDTR_BASE));
		return false;
	}
	return true;
}

/* The CR0/CR4 bits VMX fixes: VMCS02 owns them even where L1's mask does not. */
static u64 __hv_host cr0_fixed_mask(bool unrestricted)
{
	u64 m = vmx_caps.cr0_fixed0 | ~vmx_caps.cr0_fixed1;

	return unrestricted ? m & ~(X86_CR0_PE | X86_CR0_PG) : m;
}

static u64 __hv_host cr4_fixed_mask(void)
{
	return vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1;
}

/* ---- shadow EPT ---- */

static void __hv_host invept_all(void)
{
	struct { u64 eptp, zero; } d = { 0, 0 };

	asm volatile("invept %0, %1" : : "m"(d), "r"((u64)VMX_EPT_EXTENT_GLOBAL) : "cc", "memory");
}

static void __hv_host invvpid_l2(void)
{
	struct { u64 vpid, gva; } d = { VMX_VPID_L2, 0 };
	u64 type = (vmx_caps.ept_vpid >> 32) & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT ?
		   VMX_VPID_EXTENT_SINGLE_CONTEXT : VMX_VPID_EXTENT_ALL_CONTEXT;

	if (vmx_caps.vpid)
		asm volatile("invvpid %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

static void __hv_host shadow_drop(struct vmx_cpu *vc)
{
	hv_shadow_reset(&vc->n->shadow);
	vc->n->flush_ept = true;
	vc->hv.stats->shadow_resets++;
}

enum { SHADOW_FILLED, SHADOW_REFLECT, SHADOW_MISCONFIG, SHADOW_REFUSE };

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
static int __hv_host shadow_fault(struct vmx_cpu *vc, u64 gpa, u64 *q)
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
		shadow_drop(vc);
		if (hv_shadow_map(&n->shadow, gpa, leaf))
			return SHADOW_REFUSE;
	}
	/* A fault on a present shadow entry (a permission L1 has since granted): cached copies go. */
	n->flush_ept = true;
	c->stats->shadow_fills++;
	return SHADOW_FILLED;
}

/* ---- VM entry: VMCS02 ---- */

static void __hv_host vmcs02_controls(struct vmx_cpu *vc)
{
	struct vmx_nested *n = vc->n;
	struct hv *hv = vc->hv.hv;
	u64 pin = v12(n, PIN_BASED_VM_EXEC_CONTROL), proc = v12(n, CPU_BASED_VM_EXEC_CONTROL);
	u64 proc2 = proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? v12(n, SECONDARY_VM_EXEC_CONTROL) : 0;
	u64 exit = v12(n, VM_EXIT_CONTROLS), entry = v12(n, VM_ENTRY_CONTROLS);
	u64 m0 = cr0_fixed_mask(proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST), m4 = cr4_fixed_mask();
	u64 mask0 = v12(n, CR0_GUEST_HOST_MASK), mask4 = v12(n, CR4_GUEST_HOST_MASK);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ctl_fields); i++)
		vmcs_write(ctl_fields[i], v12(n, ctl_fields[i]));
	/* Physical interrupts and NMIs always leave L2 (they are L1's or the host's). */
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL,
		   pin | PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING | (u32)vmx_caps.pin_raw);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, proc | CPU_BASED_USE_MSR_BITMAPS |
		   CPU_BASED_ACTIVATE_SECONDARY_CONTROLS | (u32)vmx_caps.proc_raw);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, proc2 | SECONDARY_EXEC_ENABLE_EPT |
		   (vmx_caps.vpid ? SECONDARY_EXEC_ENABLE_VPID : 0));
	/* Hyper-box's host state needs its EFER and PAT back whatever L1 asked for L1. */
	vmcs_write(VM_EXIT_CONTROLS, exit | VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_EFER |
		   VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT |
		   (u32)vmx_caps.exit_raw);
	vmcs_write(VM_ENTRY_CONTROLS, entry | VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_LOAD_IA32_PAT |
		   (vmx_caps.entry & VM_ENTRY_LOAD_DEBUG_CONTROLS) | (u32)vmx_caps.entry_raw);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_LINK_POINTER, -1ULL);
	if (proc2 & SECONDARY_EXEC_XSAVES)
		vmcs_write(XSS_EXIT_BITMAP, v12(n, XSS_EXIT_BITMAP));
	if (proc2 & SECONDARY_EXEC_PAUSE_LOOP_EXITING) {
		vmcs_write(PLE_GAP, v12(n, PLE_GAP));
		vmcs_write(PLE_WINDOW, v12(n, PLE_WINDOW));
	}
	/*
	 * CR0/CR4: L1's masks and read shadows, plus VMX's fixed bits, which
	 * L2 reads as its own value where L1 does not own them.
	 */
	vmcs_write(CR0_GUEST_HOST_MASK, mask0 | m0);
	vmcs_write(CR0_READ_SHADOW, (v12(n, CR0_READ_SHADOW) & mask0) | (v12(n, GUEST_CR0) & ~mask0));
	vmcs_write(CR4_GUEST_HOST_MASK, mask4 | m4);
	vmcs_write(CR4_READ_SHADOW, (v12(n, CR4_READ_SHADOW) & mask4) | (v12(n, GUEST_CR4) & ~mask4));
	vmcs_write(MSR_BITMAP, n->msr02_pa);
	if (vmx_caps.vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, VMX_VPID_L2);
	/* Without EPT in VMCS12, L2's addresses are L1's: L1's own (protected) EPT applies. */
	vmcs_write(EPT_POINTER, (proc2 & SECONDARY_EXEC_ENABLE_EPT ? n->shadow.root_pa : hv->npt_root_pa) |
		   VMX_EPTP_MT_WB | VMX_EPTP_PWL_4);
}

/* L1's MSR bitmap OR'ed with Hyper-box's, so that the MSRs L1 may not touch still exit. */
static int __hv_host build_msr02(struct vmx_cpu *vc)
{
	struct vmx_nested *n = vc->n;
	u64 *m = (u64 *)n->msr02, *f = (u64 *)vmx_msr_bitmap;
	unsigned int i;

	if (!(v12(n, CPU_BASED_VM_EXEC_CONTROL) & CPU_BASED_USE_MSR_BITMAPS)) {
		memset(n->msr02, 0xff, PAGE_SIZE);
		return 0;
	}
	if (hv_gmem_read(vc->hv.hv, v12(n, MSR_BITMAP), n->msr02, PAGE_SIZE))
		return -EFAULT;
	for (i = 0; i < PAGE_SIZE / 8; i++)
		m[i] |= f[i];
	return 0;
}

/*
 * VMLAUNCH/VMRESUME from L1 with a current VMCS.  Returns true when L2 is
 * entered (VMCS02 current, c->g is L2's), false with L1's VMfail set.
 */
static bool __hv_host nested_vmentry(struct vmx_cpu *vc, bool launch)
{
	struct hv_cpu *c = &vc->hv;
	struct vmx_nested *n = vc->n;
	u64 pin, proc, proc2, exit, entry, eptp, bad = 0, hostv[ARRAY_SIZE(host_fields)];
	u64 efer, pat, dr7, debugctl;
	u32 state = 0, vpid;
	unsigned int i;
	int viol = -1;

	hv_gmem_read(c->hv, n->cur + VMCS12_LAUNCHED, &state, 4);
	if (launch && state) {
		vm_fail(c, vc, VMXERR_VMLAUNCH_NOT_CLEAR);
		return false;
	}
	if (!launch && !state) {
		vm_fail(c, vc, VMXERR_VMRESUME_NOT_LAUNCHED);
		return false;
	}
	/* From here on only the copy is used: L1 cannot change it between check and use. */
	if (hv_gmem_read(c->hv, n->cur, n->v12, VMCS12_SIZE)) {
		vm_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
		return false;
	}
	pin = v12(n, PIN_BASED_VM_EXEC_CONTROL);
	proc = v12(n, CPU_BASED_VM_EXEC_CONTROL);
	proc2 = proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? v12(n, SECONDARY_VM_EXEC_CONTROL) : 0;
	exit = v12(n, VM_EXIT_CONTROLS);
	entry = v12(n, VM_ENTRY_CONTROLS);
	eptp = v12(n, EPT_POINTER);
	vpid = v12(n, VIRTUAL_PROCESSOR_ID) & 0xffff;
	if (proc2 & SECONDARY_EXEC_ENABLE_EPT) {
		if (((eptp & VMX_EPTP_MT_MASK) != VMX_EPTP_MT_WB && (eptp & VMX_EPTP_MT_MASK) != VMX_EPTP_MT_UC) ||
		    (eptp & VMX_EPTP_PWL_MASK) != VMX_EPTP_PWL_4 || (eptp & 0xfc0) || (eptp & n->rsvd_mask)) {
			vm_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
			return false;
		}
		eptp &= EPT_ADDR;
		/*
		 * Checked before the other controls, so that an EPT reaching
		 * Hyper-box memory is refused and counted whatever else is
		 * wrong with the VMCS.  L1 changes its EPT and then flushes
		 * (INVEPT), as it must for the TLB: the shadow is dropped then.
		 * A new root is walked whole so that a bad table is refused at
		 * entry; every entry is checked again as the shadow is filled,
		 * which is what keeps L2 out of Hyper-box memory.
		 */
		if (!n->shadow_ok || eptp != n->eptp12) {
			n->tables = 0;
			if (eptp != n->eptp12)
				viol = hv_nested_validate(c->hv, eptp, 4, EPT_RWX, n->rsvd_mask, &n->tables, &bad);
			if (viol >= 0) {
				n->shadow_ok = false;
				n->eptp12 = 0;
				hv_violation(c, viol, bad, eptp);
				vm_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
				return false;
			}
			shadow_drop(vc);
			n->eptp12 = eptp;
			n->shadow_ok = true;
		}
	}
	if (!ctl_ok(pin, ctl_cap(MSR_IA32_VMX_TRUE_PINBASED_CTLS, MSR_IA32_VMX_PINBASED_CTLS)) ||
	    !ctl_ok(proc, ctl_cap(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS)) ||
	    !ctl_ok(proc2, ctl_cap(MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_PROCBASED_CTLS2)) ||
	    !ctl_ok(exit, ctl_cap(MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_EXIT_CTLS)) ||
	    !ctl_ok(entry, ctl_cap(MSR_IA32_VMX_TRUE_ENTRY_CTLS, MSR_IA32_VMX_ENTRY_CTLS)) ||
	    ((proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST) && !(proc2 & SECONDARY_EXEC_ENABLE_EPT)) ||
	    ((proc2 & SECONDARY_EXEC_ENABLE_VPID) && !vpid) ||
	    ((pin & PIN_BASED_VIRTUAL_NMIS) && !(pin & PIN_BASED_NMI_EXITING)) ||
	    v12(n, CR3_TARGET_COUNT) > 4 ||
	    ((proc & CPU_BASED_USE_MSR_BITMAPS) && (v12(n, MSR_BITMAP) & ~PAGE_MASK)) ||
	    v12(n, VM_EXIT_MSR_STORE_COUNT) || v12(n, VM_EXIT_MSR_LOAD_COUNT) ||
	    v12(n, VM_ENTRY_MSR_LOAD_COUNT)) {
		vm_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
		return false;
	}
	if (build_msr02(vc)) {
		vm_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
		return false;
	}
	if (!host_state_ok(vc)) {
		vm_fail(c, vc, VMXERR_ENTRY_BAD_HOST);
		return false;
	}

	/* L1 as it is at the VMLAUNCH: what the VM exit (or a VMfail from the CPU) returns to. */
	vmcs_write(GUEST_RIP, c->g.rip);
	vmcs_write(GUEST_RSP, c->g.rsp);
	vmcs_write(GUEST_RFLAGS, c->g.rflags);
	n->insn_len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	n->launching = launch;
	efer = entry & VM_ENTRY_LOAD_IA32_EFER ? v12(n, GUEST_IA32_EFER) :
	       (entry & VM_ENTRY_IA32E_MODE ? c->g.efer | EFER_LMA | EFER_LME :
					      c->g.efer & ~(u64)(EFER_LMA | EFER_LME));
	pat = entry & VM_ENTRY_LOAD_IA32_PAT ? v12(n, GUEST_IA32_PAT) : vmcs_read(GUEST_IA32_PAT);
	dr7 = entry & VM_ENTRY_LOAD_DEBUG_CONTROLS ? v12(n, GUEST_DR7) :
	      vmx_mon_dr7_for_l2(vc, vmcs_read(GUEST_DR7));
	debugctl = entry & VM_ENTRY_LOAD_DEBUG_CONTROLS ? v12(n, GUEST_IA32_DEBUGCTL) :
		   vmcs_read(GUEST_IA32_DEBUGCTL);
	if (!n->host02)
		for (i = 0; i < ARRAY_SIZE(host_fields); i++)
			hostv[i] = vmcs_read(host_fields[i]);
	if (n->launch02)
		asm volatile("vmclear %0" : : "m"(n->vmcs02_pa) : "cc", "memory");
	if (!vmptrld(n->vmcs02_pa)) {
		vmptrld(vc->vmcs01_pa);
		vm_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
		return false;
	}
	n->in_l2 = true;
	if (!n->host02) {
		for (i = 0; i < ARRAY_SIZE(host_fields); i++)
			vmcs_write(host_fields[i], hostv[i]);
		n->host02 = true;
	}
	vmcs02_controls(vc);
	for (i = 0; i < ARRAY_SIZE(guest_fields); i++)
		vmcs_write(guest_fields[i], v12(n, guest_fields[i]));
	vmcs_write(GUEST_IA32_EFER, efer);
	vmcs_write(GUEST_IA32_PAT, pat);
	vmcs_write(GUEST_DR7, dr7);
	vmcs_write(GUEST_IA32_DEBUGCTL, debugctl);
	/* L1 without VPIDs for L2 (or a new VPID) expects a TLB free of the last guest's entries. */
	if (!(proc2 & SECONDARY_EXEC_ENABLE_VPID) || vpid != n->vpid12)
		invvpid_l2();
	n->vpid12 = proc2 & SECONDARY_EXEC_ENABLE_VPID ? vpid : 0;
	if (n->flush_ept) {
		invept_all();
		n->flush_ept = false;
	}
	if (launch) {
		state = 1;
		hv_gmem_write(c->hv, n->cur + VMCS12_LAUNCHED, &state, 4);
	}
	c->g.rip = v12(n, GUEST_RIP);
	c->g.rsp = v12(n, GUEST_RSP);
	c->g.rflags = v12(n, GUEST_RFLAGS);
	vmx_sys_msrs_load(vc, true);
	vmx_mon_l2_enter(vc);
	return true;
}

/* ---- VM exit from L2 ---- */

/* Access rights VM exit gives L1's host segments (SDM "Loading Host Segment and Descriptor-Table Registers"). */
#define AR_CODE64	0xa09b		/* G, L, P, S, type 11 */
#define AR_DATA		0xc093		/* G, D/B, P, S, type 3 */
#define AR_TSS64	0x008b		/* P, busy 64-bit TSS */
#define AR_UNUSABLE	0x10000

static void __hv_host load_l1_host_state(struct vmx_cpu *vc, bool nmi)
{
	struct hv_cpu *c = &vc->hv;
	struct vmx_nested *n = vc->n;
	struct hv *hv = c->hv;
	u64 exit = v12(n, VM_EXIT_CONTROLS), cr0 = v12(n, HOST_CR0), cr4 = v12(n, HOST_CR4);
	static const u16 data[][4] = {	/* selector in VMCS12, then VMCS01's selector, AR, limit */
		{ HOST_ES_SELECTOR, GUEST_ES_SELECTOR, GUEST_ES_AR_BYTES, GUEST_ES_LIMIT },
		{ HOST_SS_SELECTOR, GUEST_SS_SELECTOR, GUEST_SS_AR_BYTES, GUEST_SS_LIMIT },
		{ HOST_DS_SELECTOR, GUEST_DS_SELECTOR, GUEST_DS_AR_BYTES, GUEST_DS_LIMIT },
		{ HOST_FS_SELECTOR, GUEST_FS_SELECTOR, GUEST_FS_AR_BYTES, GUEST_FS_LIMIT },
		{ HOST_GS_SELECTOR, GUEST_GS_SELECTOR, GUEST_GS_AR_BYTES, GUEST_GS_LIMIT },
	};
	unsigned int i;

	if (hv->cr0_pinned & ~cr0) {
		hv_violation(c, HV_V_CR0_WP, 0, cr0);
		cr0 |= hv->cr0_pinned;
	}
	if (hv->cr4_pinned & ~cr4) {
		hv_violation(c, hv->cr4_pinned & ~cr4 & X86_CR4_SMEP ? HV_V_CR4_SMEP : HV_V_CR4_SMAP, 0, cr4);
		cr4 |= hv->cr4_pinned;
	}
	vmcs_write(GUEST_CR0, (cr0 | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1);
	vmcs_write(CR0_READ_SHADOW, cr0);
	vc->cr4_shadow = cr4;
	vmcs_write(GUEST_CR4, (cr4 | X86_CR4_VMXE | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1);
	vmcs_write(CR4_READ_SHADOW, cr4);
	vmcs_write(GUEST_CR3, v12(n, HOST_CR3));
	vmcs_write(GUEST_DR7, vmx_mon_l1_dr7(vc));
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(GUEST_SYSENTER_CS, v12(n, HOST_IA32_SYSENTER_CS));
	vmcs_write(GUEST_SYSENTER_ESP, v12(n, HOST_IA32_SYSENTER_ESP));
	vmcs_write(GUEST_SYSENTER_EIP, v12(n, HOST_IA32_SYSENTER_EIP));
	if (exit & VM_EXIT_LOAD_IA32_EFER)
		vmcs_write(GUEST_IA32_EFER, v12(n, HOST_IA32_EFER));
	else
		vmcs_write(GUEST_IA32_EFER, vmcs_read(GUEST_IA32_EFER) | EFER_LMA | EFER_LME);
	if (exit & VM_EXIT_LOAD_IA32_PAT)
		vmcs_write(GUEST_IA32_PAT, v12(n, HOST_IA32_PAT));
	vmcs_write(GUEST_CS_SELECTOR, v12(n, HOST_CS_SELECTOR));
	vmcs_write(GUEST_CS_AR_BYTES, AR_CODE64);
	vmcs_write(GUEST_CS_BASE, 0);
	vmcs_write(GUEST_CS_LIMIT, 0xffffffff);
	for (i = 0; i < ARRAY_SIZE(data); i++) {
		u16 sel = v12(n, data[i][0]);

		vmcs_write(data[i][1], sel);
		vmcs_write(data[i][2], sel ? AR_DATA : AR_UNUSABLE);
		vmcs_write(data[i][3], 0xffffffff);
	}
	vmcs_write(GUEST_ES_BASE, 0);
	vmcs_write(GUEST_SS_BASE, 0);
	vmcs_write(GUEST_DS_BASE, 0);
	vmcs_write(GUEST_FS_BASE, v12(n, HOST_FS_BASE));
	vmcs_write(GUEST_GS_BASE, v12(n, HOST_GS_BASE));
	vmcs_write(GUEST_TR_SELECTOR, v12(n, HOST_TR_SELECTOR));
	vmcs_write(GUEST_TR_BASE, v12(n, HOST_TR_BASE));
	vmcs_write(GUEST_TR_LIMIT, 0x67);
	vmcs_write(GUEST_TR_AR_BYTES, AR_TSS64);
	vmcs_write(GUEST_LDTR_SELECTOR, 0);
	vmcs_write(GUEST_LDTR_AR_BYTES, AR_UNUSABLE);
	vmcs_write(GUEST_GDTR_BASE, v12(n, HOST_GDTR_BASE));
	vmcs_write(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(GUEST_IDTR_BASE, v12(n, HOST_IDTR_BASE));
	vmcs_write(GUEST_IDTR_LIMIT, 0xffff);
	/* An NMI's VM exit leaves NMIs blocked until L1's IRET, as on a CPU. */
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, nmi ? GUEST_INTR_STATE_NMI : 0);
	vmcs_write(GUEST_ACTIVITY_STATE, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	c->g.rip = v12(n, HOST_RIP);
	c->g.rsp = v12(n, HOST_RSP);
	c->g.rflags = X86_EFLAGS_FIXED;
	c->g.cpl = 0;
	c->g.cr3 = v12(n, HOST_CR3);
}

/*
 * A VM exit from L2 to L1, as the CPU makes it: exit information and L2's
 * state into VMCS12 (reason, qualification and GPA as given: they may be
 * L1's view of an EPT fault), L1's host state into VMCS01.
 */
static void __hv_host reflect(struct vmx_cpu *vc, u32 reason, u64 qual, u64 gpa)
{
	struct hv_cpu *c = &vc->hv;
	struct vmx_nested *n = vc->n;
	u64 exit = v12(n, VM_EXIT_CONTROLS), intr;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(exit_fields); i++)
		v12_set(n, exit_fields[i], vmcs_read(exit_fields[i]));
	v12_set(n, VM_EXIT_REASON, reason);
	v12_set(n, EXIT_QUALIFICATION, qual);
	v12_set(n, GUEST_PHYSICAL_ADDRESS, gpa);
	if (reason == EXIT_REASON_TRIPLE_FAULT) {
		v12_set(n, VM_EXIT_INTR_INFO, 0);
		v12_set(n, IDT_VECTORING_INFO_FIELD, 0);
	}
	for (i = 0; i < ARRAY_SIZE(guest_fields); i++)
		v12_set(n, guest_fields[i], vmcs_read(guest_fields[i]));
	v12_set(n, GUEST_RIP, c->g.rip);
	v12_set(n, GUEST_RSP, c->g.rsp);
	v12_set(n, GUEST_RFLAGS, c->g.rflags);
	if (exit & VM_EXIT_SAVE_IA32_EFER)
		v12_set(n, GUEST_IA32_EFER, vmcs_read(GUEST_IA32_EFER));
	if (exit & VM_EXIT_SAVE_IA32_PAT)
		v12_set(n, GUEST_IA32_PAT, vmcs_read(GUEST_IA32_PAT));
	if (exit & VM_EXIT_SAVE_DEBUG_CONTROLS) {
		v12_set(n, GUEST_DR7, vmcs_read(GUEST_DR7));
		v12_set(n, GUEST_IA32_DEBUGCTL, vmcs_read(GUEST_IA32_DEBUGCTL));
	}
	/* A VM exit clears the valid bit of the entry's event: it was delivered or is in IDT vectoring. */
	v12_set(n, VM_ENTRY_INTR_INFO_FIELD, v12(n, VM_ENTRY_INTR_INFO_FIELD) & ~INTR_INFO_VALID_MASK);
	intr = v12(n, VM_EXIT_INTR_INFO);
	hv_gmem_write(c->hv, n->cur + VMCS12_HDR, n->v12 + VMCS12_HDR, VMCS12_SIZE - VMCS12_HDR);

	vmx_sys_msrs_load(vc, false);
	vmptrld(vc->vmcs01_pa);
	n->in_l2 = false;
	load_l1_host_state(vc, (reason & 0xffff) == EXIT_REASON_EXCEPTION_NMI &&
			       (intr & INTR_INFO_VALID_MASK) && (intr & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR);
	c->stats->exits[VMX_X_L2_REFLECTED]++;
}

/* A kept exit: the event being delivered when it hit is delivered again. */
static void __hv_host requeue_event(u64 q)
{
	u32 idt = vmcs_read(IDT_VECTORING_INFO_FIELD);

	if (idt & VECTORING_INFO_VALID_MASK) {
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, idt & ~INTR_INFO_UNBLOCK_NMI);
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(IDT_VECTORING_ERROR_CODE));
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VM_EXIT_INSTRUCTION_LEN));
	} else if ((q & INTR_INFO_UNBLOCK_NMI) &&
		   (vmcs_read(PIN_BASED_VM_EXEC_CONTROL) & PIN_BASED_VIRTUAL_NMIS)) {
		/* The fault hit an IRET that had unblocked NMIs: it runs again, blocked again. */
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
			   vmcs_read(GUEST_INTERRUPTIBILITY_INFO) | GUEST_INTR_STATE_NMI);
	}
}

/* Does L1 intercept this MSR access by L2 (its own bitmap, or no bitmap at all)? */
static bool __hv_host l1_wants_msr(struct vmx_cpu *vc, u32 msr, bool write)
{
	struct vmx_nested *n = vc->n;
	u8 byte;
	u32 off;

	if (!(v12(n, CPU_BASED_VM_EXEC_CONTROL) & CPU_BASED_USE_MSR_BITMAPS))
		return true;
	if (msr <= 0x1fff)
		off = msr / 8;
	else if (msr - 0xc0000000 <= 0x1fff)
		off = 1024 + (msr - 0xc0000000) / 8;
	else
		return true;
	if (write)
		off += 2048;
	if (hv_gmem_read(vc->hv.hv, v12(n, MSR_BITMAP) + off, &byte, 1))
		return true;
	return byte & (1 << (msr % 8));
}

/* Every VM exit while VMCS02 is current.  Hyper-box's own exits stay here; the rest go to L1. */
void __hv_host vmx_nested_l2_exit(struct vmx_cpu *vc, u32 reason)
{
	struct hv_cpu *c = &vc->hv;
	struct vmx_nested *n = vc->n;
	u32 basic = reason & 0xffff;
	u64 q = vmcs_read(EXIT_QUALIFICATION), gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);

	n->launch02 = false;
	if (reason & VMX_EXIT_REASONS_FAILED_VMENTRY) {
		/* The CPU refused L2's guest state: L1 gets that exit; VMCS02 starts clear next time. */
		c->stats->exits[VMX_X_L2_ENTRY_FAIL]++;
		reflect(vc, reason, q, gpa);
		asm volatile("vmclear %0" : : "m"(n->vmcs02_pa) : "cc", "memory");
		n->launch02 = true;
		return;
	}
	switch (basic) {
	case EXIT_REASON_EPT_VIOLATION:
		c->stats->exits[VMX_X_L2_EPT]++;
		if (!(vmcs_read(SECONDARY_VM_EXEC_CONTROL) & SECONDARY_EXEC_ENABLE_EPT) ||
		    !(v12(n, CPU_BASED_VM_EXEC_CONTROL) & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) ||
		    !(v12(n, SECONDARY_VM_EXEC_CONTROL) & SECONDARY_EXEC_ENABLE_EPT)) {
			/* L1's own EPT refused it: L1 gave L2 memory it must not have. */
			hv_violation(c, HV_V_NESTED_HIDDEN, gpa, q);
			break;
		}
		switch (shadow_fault(vc, gpa, &q)) {
		case SHADOW_FILLED:
			requeue_event(q);
			if (n->flush_ept) {
				invept_all();
				n->flush_ept = false;
			}
			return;
		case SHADOW_REFLECT:
			reflect(vc, reason, q, gpa);
			return;
		case SHADOW_MISCONFIG:
			reflect(vc, EXIT_REASON_EPT_MISCONFIG, 0, gpa);
			return;
		}
		break;
	case EXIT_REASON_EPT_MISCONFIG:
		/* The shadow is Hyper-box's own: a misconfiguration there is a bug, not L1's doing. */
		hv_log(c, HV_V_NR + 2, c->g.rip, gpa, n->eptp12);
		break;
	case EXIT_REASON_EXCEPTION_NMI:
		if ((vmcs_read(VM_EXIT_INTR_INFO) & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
			c->stats->exits[VMX_X_L2_NMI]++;
		reflect(vc, reason, q, gpa);
		return;
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		c->stats->exits[VMX_X_L2_INTR]++;
		reflect(vc, reason, q, gpa);
		return;
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
		if (l1_wants_msr(vc, c->g.regs->rcx, basic == EXIT_REASON_MSR_WRITE)) {
			reflect(vc, reason, q, gpa);
			return;
		}
		/* Forced by Hyper-box's bitmap only: the syscall MSRs are L2's, the rest as for L1. */
		c->stats->exits[VMX_X_L2_MSR]++;
		vmx_msr_access(vc, basic == EXIT_REASON_MSR_WRITE, true);
		return;
	default:
		reflect(vc, reason, q, gpa);
		return;
	}
	/* Refused: L2 ends as if it had triple-faulted; KVM stops that guest. */
	reflect(vc, EXIT_REASON_TRIPLE_FAULT, 0, 0);
}

/*
 * The CPU refused VMCS02 with a VMfail (a control or host-state check
 * Hyper-box left to it): L1 gets the same VMfailValid after its
 * VMLAUNCH/VMRESUME, as if its own VMCS had been refused.
 */
int __hv_host vmx_nested_entry_failed(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;
	struct vmx_nested *n = vc->n;
	u32 err = vmcs_read(VM_INSTRUCTION_ERROR), clear = 0;

	vmx_sys_msrs_load(vc, false);
	vmx_mon_l2_refused(vc);
	vmptrld(vc->vmcs01_pa);
	n->in_l2 = false;
	vc->launch = 0;
	c->stats->exits[VMX_X_L2_ENTRY_FAIL]++;
	if (n->launching)
		hv_gmem_write(c->hv, n->cur + VMCS12_LAUNCHED, &clear, 4);
	c->g.rip = vmcs_read(GUEST_RIP) + n->insn_len;
	c->g.rflags = vmcs_read(GUEST_RFLAGS);
	vm_fail(c, vc, err);
	vmcs_write(GUEST_RIP, c->g.rip);
	vmcs_write(GUEST_RFLAGS, c->g.rflags);
	return 0;
}

void __hv_host vmx_nested_exit(struct vmx_cpu *vc, u32 reason)
{
	struct hv_cpu *c = &vc->hv;
	struct vmx_nested *n = vc->n;
	u64 ptr = 0, val;
	u32 rev;
	int off;

	if (reason == EXIT_REASON_VMON) {
		if (!c->hv->pol.nested || !(vc->cr4_shadow & X86_CR4_VMXE)) {
			vmx_inject(c, 6, false, 0);
			return;
		}
	} else if (!n->vmxon) {
		vmx_inject(c, 6, false, 0);
		return;
	}
	if (c->g.cpl) {
		vmx_inject(c, 13, true, 0);
		return;
	}
	switch (reason) {
	case EXIT_REASON_VMON:
		if (n->vmxon) {
			vm_fail(c, vc, VMXERR_VMXON_IN_ROOT);
			break;
		}
		if (read_operand(c, &ptr, 8))
			return;
		if (!vmcs_ptr_ok(c, ptr) || hv_gmem_read(c->hv, ptr, &rev, 4) ||
		    (rev & 0x7fffffff) != vmx_caps.revision) {
			if (!vmcs_ptr_ok(c, ptr) && (ptr & ~PAGE_MASK) == 0 && ptr < c->hv->npt_top)
				hv_violation(c, HV_V_SVM_INSN, ptr, reason);
			c->g.rflags = (c->g.rflags & ~VMX_FLAGS) | X86_EFLAGS_CF;
			break;
		}
		n->vmxon = true;
		n->vmxon_ptr = ptr;
		n->cur = VMX_NO_VMCS;
		vm_succeed(c);
		break;
	case EXIT_REASON_VMOFF:
		n->vmxon = false;
		n->cur = VMX_NO_VMCS;
		/* Values L1 wrote for its guests' syscall MSRs go with its VMX operation. */
		memcpy(vc->sys_msr, vc->l1_msr, sizeof(vc->sys_msr));
		vm_succeed(c);
		break;
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMPTRLD:
		if (read_operand(c, &ptr, 8))
			return;
		if (!vmcs_ptr_ok(c, ptr)) {
			if (!(ptr & ~PAGE_MASK) && ptr < c->hv->npt_top)
				hv_violation(c, HV_V_SVM_INSN, ptr, reason);
			vm_fail(c, vc, reason == EXIT_REASON_VMCLEAR ? VMXERR_VMCLEAR_BAD_ADDR :
				VMXERR_VMPTRLD_BAD_ADDR);
			break;
		}
		if (ptr == n->vmxon_ptr) {
			vm_fail(c, vc, reason == EXIT_REASON_VMCLEAR ? VMXERR_VMCLEAR_VMXON_PTR :
				VMXERR_VMPTRLD_VMXON_PTR);
			break;
		}
		if (reason == EXIT_REASON_VMCLEAR) {
			u32 clear = 0;

			hv_gmem_write(c->hv, ptr + VMCS12_LAUNCHED, &clear, 4);
			if (n->cur == ptr)
				n->cur = VMX_NO_VMCS;
			vm_succeed(c);
			break;
		}
		hv_gmem_read(c->hv, ptr, &rev, 4);
		if ((rev & 0x7fffffff) != vmx_caps.revision || (rev >> 31)) {
			vm_fail(c, vc, VMXERR_VMPTRLD_BAD_REVISION);
			break;
		}
		n->cur = ptr;
		vm_succeed(c);
		break;
	case EXIT_REASON_VMPTRST: {
		u64 gva, gpa;

		if (insn_mem_operand(c, &gva) || hv_gva_to_gpa(c->hv, c->g.cr3, gva, &gpa, NULL) ||
		    hv_gmem_write(c->hv, gpa, &n->cur, 8)) {
			vmx_inject(c, 13, true, 0);
			return;
		}
		vm_succeed(c);
		break;
	}
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMWRITE: {
		u32 info = vmcs_read(VMX_INSTRUCTION_INFO);
		u64 field = hv_gpr_get(c, (info >> 28) & 15);

		if (n->cur == VMX_NO_VMCS) {
			vm_fail(c, vc, 0);
			break;
		}
		off = vmcs12_off(field);
		if (off < 0) {
			vm_fail(c, vc, VMXERR_BAD_FIELD);
			break;
		}
		if (reason == EXIT_REASON_VMREAD) {
			val = 0;
			hv_gmem_read(c->hv, n->cur + off, &val, 8);
			if (info & (1 << 10)) {
				hv_gpr_set(c, (info >> 3) & 15, val);
			} else {
				u64 gva, gpa;

				if (insn_mem_operand(c, &gva) ||
				    hv_gva_to_gpa(c->hv, c->g.cr3, gva, &gpa, NULL) ||
				    hv_gmem_write(c->hv, gpa, &val, 8)) {
					vmx_inject(c, 13, true, 0);
					return;
				}
			}
		} else {
			if (info & (1 << 10))
				val = hv_gpr_get(c, (info >> 3) & 15);
			else if (read_operand(c, &val, 8))
				return;
			/* Read-only (exit information) fields: VMfailValid(13) */
			if (((field >> 10) & 3) == 1) {
				vm_fail(c, vc, 13);
				break;
			}
			hv_gmem_write(c->hv, n->cur + off, &val, 8);
		}
		vm_succeed(c);
		break;
	}
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMRESUME:
		c->stats->l2_runs++;
		if (n->cur == VMX_NO_VMCS) {
			vm_fail(c, vc, 0);
			break;
		}
		if (nested_vmentry(vc, reason == EXIT_REASON_VMLAUNCH))
			return;		/* L2 runs; L1 comes back at its HOST_RIP */
		break;
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID: {
		u32 info = vmcs_read(VMX_INSTRUCTION_INFO);
		u64 type = hv_gpr_get(c, (info >> 28) & 15), desc[2];

		if (read_operand(c, desc, sizeof(desc)))
			return;
		if (reason == EXIT_REASON_INVEPT) {
			if (type != VMX_EPT_EXTENT_CONTEXT && type != VMX_EPT_EXTENT_GLOBAL) {
				vm_fail(c, vc, VMXERR_BAD_INV_OPERAND);
				break;
			}
			/*
			 * L1 changed its EPT: the shadow of it goes, as the TLB
			 * would.  Any EPTP: one shadow per CPU, whichever root.
			 */
			n->shadow_ok = false;
		} else {
			if (type > VMX_VPID_EXTENT_SINGLE_NON_GLOBAL ||
			    (type != VMX_VPID_EXTENT_ALL_CONTEXT && !(desc[0] & 0xffff)) ||
			    (desc[0] >> 16)) {
				vm_fail(c, vc, VMXERR_BAD_INV_OPERAND);
				break;
			}
			/* Every L2 runs with VPID 2. */
			invvpid_l2();
		}
		vm_succeed(c);
		break;
	}
	default:
		vmx_inject(c, 6, false, 0);
		return;
	}
	c->g.rip += vmcs_read(VM_EXIT_INSTRUCTION_LEN);
}
