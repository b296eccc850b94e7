// SPDX-License-Identifier: GPL-2.0-only
/*
 * VT-x host side: exits taken while L1 (the demoted kernel) runs.
 * Dispatch goes through a const table indexed by the basic exit reason with
 * a bounds check; anything unexpected from L1 gets the fault a CPU would
 * give.  Runs on the private page table: no tracing, no per-CPU data, raw
 * MSR instructions only.
 */
#include <linux/kernel.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/processor.h>
#include <asm/trapnr.h>
#include "vmx.h"
#include "monitor.h"

const char *const vmx_exit_names[VMX_X_NR + 1] = {
	[VMX_X_CR] = "cr_access", [VMX_X_CPUID] = "cpuid", [VMX_X_MSR_READ] = "msr_read",
	[VMX_X_MSR_WRITE] = "msr_write", [VMX_X_VMCALL] = "vmcall",
	[VMX_X_EPT_VIOLATION] = "ept_violation", [VMX_X_EPT_MISCONFIG] = "ept_misconfig",
	[VMX_X_XSETBV] = "xsetbv", [VMX_X_INVD] = "invd", [VMX_X_VMXON] = "vmxon",
	[VMX_X_VMXOFF] = "vmxoff", [VMX_X_VMCLEAR] = "vmclear", [VMX_X_VMPTRLD] = "vmptrld",
	[VMX_X_VMPTRST] = "vmptrst", [VMX_X_VMREAD] = "vmread", [VMX_X_VMWRITE] = "vmwrite",
	[VMX_X_VMLAUNCH] = "vmlaunch", [VMX_X_VMRESUME] = "vmresume", [VMX_X_INVEPT] = "invept",
	[VMX_X_INVVPID] = "invvpid", [VMX_X_TRIPLE_FAULT] = "triple_fault", [VMX_X_OTHER] = "other",
	[VMX_X_L2_REFLECTED] = "l2_reflected", [VMX_X_L2_EPT] = "l2_ept_violation",
	[VMX_X_L2_INTR] = "l2_ext_intr", [VMX_X_L2_NMI] = "l2_nmi", [VMX_X_L2_MSR] = "l2_msr_kept",
	[VMX_X_L2_ENTRY_FAIL] = "l2_entry_failed", [VMX_X_L2_EXC_KEPT] = "l2_exception_kept",
	[VMX_X_HOST_NMI] = "nmi_held_for_l1",
	[VMX_X_EXCEPTION] = "exception", [VMX_X_DR] = "dr_access",
	/* Every VM exit Hyper-box takes, and those of them from L2: the cost figures. */
	[VMX_X_ALL] = "vm_exits", [VMX_X_L2_ALL] = "l2_exits",
};

typedef int (*vmx_exit_fn)(struct vmx_cpu *vc);

static void __hv_host __noreturn vmx_fatal(struct vmx_cpu *vc)
{
	/* L1 is beyond repair (triple fault, VMRESUME refused): stop the machine. */
	for (;;)
		asm volatile("ud2");
}

/* VMLAUNCH/VMRESUME in vmenter_vmx.S failed; 0: enter again (L1, with its VMfail). */
int __hv_host hv_vmx_entry_failed(struct vmx_cpu *vc, struct hv_regs *regs)
{
	struct hv_cpu *c = &vc->hv;
	u64 *rax = (u64 *)(regs + 1);

	/* L1's own state refused is beyond repair; an L2's goes back to L1. */
	if (!vmx_nested_in_l2(vc))
		vmx_fatal(vc);
	c->g.regs = regs;
	c->g.rax = *rax;
	return vmx_nested_entry_failed(vc);
}

static __always_inline void raw_wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static __always_inline u64 raw_rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | ((u64)hi << 32);
}

/* Past the exiting instruction; a skipped STI/MOV SS no longer shadows the next one. */
static void __hv_host vmx_skip(struct hv_cpu *c)
{
	c->g.rip += vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, vmcs_read(GUEST_INTERRUPTIBILITY_INFO) & ~3ULL);
}

/*
 * Leave Ring -1 on this CPU, resuming L1 at its RIP with RAX = ret.  After
 * VMXOFF the CPU runs on L1's control registers and descriptor tables
 * again; the host stack stays reachable through the kernel's direct map.
 */
static int __hv_host vmx_leave(struct vmx_cpu *vc, u64 ret)
{
	struct { u16 limit; u64 base; } __packed gdt, idt;
	u64 cr3 = vmcs_read(GUEST_CR3), cr4 = vmcs_read(GUEST_CR4) & ~X86_CR4_VMXE;
	u64 fs = vmcs_read(GUEST_FS_BASE), gs = vmcs_read(GUEST_GS_BASE);
	u64 sysenter_cs = vmcs_read(GUEST_SYSENTER_CS), sysenter_esp = vmcs_read(GUEST_SYSENTER_ESP);

	gdt.base = vmcs_read(GUEST_GDTR_BASE);
	gdt.limit = vmcs_read(GUEST_GDTR_LIMIT);
	idt.base = vmcs_read(GUEST_IDTR_BASE);
	idt.limit = vmcs_read(GUEST_IDTR_LIMIT);
	vc->leave_rip = vc->hv.g.rip;
	vc->leave_rsp = vc->hv.g.rsp;
	vc->leave_rax = ret;
	asm volatile("vmclear %0" : : "m"(vc->vmcs01_pa) : "cc", "memory");
	asm volatile("vmxoff" ::: "cc", "memory");
	asm volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
	asm volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	asm volatile("lgdt %0" : : "m"(gdt));
	asm volatile("lidt %0" : : "m"(idt));
	raw_wrmsr(MSR_FS_BASE, fs);
	raw_wrmsr(MSR_GS_BASE, gs);
	/*
	 * The exit loaded the SYSENTER MSRs from the host state (the kernel's
	 * at launch): L1's are the VMCS's, and for EIP the value L1 believes
	 * in, never the monitor's stub.
	 */
	raw_wrmsr(MSR_IA32_SYSENTER_CS, sysenter_cs);
	raw_wrmsr(MSR_IA32_SYSENTER_ESP, sysenter_esp);
	raw_wrmsr(MSR_IA32_SYSENTER_EIP, vc->sysenter_eip);
	vmx_mon_leave(vc);
	return 1;
}

static int __hv_host vmx_exit_vmcall(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;

	/* First: at the monitor's SYSENTER stub, RAX is a user's, whatever it holds. */
	if (vmx_mon_sysenter(vc))
		return 0;
	if (c->g.rax != HV_HC_MAGIC || c->g.cpl != 0) {
		vmx_inject(c, 6, false, 0);	/* #UD: what a CPU gives outside VMX non-root */
		return 0;
	}
	vmx_skip(c);
	switch (c->g.regs->rbx) {
	case HV_HC_PING:
		c->g.rax = 0x600d;
		return 0;
	case HV_HC_DEVIRT:
		if (vmx_nested_vmxon(vc)) {
			c->g.rax = -EBUSY;	/* L1's own VMX operation cannot be handed over */
			return 0;
		}
		return vmx_leave(vc, 0);
	default:
		c->g.rax = hv_mon_hypercall(c);
		return 0;
	}
}

static int __hv_host vmx_exit_cr(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;
	struct hv *hv = c->hv;
	u64 q = vmcs_read(EXIT_QUALIFICATION), val;
	int cr = q & 15, type = (q >> 4) & 3;

	if (type == 3) {			/* LMSW: low four bits of CR0; PE cannot be cleared */
		val = (vmcs_read(CR0_READ_SHADOW) & ~0xeULL) | ((q >> 16) & 0xf);
		cr = 0;
	} else if (type == 0) {
		val = hv_gpr_get(c, (q >> 8) & 15);
	} else {
		vmx_inject(c, 6, false, 0);	/* CLTS and CR reads are not intercepted */
		return 0;
	}
	if (cr == 0) {
		if (hv->cr0_pinned & ~val) {
			hv_violation(c, HV_V_CR0_WP, 0, val);
			val |= hv->cr0_pinned;
		}
		if (!(val & X86_CR0_PG) || !(val & X86_CR0_PE)) {
			vmx_inject(c, 13, true, 0);	/* leaving long mode: #GP, as in IA-32e mode */
			return 0;
		}
		vmcs_write(CR0_READ_SHADOW, val);
		vmcs_write(GUEST_CR0, (val | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1);
	} else if (cr == 4) {
		if (hv->cr4_pinned & ~val) {
			hv_violation(c, hv->cr4_pinned & ~val & X86_CR4_SMEP ? HV_V_CR4_SMEP : HV_V_CR4_SMAP,
				     0, val);
			val |= hv->cr4_pinned;
		}
		/* CR4.VMXE is L1's virtual bit: only if we offer VMX, and not while in VMX operation. */
		if ((val & X86_CR4_VMXE) && !hv->pol.nested) {
			vmx_inject(c, 13, true, 0);
			return 0;
		}
		if (!(val & X86_CR4_VMXE) && vmx_nested_vmxon(vc)) {
			vmx_inject(c, 13, true, 0);
			return 0;
		}
		if (val & ~vmx_caps.cr4_fixed1 & ~X86_CR4_VMXE) {
			vmx_inject(c, 13, true, 0);
			return 0;
		}
		vc->cr4_shadow = val;
		vmcs_write(CR4_READ_SHADOW, val);
		vmcs_write(GUEST_CR4, (val | X86_CR4_VMXE | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1);
		/* The exit swallowed the write's own TLB flush: do it (VPID-tagged entries). */
		if (vmx_caps.vpid) {
			struct { u64 vpid, gva; } d = { 0, 0 };

			asm volatile("invvpid %0, %1" : : "m"(d), "r"((u64)VMX_VPID_EXTENT_ALL_CONTEXT)
				     : "cc", "memory");
		}
	} else {
		vmx_inject(c, 6, false, 0);
		return 0;
	}
	vmx_skip(c);
	return 0;
}

static int __hv_host vmx_exit_cpuid(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;
	u32 a = c->g.rax, b, cx = c->g.regs->rcx, d;

	native_cpuid(&a, &b, &cx, &d);
	/* L1 sees VMX only if we emulate it for kvm_intel. */
	if ((u32)c->g.rax == 1 && !c->hv->pol.nested)
		cx &= ~(1U << (X86_FEATURE_VMX & 31));
	c->g.rax = a;
	c->g.regs->rbx = b;
	c->g.regs->rcx = cx;
	c->g.regs->rdx = d;
	vmx_skip(c);
	return 0;
}

static const u32 sys_msrs[4] = { MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK };

/*
 * The syscall MSRs in the CPU: L1's (pinned) values while L1 runs, the ones
 * L1 wrote for its guest while L2 runs.  Only those that differ are written.
 */
void __hv_host vmx_sys_msrs_load(struct vmx_cpu *vc, bool l2)
{
	int i;

	for (i = 0; i < 4; i++)
		if (vc->sys_msr[i] != vc->l1_msr[i])
			raw_wrmsr(sys_msrs[i], l2 ? vc->sys_msr[i] : vc->l1_msr[i]);
}

/*
 * IA32_SYSENTER_EIP (a VMCS field, so nothing to switch): L1 reads the
 * value it believes in, the kernel's entry (kvm_intel puts what it reads in
 * its VMCS's host state), not the monitor's stub; a write goes through
 * vmx_mon_l1_sysenter_eip(), which pins it as the syscall MSRs are pinned.
 * L2's is its own, in VMCS02 (current while an L2 exit is handled).
 */
static int __hv_host vmx_sysenter_eip(struct vmx_cpu *vc, bool write, bool l2, u64 val)
{
	struct hv_cpu *c = &vc->hv;

	if (write) {
		if (!__is_canonical_address(val, 48)) {
			vmx_inject(c, 13, true, 0);
			return 0;
		}
		vmcs_write(GUEST_SYSENTER_EIP, l2 ? val : vmx_mon_l1_sysenter_eip(vc, val));
	} else {
		val = l2 ? vmcs_read(GUEST_SYSENTER_EIP) : vc->sysenter_eip;
		c->g.rax = (u32)val;
		c->g.regs->rdx = val >> 32;
	}
	vmx_skip(c);
	return 0;
}

/*
 * Intercepted MSRs (see the bitmap in vmx.c, and everything outside its
 * ranges), from L1 or (l2) from L2 where L1's own bitmap lets it through.
 */
int __hv_host vmx_msr_access(struct vmx_cpu *vc, bool write, bool l2)
{
	struct hv_cpu *c = &vc->hv;
	struct hv *hv = c->hv;
	u32 msr = c->g.regs->rcx;
	u64 val = (c->g.regs->rdx << 32) | (u32)c->g.rax;
	int i;

	if (!l2)
		c->stats->exits[write ? VMX_X_MSR_WRITE : VMX_X_MSR_READ]++;
	if (msr == MSR_IA32_SYSENTER_EIP)
		return vmx_sysenter_eip(vc, write, l2, val);
	for (i = 0; i < 4 && sys_msrs[i] != msr; i++)
		;
	if (i == 4) {
		if (msr == MSR_IA32_FEAT_CTL && !write) {
			val = raw_rdmsr(msr);
			if (!hv->pol.nested)
				val &= ~(FEAT_CTL_VMX_ENABLED_INSIDE_SMX | FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX);
			goto read_done;
		}
		/* The VMX capabilities as offered (vmx_nested.c); none without nested VMX. */
		if (!write && hv->pol.nested && vmx_nested_cap_msr(msr, &val))
			goto read_done;
		/* Locked, read-only, or outside the bitmap's ranges: a host #GP would be fatal. */
		vmx_inject(c, 13, true, 0);
		return 0;
	}
	if (!write) {
		val = vc->sys_msr[i];
		goto read_done;
	}
	if (msr != MSR_STAR && msr != MSR_SYSCALL_MASK && !__is_canonical_address(val, 48)) {
		vmx_inject(c, 13, true, 0);
		return 0;
	}
	if (l2) {
		/* L2's own value (it runs with L1's guest values loaded): the CPU holds it now. */
		vc->sys_msr[i] = val;
		raw_wrmsr(msr, val);
	} else if (val == vc->l1_msr[i] || (hv->pol.nested && vmx_nested_vmxon(vc))) {
		/*
		 * KVM loads its guest's values before VMRESUME (and the host's
		 * back on return to user space): they go to L2 only.
		 */
		vc->sys_msr[i] = val;
	} else if (hv->pol.pin_msrs) {
		hv_violation(c, HV_V_SYSCALL_MSR, msr, val);
		/* dropped, not faulted: the kernel keeps running */
	} else {
		vc->sys_msr[i] = vc->l1_msr[i] = val;
		raw_wrmsr(msr, val);
	}
	vmx_skip(c);
	return 0;
read_done:
	c->g.rax = (u32)val;
	c->g.regs->rdx = val >> 32;
	vmx_skip(c);
	return 0;
}

static int __hv_host vmx_exit_rdmsr(struct vmx_cpu *vc)
{
	return vmx_msr_access(vc, false, false);
}

static int __hv_host vmx_exit_wrmsr(struct vmx_cpu *vc)
{
	return vmx_msr_access(vc, true, false);
}

static int __hv_host vmx_exit_ept_violation(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;
	u64 gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS), q = vmcs_read(EXIT_QUALIFICATION);

	if (hv_protect_npf(c, gpa, q)) {
		hv_log(c, HV_V_NR, c->g.rip, gpa, q);
		vmx_inject(c, 13, true, 0);
	}
	return 0;
}

static int __hv_host vmx_exit_fatal(struct vmx_cpu *vc)
{
	vmx_fatal(vc);
}

static int __hv_host vmx_exit_xsetbv(struct vmx_cpu *vc)
{
	struct hv_cpu *c = &vc->hv;
	u64 val = (c->g.regs->rdx << 32) | (u32)c->g.rax;
	u32 a = 0xd, b, cx = 0, d;

	native_cpuid(&a, &b, &cx, &d);
	/* The SDM's #GP conditions, checked here so that the host's XSETBV cannot fault. */
	if (c->g.cpl || (u32)c->g.regs->rcx || !(val & 1) || (val & ~((u64)d << 32 | a)) ||
	    ((val & 4) && !(val & 2))) {
		vmx_inject(c, 13, true, 0);
		return 0;
	}
	asm volatile("xsetbv" : : "c"(0), "a"((u32)val), "d"((u32)(val >> 32)));
	vmx_skip(c);
	return 0;
}

static int __hv_host vmx_exit_skip(struct vmx_cpu *vc)
{
	vmx_skip(&vc->hv);	/* INVD: caches are coherent; dropping dirty lines is never wanted */
	return 0;
}

static int __hv_host vmx_exit_vmx_insn(struct vmx_cpu *vc)
{
	vmx_nested_exit(vc, vmcs_read(VM_EXIT_REASON) & 0xffff);
	return 0;
}

static const vmx_exit_fn vmx_l1_handlers[EXIT_REASON_XSETBV + 1] = {
	[EXIT_REASON_EXCEPTION_NMI] = vmx_mon_exit_exception,	/* #DB, monitor only */
	[EXIT_REASON_TRIPLE_FAULT] = vmx_exit_fatal,
	[EXIT_REASON_DR_ACCESS] = vmx_mon_exit_dr,
	[EXIT_REASON_CPUID] = vmx_exit_cpuid,
	[EXIT_REASON_INVD] = vmx_exit_skip,
	[EXIT_REASON_VMCALL] = vmx_exit_vmcall,
	[EXIT_REASON_VMCLEAR] = vmx_exit_vmx_insn,
	[EXIT_REASON_VMLAUNCH] = vmx_exit_vmx_insn,
	[EXIT_REASON_VMPTRLD] = vmx_exit_vmx_insn,
	[EXIT_REASON_VMPTRST] = vmx_exit_vmx_insn,
	[EXIT_REASON_VMREAD] = vmx_exit_vmx_insn,
	[EXIT_REASON_VMRESUME] = vmx_exit_vmx_insn,
	[EXIT_REASON_VMWRITE] = vmx_exit_vmx_insn,
	[EXIT_REASON_VMOFF] = vmx_exit_vmx_insn,
	[EXIT_REASON_VMON] = vmx_exit_vmx_insn,
	[EXIT_REASON_CR_ACCESS] = vmx_exit_cr,
	[EXIT_REASON_MSR_READ] = vmx_exit_rdmsr,
	[EXIT_REASON_MSR_WRITE] = vmx_exit_wrmsr,
	[EXIT_REASON_EPT_VIOLATION] = vmx_exit_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = vmx_exit_fatal,
	[EXIT_REASON_INVEPT] = vmx_exit_vmx_insn,
	[EXIT_REASON_INVVPID] = vmx_exit_vmx_insn,
	[EXIT_REASON_XSETBV] = vmx_exit_xsetbv,
};

static const u8 vmx_l1_stat[EXIT_REASON_XSETBV + 1] = {
	[EXIT_REASON_EXCEPTION_NMI] = VMX_X_EXCEPTION + 1, [EXIT_REASON_DR_ACCESS] = VMX_X_DR + 1,
	[EXIT_REASON_TRIPLE_FAULT] = VMX_X_TRIPLE_FAULT + 1, [EXIT_REASON_CPUID] = VMX_X_CPUID + 1,
	[EXIT_REASON_INVD] = VMX_X_INVD + 1, [EXIT_REASON_VMCALL] = VMX_X_VMCALL + 1,
	[EXIT_REASON_VMCLEAR] = VMX_X_VMCLEAR + 1, [EXIT_REASON_VMLAUNCH] = VMX_X_VMLAUNCH + 1,
	[EXIT_REASON_VMPTRLD] = VMX_X_VMPTRLD + 1, [EXIT_REASON_VMPTRST] = VMX_X_VMPTRST + 1,
	[EXIT_REASON_VMREAD] = VMX_X_VMREAD + 1, [EXIT_REASON_VMRESUME] = VMX_X_VMRESUME + 1,
	[EXIT_REASON_VMWRITE] = VMX_X_VMWRITE + 1, [EXIT_REASON_VMOFF] = VMX_X_VMXOFF + 1,
	[EXIT_REASON_VMON] = VMX_X_VMXON + 1, [EXIT_REASON_CR_ACCESS] = VMX_X_CR + 1,
	[EXIT_REASON_EPT_VIOLATION] = VMX_X_EPT_VIOLATION + 1,
	[EXIT_REASON_EPT_MISCONFIG] = VMX_X_EPT_MISCONFIG + 1,
	[EXIT_REASON_INVEPT] = VMX_X_INVEPT + 1, [EXIT_REASON_INVVPID] = VMX_X_INVVPID + 1,
	[EXIT_REASON_XSETBV] = VMX_X_XSETBV + 1,
};

/*
 * An NMI the host took (hv_vmx_host_nmi) goes to L1 as an injected NMI,
 * when L1 runs next and can take one (no event being injected, no STI or
 * MOV SS shadow, which some CPUs also apply to NMIs, NMIs not blocked);
 * else it waits for a later exit.  While L2
 * runs it waits for the next VM exit to L1 (a timer interrupt at the
 * latest).
 */
static void __hv_host vmx_give_nmi(struct vmx_cpu *vc)
{
	if (vmx_nested_in_l2(vc) || (vmcs_read(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK) ||
	    (vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
	     (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS | GUEST_INTR_STATE_NMI)))
		return;
	WRITE_ONCE(vc->nmi_pending, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, X86_TRAP_NMI | INTR_TYPE_NMI_INTR | INTR_INFO_VALID_MASK);
	vc->hv.stats->exits[VMX_X_HOST_NMI]++;
}

/* Called from vmenter_vmx.S after every VM exit; non-zero means leave Ring -1. */
int __hv_host hv_vmx_exit(struct vmx_cpu *vc, struct hv_regs *regs)
{
	struct hv_cpu *c = &vc->hv;
	u64 *rax = (u64 *)(regs + 1);
	u32 reason = vmcs_read(VM_EXIT_REASON), basic = reason & 0xffff;
	u32 idt = vmcs_read(IDT_VECTORING_INFO_FIELD);
	vmx_exit_fn fn;
	int ret = 0;

	c->g.regs = regs;
	c->g.rip = vmcs_read(GUEST_RIP);
	c->g.rsp = vmcs_read(GUEST_RSP);
	c->g.rax = *rax;
	c->g.rflags = vmcs_read(GUEST_RFLAGS);
	c->g.cr0 = vmcs_read(GUEST_CR0);
	c->g.cr3 = vmcs_read(GUEST_CR3);
	c->g.cr4 = vmcs_read(GUEST_CR4);
	c->g.efer = vmcs_read(GUEST_IA32_EFER);
	c->g.cpl = (vmcs_read(GUEST_SS_AR_BYTES) >> 5) & 3;
	c->launched = true;
	c->stats->exits[VMX_X_ALL]++;

	if (vmx_nested_in_l2(vc)) {
		c->stats->exits[VMX_X_L2_ALL]++;
		vmx_nested_l2_exit(vc, reason);
		goto out;
	}
	if (reason & VMX_EXIT_REASONS_FAILED_VMENTRY)
		vmx_fatal(vc);
	/* An event being delivered when the exit hit is delivered again. */
	if (idt & VECTORING_INFO_VALID_MASK) {
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, idt & ~INTR_INFO_UNBLOCK_NMI);
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(IDT_VECTORING_ERROR_CODE));
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VM_EXIT_INSTRUCTION_LEN));
	}
	fn = basic < ARRAY_SIZE(vmx_l1_handlers) ? vmx_l1_handlers[basic] : NULL;
	if (basic != EXIT_REASON_MSR_READ && basic != EXIT_REASON_MSR_WRITE)
		c->stats->exits[fn && vmx_l1_stat[basic] ? vmx_l1_stat[basic] - 1 : VMX_X_OTHER]++;
	if (!fn) {
		vmx_inject(c, 6, false, 0);	/* counted as "other" */
		goto out;
	}
	ret = fn(vc);
	if (ret)
		return ret;
out:
	if (vc->nmi_pending)
		vmx_give_nmi(vc);
	vmcs_write(GUEST_RIP, c->g.rip);
	vmcs_write(GUEST_RSP, c->g.rsp);
	vmcs_write(GUEST_RFLAGS, c->g.rflags);
	*rax = c->g.rax;
	vc->launch = vmx_nested_launch_next(vc);
	return ret;
}
