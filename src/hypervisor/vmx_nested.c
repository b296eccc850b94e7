// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested VT-x: L1's VMX instructions (kvm_intel inside the demoted kernel).
 *
 * In VMX non-root operation every VMX instruction exits, so L1's VMX is
 * emulated here with the outcomes the SDM gives: #UD outside VMX operation
 * (or with CR4.VMXE clear for VMXON), #GP(0) at CPL > 0 or for a bad memory
 * operand, VMfailInvalid without a current VMCS, VMfailValid(n) with one.
 * L1's VMCS pointers are guest-physical: each is checked with
 * hv_gmem_map() so that none can name Hyper-box memory.  L1's VMCS
 * (VMCS12) is a region of L1 memory in our own layout (vmcs12.c), read and
 * written by the emulated VMREAD/VMWRITE.
 *
 * The rest of nested VT-x, by concern:
 *   vmcs12.c           VMCS12's layout, its field lists and the checks on it
 *   vmx_nested_entry.c VMLAUNCH/VMRESUME: VMCS02 built from a checked copy
 *   vmx_l2_exit.c      L2's VM exits: kept by Hyper-box or reflected to L1
 *   vmx_shadow_ept.c   the shadow of L1's EPT that L2 really runs on
 */
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/processor-flags.h>
#include <asm/msr.h>
#include "vmx_nested.h"

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
	if (!n->v12 || !n->vmcs02 || !n->msr02 || vmx_shadow_ept_setup(hv, n) ||
	    vmx_svmcs_setup(hv, n))
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
	}	vmx_svmcs_probe();
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

void __hv_host vmx_nested_succeed(struct hv_cpu *c)
{
	c->g.rflags &= ~VMX_FLAGS;
}


void __hv_host vmx_nested_fail(struct hv_cpu *c, struct vmx_cpu *vc, u32 err)
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
			vmx_nested_fail(c, vc, VMXERR_VMXON_IN_ROOT);
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
		vmx_shadow_ept_forget(vc);
		n->cur = VMX_NO_VMCS;
		vmx_nested_succeed(c);
		break;
	case EXIT_REASON_VMOFF:
		vmx_svmcs_switch(vc, VMX_NO_VMCS);
		vmx_shadow_ept_forget(vc);
		n->vmxon = false;
		/* Values L1 wrote for its guests' syscall MSRs go with its VMX operation. */
		memcpy(vc->sys_msr, vc->l1_msr, sizeof(vc->sys_msr));
		vmx_nested_succeed(c);
		break;
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMPTRLD:
		if (read_operand(c, &ptr, 8))
			return;
		if (!vmcs_ptr_ok(c, ptr)) {
			if (!(ptr & ~PAGE_MASK) && ptr < c->hv->npt_top)
				hv_violation(c, HV_V_SVM_INSN, ptr, reason);
			vmx_nested_fail(c, vc, reason == EXIT_REASON_VMCLEAR ? VMXERR_VMCLEAR_BAD_ADDR :
				VMXERR_VMPTRLD_BAD_ADDR);
			break;
		}
		if (ptr == n->vmxon_ptr) {
			vmx_nested_fail(c, vc, reason == EXIT_REASON_VMCLEAR ? VMXERR_VMCLEAR_VMXON_PTR :
				VMXERR_VMPTRLD_VMXON_PTR);
			break;
		}
		if (reason == EXIT_REASON_VMCLEAR) {
			u32 clear = 0;

			hv_gmem_write(c->hv, ptr + VMCS12_LAUNCHED, &clear, 4);
			if (n->cur == ptr)
				vmx_svmcs_switch(vc, VMX_NO_VMCS);
			vmx_nested_succeed(c);
			break;
		}
		hv_gmem_read(c->hv, ptr, &rev, 4);
		if ((rev & 0x7fffffff) != vmx_caps.revision || (rev >> 31)) {
			vmx_nested_fail(c, vc, VMXERR_VMPTRLD_BAD_REVISION);
			break;
		}
		vmx_svmcs_switch(vc, ptr);
		vmx_nested_succeed(c);
		break;
	case EXIT_REASON_VMPTRST: {
		u64 gva, gpa;

		if (insn_mem_operand(c, &gva) || hv_gva_to_gpa(c->hv, c->g.cr3, gva, &gpa, NULL) ||
		    hv_gmem_write(c->hv, gpa, &n->cur, 8)) {
			vmx_inject(c, 13, true, 0);
			return;
		}
		vmx_nested_succeed(c);
		break;
	}
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMWRITE: {
		u32 info = vmcs_read(VMX_INSTRUCTION_INFO);
		u64 field = hv_gpr_get(c, (info >> 28) & 15);

		if (n->cur == VMX_NO_VMCS) {
			vmx_nested_fail(c, vc, 0);
			break;
		}
		off = vmcs12_off(field);
		if (off < 0) {
			vmx_nested_fail(c, vc, VMXERR_BAD_FIELD);
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
				vmx_nested_fail(c, vc, VMXERR_WRITE_RO_FIELD);
				break;
			}
			hv_gmem_write(c->hv, n->cur + off, &val, 8);
		}
		vmx_nested_succeed(c);
		break;
	}
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMRESUME:
		c->stats->l2_runs++;
		if (n->cur == VMX_NO_VMCS) {
			vmx_nested_fail(c, vc, 0);
			break;
		}
		if (vmx_nested_vmentry(vc, reason == EXIT_REASON_VMLAUNCH))
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
				vmx_nested_fail(c, vc, VMXERR_BAD_INV_OPERAND);
				break;
			}
			/* L1 changed its EPT: the shadow of it goes, as the TLB would. */
			vmx_shadow_ept_invept(vc, type, desc[0]);
		} else {
			if (type > VMX_VPID_EXTENT_SINGLE_NON_GLOBAL ||
			    (type != VMX_VPID_EXTENT_ALL_CONTEXT && !(desc[0] & 0xffff)) ||
			    (desc[0] >> 16)) {
				vmx_nested_fail(c, vc, VMXERR_BAD_INV_OPERAND);
				break;
			}
			/* Every L2 runs with VPID 2. */
			vmx_invvpid_l2();
		}
		vmx_nested_succeed(c);
		break;
	}
	default:
		vmx_inject(c, 6, false, 0);
		return;
	}
	c->g.rip += vmcs_read(VM_EXIT_INSTRUCTION_LEN);
}

