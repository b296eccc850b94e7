// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested VT-x: VM exits from L2.  Hyper-box keeps the exits that are its
 * own (shadow EPT fills, the MSRs it forces L2 to exit on); the others go
 * to L1 as the CPU would make them: the exit information and L2's state
 * into VMCS12, L1's host state from VMCS12 into VMCS01 (with CR0.WP,
 * CR4.SMEP/SMAP pinned), and L1 resumes at its HOST_RIP.  L1's registers
 * other than RSP/RIP are whatever L2 left, as on a CPU (KVM saves them).
 */
#include <asm/processor-flags.h>
#include <asm/msr.h>
#include "monitor.h"
#include "vmx_nested.h"

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
	vmcs_write(GUEST_SYSENTER_EIP, vmx_mon_l1_sysenter_eip(vc, v12(n, HOST_IA32_SYSENTER_EIP)));
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

	for (i = 0; i < vmcs12_nr_exit; i++)
		v12_set(n, vmcs12_exit_fields[i], vmcs_read(vmcs12_exit_fields[i]));
	v12_set(n, VM_EXIT_REASON, reason);
	v12_set(n, EXIT_QUALIFICATION, qual);
	v12_set(n, GUEST_PHYSICAL_ADDRESS, gpa);
	if (reason == EXIT_REASON_TRIPLE_FAULT) {
		v12_set(n, VM_EXIT_INTR_INFO, 0);
		v12_set(n, IDT_VECTORING_INFO_FIELD, 0);
	}
	for (i = 0; i < vmcs12_nr_guest; i++)
		v12_set(n, vmcs12_guest_fields[i], vmcs_read(vmcs12_guest_fields[i]));
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
	vmx_svmcs_exit(vc);
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

/*
 * A #DB or #AC that only Hyper-box intercepts (VMX_L2_FORCED_EXC): L2
 * gets it as the CPU would have delivered it.  A #DB exit leaves DR6 alone
 * and reports B0-3, BD, BS (and RTM, active low in DR6) in the
 * qualification: they go into L2's DR6, which is the real register while
 * L2 runs, and a general-detect #DB clears DR7.GD as its delivery would.
 * An exception met while another event was being delivered: that event
 * is delivered again instead, and the exception recurs if it is a fault.
 * Returns false when L1 asked for the exception (it gets the exit).
 */
static bool __hv_host forced_exception(struct vmx_cpu *vc, u64 q)
{
	struct vmx_nested *n = vc->n;
	u32 intr = vmcs_read(VM_EXIT_INTR_INFO), vec = intr & INTR_INFO_VECTOR_MASK;
	u64 dr6;

	if ((intr & INTR_INFO_INTR_TYPE_MASK) != INTR_TYPE_HARD_EXCEPTION ||
	    !(VMX_L2_FORCED_EXC & (1U << vec)) || (v12(n, EXCEPTION_BITMAP) & (1U << vec)))
		return false;
	vc->hv.stats->exits[VMX_X_L2_EXC_KEPT]++;
	/* Bit 12 of the exit's interruption information: the exception hit an IRET that unblocked NMIs. */
	requeue_event(intr);
	if (vmcs_read(IDT_VECTORING_INFO_FIELD) & VECTORING_INFO_VALID_MASK)
		return true;
	if (vec == 1) {
		asm volatile("mov %%db6, %0" : "=r"(dr6));
		dr6 = (dr6 & ~0xfULL) | HV_DR6_FIXED | (q & VMX_DBQ_BITS);
		if (q & VMX_DBQ_RTM)
			dr6 &= ~VMX_DBQ_RTM;
		asm volatile("mov %0, %%db6" : : "r"(dr6));
		if (q & VMX_DBQ_BD)
			vmcs_write(GUEST_DR7, vmcs_read(GUEST_DR7) & ~(1ULL << 13));
	}
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, intr & ~INTR_INFO_UNBLOCK_NMI);
	if (intr & INTR_INFO_DELIVER_CODE_MASK)
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(VM_EXIT_INTR_ERROR_CODE));
	vmcs_write(VM_ENTRY_INSTRUCTION_LEN, 0);
	return true;
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
		switch (vmx_shadow_ept_fault(vc, gpa, &q)) {
		case SHADOW_FILLED:
			requeue_event(q);
			if (n->flush_ept) {
				vmx_invept_all();
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
		else if (forced_exception(vc, q))
			return;
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
