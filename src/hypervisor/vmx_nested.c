// SPDX-License-Identifier: GPL-2.0-only
/*
 * L1's VMX instructions (kvm_intel inside the demoted kernel).
 *
 * In VMX non-root operation every VMX instruction exits, so L1's VMX is
 * emulated here with the outcomes the SDM gives: #UD outside VMX operation
 * (or with CR4.VMXE clear for VMXON), #GP(0) at CPL > 0 or for a bad memory
 * operand, VMfailInvalid without a current VMCS, VMfailValid(n) with one.
 * L1's VMCS pointers are guest-physical: each is checked with
 * hv_gmem_map() so that none can name Hyper-box memory.
 *
 * VMLAUNCH/VMRESUME: L1's EPT pointer is checked and every EPT table it
 * reaches is walked (read through hv_gmem_map, so a table in Hyper-box
 * memory is itself a violation): no leaf may map Hyper-box memory, or
 * protected memory writable.  A failed check is VMfailValid(7, "VM entry
 * with invalid control fields"), counted and logged as
 * nested_map_hidden/nested_map_protected.  Running L2 on the hardware is not
 * implemented yet: a VMCS that passes is refused the same way (the AMD-V
 * backend's first version answered VMRUN with VMEXIT_INVALID likewise).
 */
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/processor-flags.h>
#include "vmx.h"

#define VMX_NO_VMCS	(~0ULL)
/* SDM "VM-instruction error numbers" */
#define VMXERR_VMCLEAR_BAD_ADDR		2
#define VMXERR_VMCLEAR_VMXON_PTR	3
#define VMXERR_VMLAUNCH_NOT_CLEAR	4
#define VMXERR_VMRESUME_NOT_LAUNCHED	5
#define VMXERR_ENTRY_BAD_CONTROLS	7
#define VMXERR_VMPTRLD_BAD_ADDR		9
#define VMXERR_VMPTRLD_VMXON_PTR	10
#define VMXERR_VMPTRLD_BAD_REVISION	11
#define VMXERR_BAD_FIELD		12
#define VMXERR_VMXON_IN_ROOT		15
#define VMXERR_BAD_INV_OPERAND		28

#define EPT_RWX		7ULL
#define EPT_W		(1ULL << 1)
#define EPT_PS		(1ULL << 7)
#define EPT_ADDR	0x000ffffffffff000ULL
#define EPT_MAX_TABLES	8192		/* bounds the host's time per VMLAUNCH */

struct vmx_nested {
	bool vmxon;
	unsigned int tables;		/* EPT tables walked by the current check */
	u64 vmxon_ptr, cur;	/* L1's current-VMCS pointer */
};

int vmx_nested_setup(struct hv *hv, struct vmx_cpu *vc)
{
	vc->n = hv_arena_alloc(&hv->arena, sizeof(*vc->n), NULL);
	if (!vc->n)
		return -ENOMEM;
	vc->n->cur = VMX_NO_VMCS;
	return 0;
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

/* Does [pa, pa + len) touch Hyper-box memory, or (if writable) protected memory? */
static int __hv_host ept_leaf_check(struct hv *hv, u64 pa, u64 len, bool writable)
{
	unsigned int i;

	for (i = 0; i < hv->arena.nr; i++)
		if (pa < hv->arena.pa[i] + (PAGE_SIZE << HV_ARENA_ORDER) && hv->arena.pa[i] < pa + len)
			return HV_V_NESTED_HIDDEN;
	for (i = 0; i < hv->nr_ranges; i++) {
		const struct hv_range *r = &hv->ranges[i];

		if (pa < r->end && r->start < pa + len && (r->kind == HV_PROT_HIDDEN || writable))
			return r->kind == HV_PROT_HIDDEN ? HV_V_NESTED_HIDDEN : HV_V_NESTED_PROTECTED;
	}
	return -1;
}

/* -1 if the EPT table at table_pa (level 4..1) and all below it are acceptable, else the violation. */
static int __hv_host ept_validate(struct vmx_cpu *vc, u64 table_pa, int level, u64 *bad)
{
	struct hv *hv = vc->hv.hv;
	const u64 *t;
	int i, v;

	if (++vc->n->tables > EPT_MAX_TABLES) {
		*bad = table_pa;
		return HV_V_NESTED_VMCB;
	}
	t = hv_gmem_map(hv, table_pa, PAGE_SIZE, false);
	if (!t) {
		*bad = table_pa;
		return HV_V_NESTED_HIDDEN;
	}
	for (i = 0; i < 512; i++) {
		u64 e = READ_ONCE(t[i]), pa = e & EPT_ADDR;

		if (!(e & EPT_RWX))
			continue;		/* not present */
		if (level == 1 || ((level == 2 || level == 3) && (e & EPT_PS))) {
			u64 size = 1ULL << (12 + 9 * (level - 1));

			pa &= ~(size - 1);
			v = ept_leaf_check(hv, pa, size, e & EPT_W);
			if (v >= 0) {
				*bad = pa;
				return v;
			}
			continue;
		}
		v = ept_validate(vc, pa, level - 1, bad);
		if (v >= 0)
			return v;
	}
	return -1;
}

static u64 __hv_host vmcs12_read(struct hv_cpu *c, struct vmx_cpu *vc, u64 field)
{
	u64 v = 0;

	hv_gmem_read(c->hv, vc->n->cur + vmcs12_off(field), &v, 8);
	return v;
}

/* VMLAUNCH/VMRESUME from L1: the checks before any L2 could run. */
static void __hv_host nested_vmentry(struct vmx_cpu *vc, bool launch)
{
	struct hv_cpu *c = &vc->hv;
	u32 state = 0;
	u64 proc, proc2, eptp, bad = 0;
	int viol;

	hv_gmem_read(c->hv, vc->n->cur + VMCS12_LAUNCHED, &state, 4);
	if (launch && state) {
		vm_fail(c, vc, VMXERR_VMLAUNCH_NOT_CLEAR);
		return;
	}
	if (!launch && !state) {
		vm_fail(c, vc, VMXERR_VMRESUME_NOT_LAUNCHED);
		return;
	}
	proc = vmcs12_read(c, vc, CPU_BASED_VM_EXEC_CONTROL);
	proc2 = vmcs12_read(c, vc, SECONDARY_VM_EXEC_CONTROL);
	eptp = vmcs12_read(c, vc, EPT_POINTER);
	/* Without EPT, L2 would run on L1's paging of host-physical memory: never. */
	if (!(proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) || !(proc2 & SECONDARY_EXEC_ENABLE_EPT) ||
	    ((eptp & VMX_EPTP_MT_MASK) != VMX_EPTP_MT_WB && (eptp & VMX_EPTP_MT_MASK) != VMX_EPTP_MT_UC) ||
	    (eptp & VMX_EPTP_PWL_MASK) != VMX_EPTP_PWL_4 || (eptp & 0xf80)) {
		vm_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
		return;
	}
	vc->n->tables = 0;
	viol = ept_validate(vc, eptp & EPT_ADDR, 4, &bad);
	if (viol >= 0) {
		hv_violation(c, viol, bad, eptp);
		vm_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
		return;
	}
	/* Running L2 is not implemented yet (see the header comment). */
	vm_fail(c, vc, VMXERR_ENTRY_BAD_CONTROLS);
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
		nested_vmentry(vc, reason == EXIT_REASON_VMLAUNCH);
		break;
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID: {
		u32 info = vmcs_read(VMX_INSTRUCTION_INFO);
		u64 type = hv_gpr_get(c, (info >> 28) & 15), desc[2];

		if (read_operand(c, desc, sizeof(desc)))
			return;
		if (type > 3 || (reason == EXIT_REASON_INVEPT && (type == 0 || type == 3))) {
			vm_fail(c, vc, VMXERR_BAD_INV_OPERAND);
			break;
		}
		/* No L2 translations exist yet; our own EPT/VPID entries are unaffected. */
		vm_succeed(c);
		break;
	}
	default:
		vmx_inject(c, 6, false, 0);
		return;
	}
	c->g.rip += vmcs_read(VM_EXIT_INSTRUCTION_LEN);
}
