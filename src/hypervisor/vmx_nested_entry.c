// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested VT-x: L1's VMLAUNCH/VMRESUME.  VMCS12 is copied into the arena,
 * then checked on the copy: controls within what L1 was offered (the VMX
 * capability MSRs L1 reads are filtered to what is implemented here), L1's
 * EPT pointer and, for a root seen for the first time, every table it
 * reaches (no leaf may map Hyper-box memory, or protected memory
 * writable), and the host state L1 will be given back at the VM exit.  The
 * hardware VMCS for L2 (VMCS02) is built from the copy with Hyper-box's own
 * host state, external-interrupt and NMI exiting, an MSR bitmap that keeps
 * the syscall, feature control and VMX capability MSRs, VPID 2 (L1 has 1)
 * and a shadow EPT (vmx_shadow_ept.c).  The hardware then checks the rest:
 * a VMfail on VMCS02 is L1's VMfail with the same error number, a failed
 * guest-state check is the VM exit L1 would get.
 */
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/processor-flags.h>
#include <asm/msr.h>
#include "monitor.h"
#include "vmx_nested.h"

/* Controls L1 sets for L2 that reach VMCS02 unchanged (within the checked controls). */
static const u16 vmcs12_ctl_fields[] = {
	EXCEPTION_BITMAP, PAGE_FAULT_ERROR_CODE_MASK, PAGE_FAULT_ERROR_CODE_MATCH,
	CR3_TARGET_COUNT, CR3_TARGET_VALUE0, CR3_TARGET_VALUE1, CR3_TARGET_VALUE2,
	CR3_TARGET_VALUE3, VM_ENTRY_INTR_INFO_FIELD, VM_ENTRY_EXCEPTION_ERROR_CODE,
	VM_ENTRY_INSTRUCTION_LEN, TSC_OFFSET,
};

/* Hyper-box's host state, the same in VMCS01 and VMCS02. */
static const u16 vmcs12_host_fields[] = {
	HOST_CR0, HOST_CR3, HOST_CR4, HOST_ES_SELECTOR, HOST_CS_SELECTOR, HOST_SS_SELECTOR,
	HOST_DS_SELECTOR, HOST_FS_SELECTOR, HOST_GS_SELECTOR, HOST_TR_SELECTOR, HOST_FS_BASE,
	HOST_GS_BASE, HOST_TR_BASE, HOST_GDTR_BASE, HOST_IDTR_BASE, HOST_IA32_SYSENTER_CS,
	HOST_IA32_SYSENTER_ESP, HOST_IA32_SYSENTER_EIP, HOST_IA32_EFER, HOST_IA32_PAT,
	HOST_RSP, HOST_RIP,
};

static void __hv_host vmcs02_controls(struct vmx_cpu *vc)
{
	struct vmx_nested *n = vc->n;
	struct hv *hv = vc->hv.hv;
	u64 pin = v12(n, PIN_BASED_VM_EXEC_CONTROL), proc = v12(n, CPU_BASED_VM_EXEC_CONTROL);
	u64 proc2 = proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? v12(n, SECONDARY_VM_EXEC_CONTROL) : 0;
	u64 exit = v12(n, VM_EXIT_CONTROLS), entry = v12(n, VM_ENTRY_CONTROLS);
	u64 m0 = vmx_cr0_fixed_mask(proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST), m4 = vmx_cr4_fixed_mask();
	u64 mask0 = v12(n, CR0_GUEST_HOST_MASK), mask4 = v12(n, CR4_GUEST_HOST_MASK);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vmcs12_ctl_fields); i++)
		vmcs_write(vmcs12_ctl_fields[i], v12(n, vmcs12_ctl_fields[i]));
	/*
	 * #DB and #AC can recur in their own delivery without a VM exit (a
	 * CPU hang: CVE-2015-5307, CVE-2015-8104): they always exit, and go
	 * back to L2 when L1 did not ask for them (vmx_l2_exit.c).
	 */
	vmcs_write(EXCEPTION_BITMAP, v12(n, EXCEPTION_BITMAP) | VMX_L2_FORCED_EXC);
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
	vmcs_write(EPT_POINTER, (proc2 & SECONDARY_EXEC_ENABLE_EPT ? n->shadow[n->cur_sh].root_pa : hv->npt_root_pa) |
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
bool __hv_host vmx_nested_vmentry(struct vmx_cpu *vc, bool launch)
{
	struct hv_cpu *c = &vc->hv;
	struct vmx_nested *n = vc->n;
	u64 pin, proc, proc2, exit, entry, eptp, bad = 0, hostv[ARRAY_SIZE(vmcs12_host_fields)];
	u64 efer, pat, dr7, debugctl;
	u32 state = 0, vpid;
	unsigned int i;
	int sh, viol;

	hv_gmem_read(c->hv, n->cur + VMCS12_LAUNCHED, &state, 4);
	if (launch && state) {
		vmx_nested_fail(c, vc, VMXERR_VMLAUNCH_NOT_CLEAR);
		return false;
	}
	if (!launch && !state) {
		vmx_nested_fail(c, vc, VMXERR_VMRESUME_NOT_LAUNCHED);
		return false;
	}
	/* From here on only the copy is used: L1 cannot change it between check and use. */
	if (hv_gmem_read(c->hv, n->cur, n->v12, VMCS12_SIZE)) {
		vmx_nested_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
		return false;
	}
	vmx_svmcs_entry(vc);
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
			vmx_nested_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
			return false;
		}
		eptp &= EPT_ADDR;
		/*
		 * Checked before the other controls, so that an EPT reaching
		 * Hyper-box memory is refused and counted whatever else is
		 * wrong with the VMCS.  L1 changes its EPT and then flushes
		 * (INVEPT), as it must for the TLB: that root's shadow is
		 * emptied then.  A root without a shadow on this CPU is walked
		 * whole so that a bad table is refused at entry; every entry
		 * is checked again as the shadow is filled, which is what keeps
		 * L2 out of Hyper-box memory (a kept shadow holds only entries
		 * that passed that check).
		 */
		sh = vmx_shadow_ept_find(n, eptp);
		if (sh < 0) {
			n->tables = 0;
			viol = hv_nested_validate(c->hv, eptp, 4, EPT_RWX, n->rsvd_mask, &n->tables, &bad);
			if (viol >= 0) {
				hv_violation(c, viol, bad, eptp);
				vmx_nested_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
				return false;
			}
		}
		vmx_shadow_ept_use(vc, sh, eptp);
	}
	if (!vmcs12_ctl_ok(pin, vmcs12_ctl_cap(MSR_IA32_VMX_TRUE_PINBASED_CTLS, MSR_IA32_VMX_PINBASED_CTLS)) ||
	    !vmcs12_ctl_ok(proc, vmcs12_ctl_cap(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS)) ||
	    !vmcs12_ctl_ok(proc2, vmcs12_ctl_cap(MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_PROCBASED_CTLS2)) ||
	    !vmcs12_ctl_ok(exit, vmcs12_ctl_cap(MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_EXIT_CTLS)) ||
	    !vmcs12_ctl_ok(entry, vmcs12_ctl_cap(MSR_IA32_VMX_TRUE_ENTRY_CTLS, MSR_IA32_VMX_ENTRY_CTLS)) ||
	    ((proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST) && !(proc2 & SECONDARY_EXEC_ENABLE_EPT)) ||
	    ((proc2 & SECONDARY_EXEC_ENABLE_VPID) && !vpid) ||
	    ((pin & PIN_BASED_VIRTUAL_NMIS) && !(pin & PIN_BASED_NMI_EXITING)) ||
	    v12(n, CR3_TARGET_COUNT) > 4 ||
	    ((proc & CPU_BASED_USE_MSR_BITMAPS) && (v12(n, MSR_BITMAP) & ~PAGE_MASK)) ||
	    v12(n, VM_EXIT_MSR_STORE_COUNT) || v12(n, VM_EXIT_MSR_LOAD_COUNT) ||
	    v12(n, VM_ENTRY_MSR_LOAD_COUNT)) {
		vmx_nested_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
		return false;
	}
	if (build_msr02(vc)) {
		vmx_nested_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
		return false;
	}
	if (!vmcs12_host_state_ok(vc)) {
		vmx_nested_fail(c, vc, VMXERR_ENTRY_BAD_HOST);
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
		for (i = 0; i < ARRAY_SIZE(vmcs12_host_fields); i++)
			hostv[i] = vmcs_read(vmcs12_host_fields[i]);
	if (n->launch02)
		asm volatile("vmclear %0" : : "m"(n->vmcs02_pa) : "cc", "memory");
	if (!vmptrld(n->vmcs02_pa)) {
		vmptrld(vc->vmcs01_pa);
		vmx_nested_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
		return false;
	}
	n->in_l2 = true;
	if (!n->host02) {
		for (i = 0; i < ARRAY_SIZE(vmcs12_host_fields); i++)
			vmcs_write(vmcs12_host_fields[i], hostv[i]);
		n->host02 = true;
	}
	vmcs02_controls(vc);
	for (i = 0; i < vmcs12_nr_guest; i++)
		vmcs_write(vmcs12_guest_fields[i], v12(n, vmcs12_guest_fields[i]));
	vmcs_write(GUEST_IA32_EFER, efer);
	vmcs_write(GUEST_IA32_PAT, pat);
	vmcs_write(GUEST_DR7, dr7);
	vmcs_write(GUEST_IA32_DEBUGCTL, debugctl);
	/* L1 without VPIDs for L2 (or a new VPID) expects a TLB free of the last guest's entries. */
	if (!(proc2 & SECONDARY_EXEC_ENABLE_VPID) || vpid != n->vpid12)
		vmx_invvpid_l2();
	n->vpid12 = proc2 & SECONDARY_EXEC_ENABLE_VPID ? vpid : 0;
	if (proc2 & SECONDARY_EXEC_ENABLE_EPT)
		vmx_shadow_ept_prefill(vc);
	n->ahead_gpa = 0;
	if (n->flush_ept) {
		vmx_invept_all();
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
	vmx_nested_fail(c, vc, err);
	vmcs_write(GUEST_RIP, c->g.rip);
	vmcs_write(GUEST_RFLAGS, c->g.rflags);
	return 0;
}
