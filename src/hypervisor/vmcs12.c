// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested VT-x: VMCS12, the VMCS L1 keeps for its guest.  Its layout in L1
 * memory, the copy taken at VMLAUNCH/VMRESUME, the lists of fields that go
 * between it and the hardware VMCS, and the checks it must pass before any
 * of it reaches the hardware.
 */
#include <asm/processor-flags.h>
#include <asm/msr.h>
#include <linux/mm.h>
#include "vmx_nested.h"

/*
 * L1's VMCS region holds fields in our own layout (the format is
 * implementation-specific): after a 64-byte header (revision, launch
 * state), 8 bytes per field in one block per (width, type), sized for the
 * highest index the SDM defines in that block (64-bit controls reach
 * index 0x2a).  448 slots: 3648 bytes, within the 4 KiB VMCS region.
 */
static const u8 vmcs12_slots[4][4] = {	/* [width][type]: control, exit info, guest, host */
	{ 16, 16, 16, 16 },		/* 16-bit */
	{ 64, 16, 32, 16 },		/* 64-bit */
	{ 32, 32, 32, 32 },		/* 32-bit */
	{ 32, 32, 32, 32 },		/* natural width */
};

int __hv_host vmcs12_off(u64 field)
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


/* Guest state, the same both ways: VMCS12 -> VMCS02 at entry, back at exit. */
const u16 vmcs12_guest_fields[] = {
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
const unsigned int vmcs12_nr_guest = ARRAY_SIZE(vmcs12_guest_fields);

/* Exit information L1 reads after a VM exit from L2. */
const u16 vmcs12_exit_fields[] = {
	VM_EXIT_REASON, EXIT_QUALIFICATION, GUEST_LINEAR_ADDRESS, GUEST_PHYSICAL_ADDRESS,
	VM_EXIT_INTR_INFO, VM_EXIT_INTR_ERROR_CODE, IDT_VECTORING_INFO_FIELD,
	IDT_VECTORING_ERROR_CODE, VM_EXIT_INSTRUCTION_LEN, VMX_INSTRUCTION_INFO,
};
const unsigned int vmcs12_nr_exit = ARRAY_SIZE(vmcs12_exit_fields);

/* The control MSR L1 goes by: the TRUE one where the CPU has it (VMX_BASIC bit 55). */
u64 __hv_host vmcs12_ctl_cap(u32 true_msr, u32 msr)
{
	u64 v = 0;

	if (!vmx_nested_cap_msr(true_msr, &v))
		vmx_nested_cap_msr(msr, &v);
	return v;
}

bool __hv_host vmcs12_ctl_ok(u64 val, u64 cap)
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
bool __hv_host vmcs12_host_state_ok(struct vmx_cpu *vc)
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
u64 __hv_host vmx_cr0_fixed_mask(bool unrestricted)
{
	u64 m = vmx_caps.cr0_fixed0 | ~vmx_caps.cr0_fixed1;

	return unrestricted ? m & ~(X86_CR0_PE | X86_CR0_PG) : m;
}

u64 __hv_host vmx_cr4_fixed_mask(void)
{
	return vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1;
}
