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
 * int 0x80: VMX has no INT n exit.  While the 32-bit entries are refused,
 * the gate for vector 0x80 in the kernel's IDT is made DPL 0 (the page is
 * read-only to L1; the host writes it, and puts DPL 3 back when leaving
 * Ring -1), so that int 0x80 from user space raises #GP(0x80 * 8 + 2)
 * instead of entering the kernel, and #GP is in the exception bitmap.
 *
 * SYSENTER from compatibility mode (SYSCALL there is #UD on Intel CPUs):
 * L1's GUEST_SYSENTER_EIP is hv_mon_sysenter_entry, a VMCALL.  The MSR
 * exits for L1 (vmx_exit.c), which reads the kernel's own entry, so that
 * kvm_intel copies that into its VMCS's host state.  SYSENTER saves no
 * return address: a refused call goes back to CPL 3 at EIP 0 with #GP
 * (SIGSEGV).  Nothing to undo on leaving Ring -1: the stub is only in the
 * VMCS, the MSR itself always holds the kernel's entry.
 */
#include <linux/kernel.h>
#include <asm/desc.h>
#include <asm/irq_vectors.h>
#include <asm/set_memory.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include "vmx.h"
#include "monitor.h"

/* DR7 bits L1 cannot keep: GD (the host decodes MOV DR itself), and reserved 12, 14, 15. */
#define DR7_DROPPED	((1ULL << 12) | (1ULL << 13) | (1ULL << 14) | (1ULL << 15))

/* The IDT gate's type byte: present, DPL 3 (as Linux sets it) or DPL 0, 64-bit interrupt gate. */
#define GATE_DPL3	0xee
#define GATE_DPL0	0x8e
#define GP_INT80	(IA32_SYSCALL_VECTOR * 8 + 2)	/* #GP error code: IDT, vector 0x80 */

/* VMX access rights of the user's 32-bit segments, as Linux's GDT has them (G, D/B, P, DPL 3, S). */
#define AR_USER_CODE32	0xc0fb		/* execute/read, accessed */
#define AR_USER_DATA	0xc0f3		/* read/write, accessed */

/* The type byte of IDT gate 0x80, through the direct map; the same IDT on every CPU. */
static u8 *vmx_mon_gate80;

static void __hv_host vmx_mon_load_vdr(struct hv_cpu *c)
{
	u64 *vdr = hv_mon_vdr(c, 0);

	HV_DR_SET(0, vdr[0]);
	HV_DR_SET(1, vdr[1]);
	HV_DR_SET(2, vdr[2]);
	HV_DR_SET(3, vdr[3]);
}

/*
 * The kernel maps its IDT read-only: the byte is written with CR0.WP clear
 * (and CR4.CET, which needs WP, clear for that moment), IRQs off.  Only a
 * gate as Linux sets it is changed, and only back to what it was.
 */
static void __hv_host vmx_mon_gate_write(u8 from, u8 to)
{
	u64 cr0, cr4;

	if (!vmx_mon_gate80 || READ_ONCE(*vmx_mon_gate80) != from)
		return;
	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	asm volatile("mov %%cr4, %0" : "=r"(cr4));
	if (cr4 & X86_CR4_CET)
		asm volatile("mov %0, %%cr4" : : "r"(cr4 & ~X86_CR4_CET) : "memory");
	asm volatile("mov %0, %%cr0" : : "r"(cr0 & ~X86_CR0_WP) : "memory");
	WRITE_ONCE(*vmx_mon_gate80, to);
	asm volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
	if (cr4 & X86_CR4_CET)
		asm volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
}

/* On the CPU, IRQs off, VMCS01 current and filled, just before VMLAUNCH. */
void vmx_mon_vmcs_setup(struct vmx_cpu *vc)
{
	struct hv *hv = vc->hv.hv;

	if (!hv->mon)
		return;
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL,
		   vmcs_read(CPU_BASED_VM_EXEC_CONTROL) | CPU_BASED_MOV_DR_EXITING);
	vmcs_write(EXCEPTION_BITMAP, vmcs_read(EXCEPTION_BITMAP) | (1U << X86_TRAP_DB));
	hv_mon_take_drs(&vc->hv);
	vmcs_write(GUEST_DR7, hv_mon_dr7(hv));
	if (hv_mon_int80_enabled(hv)) {
		struct desc_ptr idt;

		store_idt(&idt);
		if (idt.size >= IA32_SYSCALL_VECTOR * 16 + 15) {
			vmx_mon_gate80 = __va(slow_virt_to_phys((void *)(idt.address +
									 IA32_SYSCALL_VECTOR * 16 + 5)));
			vmx_mon_gate_write(GATE_DPL3, GATE_DPL0);
		}
		vmcs_write(EXCEPTION_BITMAP, vmcs_read(EXCEPTION_BITMAP) | (1U << X86_TRAP_GP));
		vmcs_write(GUEST_SYSENTER_EIP, vmx_mon_l1_sysenter_eip(vc, vc->sysenter_eip));
	}
}

/* VMLAUNCH was refused: the kernel's own DR0-3 back (DR7 was never changed). */
void vmx_mon_launch_failed(struct vmx_cpu *vc)
{
	if (vc->hv.hv->mon) {
		vmx_mon_load_vdr(&vc->hv);
		vmx_mon_gate_write(GATE_DPL0, GATE_DPL3);
	}
}

/* Host, leaving Ring -1 on this CPU: the bare-metal kernel gets its debug registers back. */
void __hv_host vmx_mon_leave(struct vmx_cpu *vc)
{
	if (!vc->hv.hv->mon)
		return;
	vmx_mon_load_vdr(&vc->hv);
	HV_DR_SET(7, *hv_mon_vdr(&vc->hv, 7));
	/* The first CPU to leave gives int 0x80 back to everyone: unload leaves them all. */
	vmx_mon_gate_write(GATE_DPL0, GATE_DPL3);
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
		hv_mon_load_bps(vc->hv.hv);
}

u64 __hv_host vmx_mon_l1_dr7(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;
	u64 *vdr;

	if (!c->hv->mon)
		return HV_DR7_FIXED;
	vdr = hv_mon_vdr(c, 0);
	HV_DR_GET(0, vdr[0]);
	HV_DR_GET(1, vdr[1]);
	HV_DR_GET(2, vdr[2]);
	HV_DR_GET(3, vdr[3]);
	*hv_mon_vdr(c, 7) = HV_DR7_FIXED;
	hv_mon_load_bps(c->hv);
	return hv_mon_dr7(c->hv);
}

/* L2's DR7 when L1 does not load one: L1's own (virtual) DR7, not the monitor's. */
u64 __hv_host vmx_mon_dr7_for_l2(struct vmx_cpu *vc, u64 vmcs01_dr7)
{
	return vc->hv.hv->mon ? *hv_mon_vdr(&vc->hv, 7) : vmcs01_dr7;
}

/*
 * L1's SYSENTER_EIP whenever its host state sets one (launch, its WRMSR,
 * an emulated exit from L2 loading VMCS12's HOST_IA32_SYSENTER_EIP): the
 * stub while 32-bit entries are refused, else the kernel's entry.  Another
 * value is a change of a pinned syscall entry: with pin_msrs a
 * syscall_msr violation, and the pinned entry stays; without, it becomes
 * L1's entry (and the stub still stands in front of it).  The stub itself
 * is not a change: it is what L1's value already leads to.
 */
u64 __hv_host vmx_mon_l1_sysenter_eip(struct vmx_cpu *vc, u64 host_eip)
{
	struct hv_cpu *c = &vc->hv;
	u64 stub = (u64)hv_mon_sysenter_entry;

	if (host_eip != vc->sysenter_eip && host_eip != stub) {
		if (c->hv->pol.pin_msrs)
			hv_violation(c, HV_V_SYSCALL_MSR, MSR_IA32_SYSENTER_EIP, host_eip);
		else
			vc->sysenter_eip = host_eip;
	}
	return hv_mon_int80_enabled(c->hv) ? stub : vc->sysenter_eip;
}

/*
 * L1 at hv_mon_sysenter_entry, at CPL 0: a SYSENTER from user space.
 * Refused: back to the caller as SYSENTER left it (GPRs, DS/ES/FS/GS and
 * their bases kept; only IF, VM and RF cleared), at CPL 3 in compatibility
 * mode, then #GP, which Linux turns into SIGSEGV.  SYSENTER does not record
 * the caller's mode; Linux's own entry takes every SYSENTER for a 32-bit
 * call and returns in compatibility mode, and so does this.  The caller's
 * stack is its EBP, the vDSO's convention that Linux's entry relies on
 * (IF set back: Linux runs user space with it on).  SYSENTER saves no
 * return address, so there is no caller EIP to fault at: EIP 0, the
 * placeholder Linux's own entry puts in pt_regs before it picks the vDSO's
 * landing pad; the #GP is delivered before anything is fetched there.  RF
 * is set as a CPU sets it in the image of a fault it delivers (VM entry
 * pushes RFLAGS as given); TF stays the caller's.  Logged only: on into
 * the kernel's entry, as if SYSENTER_EIP pointed there.
 * Returns 1 refused, 0 passed on, -1 not at the stub.
 */
static int __hv_host vmx_mon_sysenter_stub(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;

	if (!hv_mon_int80_enabled(c->hv) || c->g.cpl != 0 || c->g.rip != (u64)hv_mon_sysenter_entry)
		return -1;
	if (!hv_mon_sysenter(c)) {
		c->g.rip = vc->sysenter_eip;
		return 0;
	}
	vmcs_write(GUEST_CS_SELECTOR, __USER32_CS);
	vmcs_write(GUEST_CS_AR_BYTES, AR_USER_CODE32);
	vmcs_write(GUEST_CS_BASE, 0);
	vmcs_write(GUEST_CS_LIMIT, 0xffffffff);
	vmcs_write(GUEST_SS_SELECTOR, __USER_DS);
	vmcs_write(GUEST_SS_AR_BYTES, AR_USER_DATA);
	vmcs_write(GUEST_SS_BASE, 0);
	vmcs_write(GUEST_SS_LIMIT, 0xffffffff);
	c->g.cpl = 3;
	c->g.rsp = (u32)c->g.regs->rbp;
	c->g.rip = 0;
	c->g.rflags |= X86_EFLAGS_IF | X86_EFLAGS_RF | X86_EFLAGS_FIXED;
	vmx_inject(c, X86_TRAP_GP, true, 0);
	return 1;
}

/* VMCALL: true if it was the stub's (handled), false for vmx_exit.c's hypercalls. */
bool __hv_host vmx_mon_sysenter(struct vmx_cpu *vc)
{
	return vmx_mon_sysenter_stub(vc) >= 0;
}

static int __hv_host vmx_mon_db(struct vmx_cpu *vc, u32 info)
{
	struct hv_cpu *c = &vc->hv;
	u64 q = vmcs_read(EXIT_QUALIFICATION), dr6;
	int i;

	/*
	 * SYSENTER keeps the caller's TF, so its single-step trap is taken at
	 * the stub, before the VMCALL.  Refused: the #GP replaces the trap (a
	 * faulting instruction completes nothing to trap after).  Passed on:
	 * the trap is L1's, at the kernel's entry, where Linux expects it.
	 */
	if ((q & VMX_DBQ_BS) && vmx_mon_sysenter_stub(vc) > 0)
		return 0;
	for (i = 0; i < HV_BP_NR && c->g.cpl == 0 && (q & VMX_DBQ_BITS & ~0xfULL) == 0; i++) {
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
	dr6 = HV_DR6_FIXED | (q & VMX_DBQ_BITS & ~0xfULL);
	if (q & VMX_DBQ_RTM)
		dr6 &= ~VMX_DBQ_RTM;
	asm volatile("mov %0, %%db6" : : "r"(dr6));
	hv_mon_count_reflected(c);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info & (INTR_INFO_VECTOR_MASK | INTR_INFO_INTR_TYPE_MASK |
						     INTR_INFO_VALID_MASK));
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VM_EXIT_INSTRUCTION_LEN));
	return 0;
}

/*
 * #GP(0x80 * 8 + 2) at CPL 3: an int 0x80 that met the DPL-0 gate.
 * Refused: the #GP goes on to L1 (SIGSEGV, as on AMD-V).  Logged only:
 * what the gate would have done, past the instruction (prefixes, CD 80,
 * read back from L1's memory) with vector 0x80 delivered as an external
 * interrupt, which the gate's DPL does not stop.  Anything unreadable or
 * not an int 0x80 keeps its #GP.
 */
static bool __hv_host vmx_mon_int80(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;
	u8 b[8] = {};	/* a short read near a page end leaves zeros: never a prefix or CD */
	int i = 0;

	if (hv_mon_int80(c))
		return false;	/* refused (logged by hv_mon_int80) */
	if (hv_gva_read(c->hv, c->g.cr3, c->g.rip, b, sizeof(b)) &&
	    hv_gva_read(c->hv, c->g.cr3, c->g.rip, b, 2))
		return false;
	while (i < 4 && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3 ||
			 b[i] == 0x2e || b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 ||
			 b[i] == 0x64 || b[i] == 0x65))
		i++;
	if (i + 1 >= (int)sizeof(b) || b[i] != 0xcd || b[i + 1] != IA32_SYSCALL_VECTOR)
		return false;
	c->g.rip += i + 2;
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, IA32_SYSCALL_VECTOR | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK);
	return true;
}

static bool __hv_host contributory(u32 v)
{
	return v == X86_TRAP_DE || v == X86_TRAP_TS || v == X86_TRAP_NP || v == X86_TRAP_SS ||
	       v == X86_TRAP_GP || v == X86_TRAP_PF;
}

/* #GP: int 0x80 from user space, or L1's own #GP given back. */
static int __hv_host vmx_mon_gp(struct vmx_cpu *vc, u32 info)
{
	struct hv_cpu *c = &vc->hv;
	u32 err = vmcs_read(VM_EXIT_INTR_ERROR_CODE);
	u32 idt = vmcs_read(IDT_VECTORING_INFO_FIELD);

	/*
	 * hv_vmx_exit queued the event being delivered again; for an int 0x80
	 * that is the INT itself, which would only meet the gate again: the
	 * outcome is decided here instead.
	 */
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	if (err == GP_INT80 && c->g.cpl == 3 && hv_mon_int80_enabled(c->hv) && vmx_mon_int80(vc))
		return 0;
	/* A #GP while delivering an exception: the CPU would raise #DF for these. */
	if ((idt & INTR_INFO_VALID_MASK) &&
	    (idt & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION &&
	    contributory(idt & INTR_INFO_VECTOR_MASK)) {
		vmx_inject(c, X86_TRAP_DF, true, 0);
		return 0;
	}
	vmx_inject(c, X86_TRAP_GP, !!(info & INTR_INFO_DELIVER_CODE_MASK), err);
	return 0;
}

/* Exceptions in the exception bitmap: #DB, and #GP while int 0x80 is refused. */
int __hv_host vmx_mon_exit_exception(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;
	u32 info = vmcs_read(VM_EXIT_INTR_INFO);

	if (c->hv->mon && (info & INTR_INFO_VALID_MASK) &&
	    (info & INTR_INFO_VECTOR_MASK) == X86_TRAP_DB &&
	    ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION ||
	     (info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION))
		return vmx_mon_db(vc, info);
	if (c->hv->mon && (info & INTR_INFO_VALID_MASK) &&
	    (info & INTR_INFO_VECTOR_MASK) == X86_TRAP_GP &&
	    (info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION)
		return vmx_mon_gp(vc, info);
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
			HV_DR_GET(6, val);
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
			HV_DR_SET(6, val);
		else if (dr == 7)
			*hv_mon_vdr(c, 7) = (val & ~DR7_DROPPED) | HV_DR7_FIXED;
		else
			*hv_mon_vdr(c, dr) = val;
	}
	c->g.rip += vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	return 0;
}
