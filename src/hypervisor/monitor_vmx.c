// SPDX-License-Identifier: GPL-2.0-only
/*
 * Escape monitor, VT-x glue: the debug registers, the #DB exception exit
 * and L1's own debug-register accesses (MOV-DR exiting).
 *
 * The monitor owns DR0-3 and DR7 on every CPU while L1 runs.  DR7 is a
 * VMCS field (GUEST_DR7, loaded at entry by "load debug controls"; a VM
 * exit sets the real DR7 to 0x400, so the host never trips over the
 * breakpoints).  DR0-3 are not switched by VMX: the host loads them once
 * at launch and swaps them around L2 (vmx_nested.c), where they are L1's
 * to give.  L1's MOVs to and from any debug register exit: DR0-3 and DR7
 * are a private copy (hv_mon_vdr), so ptrace/perf hardware breakpoints do
 * not fire while the monitor runs; DR6 is the real register, which the
 * host writes when it gives a #DB back.
 *
 * The 32-bit entries (int 0x80, SYSCALL through CSTAR, SYSENTER from
 * compatibility mode) are not refused on VT-x yet (vmx_probe says so).
 */
#include <linux/kernel.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include <asm/processor.h>
#include "vmx.h"
#include "monitor.h"

#define DR7_FIXED	0x400ULL
/* DR7 bits L1 cannot keep: GD (the host decodes MOV DR itself), and reserved 12, 14, 15. */
#define DR7_DROPPED	((1ULL << 12) | (1ULL << 13) | (1ULL << 14) | (1ULL << 15))
#define DR6_FIXED	0xffff0ff0ULL
/* Exit qualification of a #DB: B0-3, BD, BS as in DR6; bit 16 set for RTM (active low in DR6). */
#define DBQ_BITS	0x600fULL
#define DBQ_RTM		0x10000ULL

#define DR_GET(n, v)	asm volatile("mov %%db" #n ", %0" : "=r"(v))
#define DR_SET(n, v)	asm volatile("mov %0, %%db" #n : : "r"((u64)(v)))

static u64 __hv_host vmx_mon_dr7(const struct hv *hv)
{
	u64 v = DR7_FIXED;
	int i;

	for (i = 0; i < HV_BP_NR; i++)
		if (hv_mon_bp_addr(hv, i))
			v |= 1ULL << (i * 2);	/* Ln: local enable, execute, length 1 */
	return v;
}

static void __hv_host vmx_mon_load_bps(const struct hv *hv)
{
	DR_SET(0, hv_mon_bp_addr(hv, 0));
	DR_SET(1, hv_mon_bp_addr(hv, 1));
	DR_SET(2, hv_mon_bp_addr(hv, 2));
	DR_SET(3, hv_mon_bp_addr(hv, 3));
}

static void __hv_host vmx_mon_load_vdr(struct hv_cpu *c)
{
	u64 *vdr = hv_mon_vdr(c, 0);

	DR_SET(0, vdr[0]);
	DR_SET(1, vdr[1]);
	DR_SET(2, vdr[2]);
	DR_SET(3, vdr[3]);
}

/* On the CPU, IRQs off, VMCS01 current and filled, just before VMLAUNCH. */
void vmx_mon_vmcs_setup(struct vmx_cpu *vc)
{
	struct hv *hv = vc->hv.hv;
	u64 *vdr;

	if (!hv->mon)
		return;
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL,
		   vmcs_read(CPU_BASED_VM_EXEC_CONTROL) | CPU_BASED_MOV_DR_EXITING);
	vmcs_write(EXCEPTION_BITMAP, vmcs_read(EXCEPTION_BITMAP) | (1U << X86_TRAP_DB));
	/* L1 keeps what it had, virtually. */
	vdr = hv_mon_vdr(&vc->hv, 0);
	DR_GET(0, vdr[0]);
	DR_GET(1, vdr[1]);
	DR_GET(2, vdr[2]);
	DR_GET(3, vdr[3]);
	DR_GET(7, *hv_mon_vdr(&vc->hv, 7));
	vmx_mon_load_bps(hv);
	vmcs_write(GUEST_DR7, vmx_mon_dr7(hv));
}

/* VMLAUNCH was refused: the kernel's own DR0-3 back (DR7 was never changed). */
void vmx_mon_launch_failed(struct vmx_cpu *vc)
{
	if (vc->hv.hv->mon)
		vmx_mon_load_vdr(&vc->hv);
}

/* Host, leaving Ring -1 on this CPU: the bare-metal kernel gets its debug registers back. */
void __hv_host vmx_mon_leave(struct vmx_cpu *vc)
{
	if (!vc->hv.hv->mon)
		return;
	vmx_mon_load_vdr(&vc->hv);
	DR_SET(7, *hv_mon_vdr(&vc->hv, 7));
}

/*
 * Around L2 (vmx_nested.c): a VM entry does not switch DR0-3, so L2 runs
 * with the ones L1 believes it has; L2 may write them (KVM lets a guest
 * that debugs itself do so): on the way back to L1 they are L1's virtual
 * ones and the monitor's are loaded again.  DR7 for L1 after an emulated
 * exit is 0x400, as a CPU sets it, and the monitor's in the VMCS.
 */
void __hv_host vmx_mon_l2_enter(struct vmx_cpu *vc)
{
	if (vc->hv.hv->mon)
		vmx_mon_load_vdr(&vc->hv);
}

/* The entry to L2 failed: L1 carries on, with the monitor's DR0-3. */
void __hv_host vmx_mon_l2_refused(struct vmx_cpu *vc)
{
	if (vc->hv.hv->mon)
		vmx_mon_load_bps(vc->hv.hv);
}

u64 __hv_host vmx_mon_l1_dr7(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;
	u64 *vdr;

	if (!c->hv->mon)
		return DR7_FIXED;
	vdr = hv_mon_vdr(c, 0);
	DR_GET(0, vdr[0]);
	DR_GET(1, vdr[1]);
	DR_GET(2, vdr[2]);
	DR_GET(3, vdr[3]);
	*hv_mon_vdr(c, 7) = DR7_FIXED;
	vmx_mon_load_bps(c->hv);
	return vmx_mon_dr7(c->hv);
}

/* L2's DR7 when L1 does not load one: L1's own (virtual) DR7, not the monitor's. */
u64 __hv_host vmx_mon_dr7_for_l2(struct vmx_cpu *vc, u64 vmcs01_dr7)
{
	return vc->hv.hv->mon ? *hv_mon_vdr(&vc->hv, 7) : vmcs01_dr7;
}

static int __hv_host vmx_mon_db(struct vmx_cpu *vc, u32 info)
{
	struct hv_cpu *c = &vc->hv;
	u64 q = vmcs_read(EXIT_QUALIFICATION), dr6;
	int i;

	for (i = 0; i < HV_BP_NR && c->g.cpl == 0 && (q & DBQ_BITS & ~0xfULL) == 0; i++) {
		if (c->g.rip != hv_mon_bp_addr(c->hv, i))
			continue;
		if (hv_mon_breakpoint(c, i))
			c->g.rflags |= X86_EFLAGS_RF;
		return 0;
	}
	/*
	 * Single step, INT1, a task switch: L1's.  A #DB that exits leaves
	 * DR6 alone, and an injected one does not set it: the host writes
	 * what the CPU would have.  Instruction breakpoints are never L1's
	 * (its DR0-3 are virtual), so B0-3 are not passed on.
	 */
	dr6 = DR6_FIXED | (q & DBQ_BITS & ~0xfULL);
	if (q & DBQ_RTM)
		dr6 &= ~DBQ_RTM;
	asm volatile("mov %0, %%db6" : : "r"(dr6));
	hv_mon_count_reflected(c);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info & (INTR_INFO_VECTOR_MASK | INTR_INFO_INTR_TYPE_MASK |
						     INTR_INFO_VALID_MASK));
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VM_EXIT_INSTRUCTION_LEN));
	return 0;
}

/* Exceptions in the exception bitmap: #DB while the monitor is on. */
int __hv_host vmx_mon_exit_exception(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;
	u32 info = vmcs_read(VM_EXIT_INTR_INFO);

	if (c->hv->mon && (info & INTR_INFO_VALID_MASK) &&
	    (info & INTR_INFO_VECTOR_MASK) == X86_TRAP_DB &&
	    ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION ||
	     (info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION))
		return vmx_mon_db(vc, info);
	/* Nothing else is in the bitmap: give it back as it came. */
	if (info & INTR_INFO_VALID_MASK) {
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info & ~INTR_INFO_UNBLOCK_NMI);
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(VM_EXIT_INTR_ERROR_CODE));
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VM_EXIT_INSTRUCTION_LEN));
	}
	return 0;
}

/*
 * MOV to/from a debug register by L1 (MOV-DR exiting).  The exit names
 * the register and the GPR, so nothing is decoded.  A write the host could
 * not load later (upper half of DR6/DR7, a non-canonical DR0-3) gets #GP.
 */
int __hv_host vmx_mon_exit_dr(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;
	u64 q = vmcs_read(EXIT_QUALIFICATION), val;
	int dr = q & 7, gpr = (q >> 8) & 15;
	bool read = q & 0x10;

	if (!c->hv->mon || c->g.cpl != 0) {
		vmx_inject(c, X86_TRAP_GP, true, 0);
		return 0;
	}
	if (dr == 4 || dr == 5) {
		if (vmcs_read(CR4_READ_SHADOW) & X86_CR4_DE) {
			vmx_inject(c, X86_TRAP_UD, false, 0);
			return 0;
		}
		dr += 2;	/* aliases without CR4.DE */
	}
	if (read) {
		if (dr == 6)
			DR_GET(6, val);
		else
			val = *hv_mon_vdr(c, dr);
		hv_gpr_set(c, gpr, val);
	} else {
		val = hv_gpr_get(c, gpr);
		if ((dr >= 6 && (val >> 32)) || (dr < 4 && !__is_canonical_address(val, 48))) {
			vmx_inject(c, X86_TRAP_GP, true, 0);
			return 0;
		}
		if (dr == 6)
			DR_SET(6, val);
		else if (dr == 7)
			*hv_mon_vdr(c, 7) = (val & ~DR7_DROPPED) | DR7_FIXED;
		else
			*hv_mon_vdr(c, dr) = val;
	}
	c->g.rip += vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	return 0;
}
