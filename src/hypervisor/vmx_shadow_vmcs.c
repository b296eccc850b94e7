// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested VT-x: VMCS shadowing for L1's VMREAD/VMWRITE.
 *
 * Without it every VMREAD and VMWRITE kvm_intel issues is a VM exit to
 * Hyper-box (about 8 VMREADs and 5 VMWRITEs per exit of an L2).  With the
 * CPU's "VMCS shadowing" control on in VMCS01, L1's VMREAD/VMWRITE of the
 * fields listed below go to a shadow VMCS (one per CPU, in the arena)
 * without an exit; every other field still exits (the bitmaps have its bit
 * set) and is emulated on VMCS12 in L1 memory (vmx_nested.c).
 *
 * A listed field lives in the shadow while L1 has a current VMCS, and only
 * there: it is copied from VMCS12 into the shadow at VMPTRLD, back at
 * VMCLEAR, VMXOFF and at a VMPTRLD of another VMCS.  At VMLAUNCH/VMRESUME
 * it is read from the shadow into the private copy that is checked
 * (vmx_nested_entry.c), so the checks see what L1 wrote; a VM exit
 * reflected to L1 writes L2's state and the exit information into the
 * shadow as well as into VMCS12 (vmx_l2_exit.c).
 *
 * Shadowing is off while L1 has no current VMCS: L1's VMREAD/VMWRITE then
 * exit and get the SDM's #UD or VMfailInvalid from the emulation.  The
 * exit-information fields are read-only for L1; Hyper-box can write them
 * into the shadow only where the CPU allows VMWRITE to them (IA32_VMX_MISC
 * bit 29), otherwise they are left to the emulation.  VMWRITE to them
 * always exits (VMfailValid(13) from the emulation).
 *
 * The shadow holds no security state: everything L1 writes there is
 * copied and checked before it reaches VMCS02, exactly as the fields in
 * VMCS12 memory are.  `vmcs_shadowing=0` turns it off, for comparison.
 */
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/string.h>
#include "vmx_nested.h"

static bool vmcs_shadowing = true;
module_param(vmcs_shadowing, bool, 0444);
MODULE_PARM_DESC(vmcs_shadowing, "VT-x: let kvm_intel's VMREAD/VMWRITE of common fields run without an exit (VMCS shadowing, where the CPU has it)");

/*
 * Fields L1 reads and writes without an exit: those kvm_intel touches around
 * an L2 exit (its register cache, event injection, interrupt windows, the
 * host state it refreshes before VMRESUME).
 */
static const u16 shadow_rw[] = {
	GUEST_RIP, GUEST_RSP, GUEST_RFLAGS, GUEST_INTERRUPTIBILITY_INFO, GUEST_ACTIVITY_STATE,
	GUEST_PENDING_DBG_EXCEPTIONS, GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_DR7,
	GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES, GUEST_SS_AR_BYTES,
	GUEST_ES_BASE, GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE, GUEST_SS_BASE,
	CPU_BASED_VM_EXEC_CONTROL, PIN_BASED_VM_EXEC_CONTROL, SECONDARY_VM_EXEC_CONTROL,
	VM_ENTRY_CONTROLS, VM_EXIT_CONTROLS, EXCEPTION_BITMAP,
	VM_ENTRY_INTR_INFO_FIELD, VM_ENTRY_EXCEPTION_ERROR_CODE, VM_ENTRY_INSTRUCTION_LEN,
	TSC_OFFSET, CR0_READ_SHADOW, CR4_READ_SHADOW, CR0_GUEST_HOST_MASK, CR4_GUEST_HOST_MASK,
	HOST_RSP, HOST_CR3, HOST_FS_BASE, HOST_GS_BASE, HOST_FS_SELECTOR, HOST_GS_SELECTOR,
	PLE_WINDOW, PLE_GAP,
};

static bool svmcs_on __ro_after_init;	/* the CPU has shadowing and vmcs_shadowing=1 */
static bool svmcs_ro __ro_after_init;	/* the host may VMWRITE exit-information fields */

void vmx_svmcs_probe(void)
{
	u64 proc2 = 0, misc = 0;

	rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS2, &proc2);
	rdmsrl_safe(MSR_IA32_VMX_MISC, &misc);
	svmcs_on = vmcs_shadowing && ((proc2 >> 32) & SECONDARY_EXEC_SHADOW_VMCS);
	svmcs_ro = svmcs_on && (misc & MSR_IA32_VMX_MISC_VMWRITE_SHADOW_RO_FIELDS);
	if (svmcs_on)
		pr_info(HV_NAME ": VMCS shadowing on: %u fields read and written by L1 without an exit, %u read-only%s\n",
			(unsigned int)ARRAY_SIZE(shadow_rw), svmcs_ro ? vmcs12_nr_exit : 0,
			svmcs_ro ? "" : " (the CPU cannot VMWRITE exit information)");
	else
		pr_info(HV_NAME ": VMCS shadowing off (%s): every VMREAD/VMWRITE of L1 exits\n",
			vmcs_shadowing ? "not on this CPU" : "vmcs_shadowing=0");
}

static void bitmap_allow(u8 *bm, u16 field)
{
	bm[(field & 0x7fff) / 8] &= ~(1U << (field % 8));
}

int vmx_svmcs_setup(struct hv *hv, struct vmx_nested *n)
{
	unsigned int i;

	if (!svmcs_on)
		return 0;
	n->svmcs = hv_arena_alloc(&hv->arena, PAGE_SIZE, &n->svmcs_pa);
	n->vmread_bm = hv_arena_alloc(&hv->arena, PAGE_SIZE, &n->vmread_bm_pa);
	n->vmwrite_bm = hv_arena_alloc(&hv->arena, PAGE_SIZE, &n->vmwrite_bm_pa);
	if (!n->svmcs || !n->vmread_bm || !n->vmwrite_bm)
		return -ENOMEM;
	/* Bit 31 of the revision: a shadow VMCS, which VMREAD/VMWRITE in non-root operation reach. */
	*(u32 *)n->svmcs = vmx_caps.revision | (1U << 31);
	memset(n->vmread_bm, 0xff, PAGE_SIZE);
	memset(n->vmwrite_bm, 0xff, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(shadow_rw); i++) {
		bitmap_allow(n->vmread_bm, shadow_rw[i]);
		bitmap_allow(n->vmwrite_bm, shadow_rw[i]);
	}
	for (i = 0; svmcs_ro && i < vmcs12_nr_exit; i++)
		bitmap_allow(n->vmread_bm, vmcs12_exit_fields[i]);
	return 0;
}

/* The copy's listed fields into the shadow VMCS; `back` is current afterwards. */
static void __hv_host copy_to_shadow(struct vmx_nested *n, u64 back)
{
	unsigned int i;

	vmptrld(n->svmcs_pa);
	for (i = 0; i < ARRAY_SIZE(shadow_rw); i++)
		vmcs_write(shadow_rw[i], v12(n, shadow_rw[i]));
	for (i = 0; svmcs_ro && i < vmcs12_nr_exit; i++)
		vmcs_write(vmcs12_exit_fields[i], v12(n, vmcs12_exit_fields[i]));
	vmptrld(back);
}

/* The shadow VMCS's read-write fields into the copy (the read-only ones only the host writes). */
static void __hv_host copy_from_shadow(struct vmx_nested *n, u64 back)
{
	unsigned int i;

	vmptrld(n->svmcs_pa);
	for (i = 0; i < ARRAY_SIZE(shadow_rw); i++)
		v12_set(n, shadow_rw[i], vmcs_read(shadow_rw[i]));
	vmptrld(back);
}

/*
 * L1's current VMCS becomes `ptr` (VMX_NO_VMCS: none).  VMCS01 is current.
 * The old one's listed fields go back to its VMCS12 in L1 memory, the new
 * one's come into the shadow, and shadowing is on exactly while L1 has a
 * current VMCS.
 */
void __hv_host vmx_svmcs_switch(struct vmx_cpu *vc, u64 ptr)
{
	struct hv *hv = vc->hv.hv;
	struct vmx_nested *n = vc->n;
	u64 proc2;

	if (!svmcs_on || ptr == n->cur) {
		n->cur = ptr;
		return;
	}
	if (n->cur != VMX_NO_VMCS && n->svmcs_live &&
	    !hv_gmem_read(hv, n->cur, n->v12, VMCS12_SIZE)) {
		copy_from_shadow(n, vc->vmcs01_pa);
		hv_gmem_write(hv, n->cur + VMCS12_HDR, n->v12 + VMCS12_HDR, VMCS12_SIZE - VMCS12_HDR);
	}
	n->cur = ptr;
	proc2 = vmcs_read(SECONDARY_VM_EXEC_CONTROL) & ~(u64)SECONDARY_EXEC_SHADOW_VMCS;
	n->svmcs_live = ptr != VMX_NO_VMCS && !hv_gmem_read(hv, ptr, n->v12, VMCS12_SIZE);
	if (!n->svmcs_live) {
		vmcs_write(SECONDARY_VM_EXEC_CONTROL, proc2);
		vmcs_write(VMCS_LINK_POINTER, -1ULL);
		return;
	}
	if (!n->svmcs_clear) {
		/* A VMCS region is used only after a VMCLEAR on this CPU has put it in a known state. */
		asm volatile("vmclear %0" : : "m"(n->svmcs_pa) : "cc", "memory");
		n->svmcs_clear = true;
	}
	copy_to_shadow(n, vc->vmcs01_pa);
	vmcs_write(VMREAD_BITMAP, n->vmread_bm_pa);
	vmcs_write(VMWRITE_BITMAP, n->vmwrite_bm_pa);
	vmcs_write(VMCS_LINK_POINTER, n->svmcs_pa);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, proc2 | SECONDARY_EXEC_SHADOW_VMCS);
	vc->hv.stats->svmcs_loads++;
}

/* VMLAUNCH/VMRESUME: what L1 wrote into the shadow joins the copy about to be checked. */
void __hv_host vmx_svmcs_entry(struct vmx_cpu *vc)
{
	if (vc->n->svmcs_live)
		copy_from_shadow(vc->n, vc->vmcs01_pa);
}

/*
 * A VM exit reflected to L1, VMCS02 current: L2's state and the exit
 * information into the shadow as L1 will read them.  VMCS01 is current
 * afterwards.
 */
void __hv_host vmx_svmcs_exit(struct vmx_cpu *vc)
{
	if (vc->n->svmcs_live)
		copy_to_shadow(vc->n, vc->vmcs01_pa);
	else
		vmptrld(vc->vmcs01_pa);
}
