// SPDX-License-Identifier: GPL-2.0-only
/*
 * AMD-V host side: exits taken while L1 (the demoted kernel) runs.
 * Dispatch goes through a const table indexed by exit code with a bounds
 * check; anything unexpected from L1 gets the fault a CPU would give.
 */
#include <linux/kernel.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/processor.h>
#include "svm.h"
#include "monitor.h"

u8 *svm_msrpm;

const char *const svm_exit_names[SVM_X_NR + 1] = {
	[SVM_X_CR0_WRITE] = "cr0_write", [SVM_X_CR4_WRITE] = "cr4_write",
	[SVM_X_CPUID] = "cpuid", [SVM_X_MSR_READ] = "msr_read", [SVM_X_MSR_WRITE] = "msr_write",
	[SVM_X_VMRUN] = "vmrun", [SVM_X_VMMCALL] = "vmmcall", [SVM_X_VMLOAD] = "vmload",
	[SVM_X_VMSAVE] = "vmsave", [SVM_X_STGI] = "stgi", [SVM_X_CLGI] = "clgi",
	[SVM_X_SKINIT] = "skinit", [SVM_X_INVLPGA] = "invlpga", [SVM_X_NPF] = "npf",
	[SVM_X_SHUTDOWN] = "shutdown", [SVM_X_OTHER] = "other",
	[SVM_X_L2_EXIT] = "l2_exit", [SVM_X_L2_REFLECTED] = "l2_reflected_to_l1",
	[SVM_X_NMI] = "nmi_held_for_l1", [SVM_X_LOAD_DTR] = "lidt_lgdt",
	[SVM_X_VLS_UD] = "vls_syscall_ud", [SVM_X_INTR] = "l1_intr", [SVM_X_IRET] = "l1_iret",
	[SVM_X_ALL] = "vm_exits",
};

typedef int (*svm_exit_fn)(struct svm_cpu *sc);

static void __hv_host __noreturn svm_fatal(struct svm_cpu *sc)
{
	/* L1 is beyond repair (triple fault, corrupt VMCB): stop the machine. */
	for (;;)
		asm volatile("ud2");
}

/* Leave Ring -1 on this CPU, resuming L1 at its RIP with RAX = ret. */
static int __hv_host svm_leave(struct svm_cpu *sc, u64 ret)
{
	struct vmcb *v = sc->vmcb01;

	sc->leave_rip = sc->hv.g.rip;
	sc->leave_rsp = sc->hv.g.rsp;
	sc->leave_rax = ret;
	sc->leave_cr3 = v->save.cr3;
	sc->leave_cr4 = v->save.cr4;
	/* If L1 turned SVM on (kvm_amd), it keeps running on bare metal. */
	sc->leave_efer = (v->save.efer & ~EFER_SVME) | (sc->vsvme ? EFER_SVME : 0);
	/* L1's IDT and GDT again (the host ran on its own); GIF=0 until .Lleave's STGI */
	{
		struct { u16 limit; u64 base; } __packed idtr = { v->save.idtr.limit, v->save.idtr.base },
						       gdtr = { v->save.gdtr.limit, v->save.gdtr.base };

		asm volatile("lidt %0; lgdt %1" : : "m"(idtr), "m"(gdtr));
	}
	svm_mon_leave(sc);
	/* raw WRMSR: the paravirt/tracing wrappers are L1 code paths */
	asm volatile("wrmsr" : : "c"(MSR_VM_HSAVE_PA), "a"((u32)sc->vhsave_pa),
		     "d"((u32)(sc->vhsave_pa >> 32)));
	return 1;
}

static int __hv_host svm_exit_vmmcall(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;

	if (svm_mon_compat_syscall(sc))	/* a 32-bit SYSCALL the monitor refuses */
		return 0;
	if (c->g.rax != HV_HC_MAGIC) {
		svm_inject(c, 6, false, 0);	/* #UD: what a CPU gives outside guest mode */
		return 0;
	}
	c->g.rip += 3;
	switch (c->g.regs->rbx) {
	case HV_HC_PING:
		c->g.rax = 0x600d;
		return 0;
	case HV_HC_DEVIRT:
		if (c->g.cpl != 0) {	/* only the kernel (rollback, unload) */
			c->g.rax = -EPERM;
			return 0;
		}
		return svm_leave(sc, 0);
	default:
		c->g.rax = hv_mon_hypercall(c);
		return 0;
	}
}

static int __hv_host svm_exit_cr(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	struct vmcb *v = sc->vmcb01;
	struct hv_insn in;
	u64 val, old;
	int cr;

	if (hv_insn_fetch(c, &in) || in.op[0] != 0x0f || in.op[1] != 0x22 || (in.modrm >> 6) != 3) {
		svm_inject(c, 13, true, 0);
		return 0;
	}
	cr = hv_insn_reg(&in);
	val = hv_gpr_get(c, hv_insn_rm(&in));
	c->g.rip += in.len;
	if (cr == 0) {
		if (c->hv->cr0_pinned & ~val) {
			hv_violation(c, HV_V_CR0_WP, 0, val);
			val |= c->hv->cr0_pinned;
		}
		v->save.cr0 = val;
	} else if (cr == 4) {
		old = v->save.cr4;
		if (c->hv->cr4_pinned & ~val) {
			hv_violation(c, c->hv->cr4_pinned & ~val & X86_CR4_SMEP ? HV_V_CR4_SMEP : HV_V_CR4_SMAP,
				     0, val);
			val |= c->hv->cr4_pinned;
		}
		v->save.cr4 = val;
		/* Toggling PGE is how the kernel flushes global TLB entries. */
		if ((old ^ val) & (X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PCIDE | X86_CR4_SMEP))
			v->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	} else {
		svm_inject(c, 6, false, 0);
	}
	return 0;
}

static int __hv_host svm_exit_cpuid(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	u32 a = c->g.rax, b, cx = c->g.regs->rcx, d;

	if (svm_skip(c))
		return 0;
	native_cpuid(&a, &b, &cx, &d);
	/* L1 sees the SVM we emulate: nested paging, nothing else. */
	if ((u32)c->g.rax == 0x8000000a)
		d &= 1;
	c->g.rax = a;
	c->g.regs->rbx = b;
	c->g.regs->rcx = cx;
	c->g.regs->rdx = d;
	return 0;
}

/* MSRs intercepted for L1; returns -EPERM to give #GP. */
int __hv_host svm_msr_l1(struct svm_cpu *sc, u32 msr, bool write, u64 *val)
{
	struct hv_cpu *c = &sc->hv;
	struct vmcb *v = sc->vmcb01;
	struct hv *hv = c->hv;
	u64 *slot, pinned;

	switch (msr) {
	case MSR_EFER:
		if (!write) {
			*val = (v->save.efer & ~EFER_SVME) | (sc->vsvme ? EFER_SVME : 0);
			return 0;
		}
		if (*val & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX | EFER_SVME | EFER_FFXSR))
			return -EPERM;
		/* The real SVME stays on: Ring -1 depends on it.  L1 gets a virtual one. */
		sc->vsvme = *val & EFER_SVME;
		v->save.efer = *val | EFER_SVME;
		return 0;
	case MSR_STAR: slot = &v->save.star; pinned = hv->star; break;
	case MSR_LSTAR: slot = &v->save.lstar; pinned = hv->lstar; break;
	case MSR_CSTAR: slot = &v->save.cstar; pinned = hv->cstar; break;
	case MSR_SYSCALL_MASK: slot = &v->save.sfmask; pinned = hv->sfmask; break;
	case MSR_VM_HSAVE_PA:
		if (!write) {
			*val = sc->vhsave_pa;
			return 0;
		}
		if ((*val & ~PAGE_MASK) || *val >= hv->npt_top)
			return -EPERM;
		if (*val && !hv_gmem_map(hv, *val, PAGE_SIZE, true)) {
			hv_violation(c, HV_V_HSAVE_PA, *val, 0);
			return -EPERM;
		}
		sc->vhsave_pa = *val;
		return 0;
	case MSR_VM_CR:
		return write ? 0 : -EPERM;	/* reads are not intercepted */
	default:
		return -EPERM;
	}
	if (!write) {
		*val = *slot;
		return 0;
	}
	if (hv->pol.pin_msrs && *val != pinned) {
		hv_violation(c, HV_V_SYSCALL_MSR, msr, *val);
		return 0;	/* dropped, not faulted: the kernel keeps running */
	}
	*slot = *val;
	return 0;
}

static int __hv_host svm_exit_msr(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	bool write = sc->vmcb01->control.exit_info_1 & 1;
	u64 val = (c->g.regs->rdx << 32) | (u32)c->g.rax;

	c->stats->exits[write ? SVM_X_MSR_WRITE : SVM_X_MSR_READ]++;
	if (svm_msr_l1(sc, c->g.regs->rcx, write, &val)) {
		svm_inject(c, 13, true, 0);
		return 0;
	}
	if (svm_skip(c))
		return 0;
	if (!write) {
		c->g.rax = (u32)val;
		c->g.regs->rdx = val >> 32;
	}
	return 0;
}

static int __hv_host svm_exit_npf(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	struct vmcb *v = sc->vmcb01;

	if (hv_protect_npf(c, v->control.exit_info_2, v->control.exit_info_1)) {
		hv_log(c, HV_V_NR, c->g.rip, v->control.exit_info_2, v->control.exit_info_1);
		svm_inject(c, 13, true, 0);
	}
	return 0;
}

/*
 * LIDT/LGDT with the tables locked: only a reload of the same locked table
 * (any alias of its physical page, same limit) is done; anything else is
 * dropped and counted.  The kernel reloads its tables only at CPU bring-up
 * (before launch), resume and reboot, and around LTR (native_load_tr_desc:
 * from the read-only fixmap alias of the GDT to the writable one, LTR, back
 * to the fixmap), which kvm_amd does after every VMRUN.
 *
 * With CR4.UMIP a move from the writable alias to the read-only one is not
 * made: it is the same table, the CPU's use of it does not change, and with
 * GDTR left on the writable alias the kernel's next LTR needs no LGDT at
 * all (it swaps only away from the fixmap): no exit per KVM run.  The
 * fixmap alias exists to keep SGDT in user mode from showing the per-CPU
 * address; UMIP makes user-mode SGDT fault, so nothing is shown.
 */
static int __hv_host svm_exit_load_dtr(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	bool idt = sc->vmcb01->control.exit_code == SVM_EXIT_IDTR_WRITE;
	struct vmcb_seg *cur = idt ? &sc->vmcb01->save.idtr : &sc->vmcb01->save.gdtr;
	const struct hv_range *r;
	struct hv_insn in;
	u64 ea, base, pa_new, pa_cur;
	bool w_new, w_cur;
	u16 limit;

	if (hv_insn_fetch(c, &in) || in.op[0] != 0x0f || in.op[1] != 0x01 ||
	    ((in.modrm >> 3) & 7) != (idt ? 3 : 2) || (in.modrm >> 6) == 3 ||
	    hv_insn_ea(c, &in, &ea) || hv_gva_read(c->hv, c->g.cr3, ea, &limit, 2) ||
	    hv_gva_read(c->hv, c->g.cr3, ea + 2, &base, 8)) {
		svm_inject(c, 13, true, 0);
		return 0;
	}
	c->g.rip += in.len;
	r = hv_gva_to_gpa(c->hv, c->g.cr3, base, &pa_new, &w_new) ? NULL : hv_range_find(c->hv, pa_new);
	if (r && r->kind == (idt ? HV_PROT_IDT : HV_PROT_GDT) && limit == cur->limit &&
	    !hv_gva_to_gpa(c->hv, c->g.cr3, cur->base, &pa_cur, &w_cur) && pa_cur == pa_new) {
		if (idt || !(c->g.cr4 & X86_CR4_UMIP) || !w_cur || w_new)
			cur->base = base;
		return 0;
	}
	hv_violation(c, idt ? HV_V_IDT_WRITE : HV_V_GDT_WRITE, base, limit);
	return 0;
}

static int __hv_host svm_exit_nmi(struct svm_cpu *sc)
{
	svm_nested_l1_nmi(sc);
	return 0;
}

/* Intercepted in the GIF window only, whose closing checked what L1 left (svm_l1_gif.c). */
static int __hv_host svm_exit_intr(struct svm_cpu *sc)
{
	svm_nested_l1_intr(sc);
	return 0;
}

/* The same for IRET, which then runs: the exit was for closing the window. */
static int __hv_host svm_exit_iret(struct svm_cpu *sc)
{
	return 0;
}

static int __hv_host svm_exit_svm_insn(struct svm_cpu *sc)
{
	svm_nested_l1_exit(sc, sc->vmcb01->control.exit_code);
	return 0;
}

/*
 * #UD is intercepted only while L1 runs with virtual VMLOAD/VMSAVE and
 * EFER.SCE=0 (svm_nested.c, vls_open): a SYSCALL or SYSRET there runs
 * again, now with L1's own syscall MSRs.  Any other #UD recurs and is
 * delivered, the intercept being gone.
 */
static int __hv_host svm_exit_ud(struct svm_cpu *sc)
{
	if (sc->vls_was_open)
		sc->hv.stats->exits[SVM_X_VLS_UD]++;
	else
		svm_inject(&sc->hv, 6, false, 0);
	return 0;
}

static int __hv_host svm_exit_shutdown(struct svm_cpu *sc)
{
	svm_fatal(sc);
}

static const svm_exit_fn svm_l1_handlers[SVM_EXIT_NPF + 1] = {
	[SVM_EXIT_WRITE_CR0] = svm_exit_cr,
	[SVM_EXIT_WRITE_CR4] = svm_exit_cr,
	[SVM_EXIT_CPUID] = svm_exit_cpuid,
	[SVM_EXIT_NMI] = svm_exit_nmi,
	[SVM_EXIT_INTR] = svm_exit_intr,
	[SVM_EXIT_IRET] = svm_exit_iret,
	[SVM_EXIT_MSR] = svm_exit_msr,
	[SVM_EXIT_VMMCALL] = svm_exit_vmmcall,
	[SVM_EXIT_VMRUN] = svm_exit_svm_insn,
	[SVM_EXIT_VMLOAD] = svm_exit_svm_insn,
	[SVM_EXIT_VMSAVE] = svm_exit_svm_insn,
	[SVM_EXIT_STGI] = svm_exit_svm_insn,
	[SVM_EXIT_CLGI] = svm_exit_svm_insn,
	[SVM_EXIT_SKINIT] = svm_exit_svm_insn,
	[SVM_EXIT_INVLPGA] = svm_exit_svm_insn,
	[SVM_EXIT_SHUTDOWN] = svm_exit_shutdown,
	[SVM_EXIT_EXCP_BASE + UD_VECTOR] = svm_exit_ud,
	[SVM_EXIT_NPF] = svm_exit_npf,
	[SVM_EXIT_IDTR_WRITE] = svm_exit_load_dtr,
	[SVM_EXIT_GDTR_WRITE] = svm_exit_load_dtr,
	/* escape monitor (monitor_svm.c): intercepted only when it is on */
	[SVM_EXIT_EXCP_BASE + DB_VECTOR] = svm_mon_exit_db,
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_WRITE_DR7] = svm_mon_exit_dr,
	[SVM_EXIT_SWINT] = svm_mon_exit_swint,
};

static const u8 svm_l1_stat[SVM_EXIT_NPF + 1] = {
	[SVM_EXIT_WRITE_CR0] = SVM_X_CR0_WRITE + 1, [SVM_EXIT_WRITE_CR4] = SVM_X_CR4_WRITE + 1,
	[SVM_EXIT_CPUID] = SVM_X_CPUID + 1, [SVM_EXIT_VMMCALL] = SVM_X_VMMCALL + 1,
	[SVM_EXIT_VMRUN] = SVM_X_VMRUN + 1, [SVM_EXIT_VMLOAD] = SVM_X_VMLOAD + 1,
	[SVM_EXIT_VMSAVE] = SVM_X_VMSAVE + 1, [SVM_EXIT_STGI] = SVM_X_STGI + 1,
	[SVM_EXIT_CLGI] = SVM_X_CLGI + 1, [SVM_EXIT_SKINIT] = SVM_X_SKINIT + 1,
	[SVM_EXIT_INVLPGA] = SVM_X_INVLPGA + 1, [SVM_EXIT_SHUTDOWN] = SVM_X_SHUTDOWN + 1,
	[SVM_EXIT_NPF] = SVM_X_NPF + 1, [SVM_EXIT_NMI] = SVM_X_NMI + 1,
	[SVM_EXIT_INTR] = SVM_X_INTR + 1, [SVM_EXIT_IRET] = SVM_X_IRET + 1,
	[SVM_EXIT_IDTR_WRITE] = SVM_X_LOAD_DTR + 1, [SVM_EXIT_GDTR_WRITE] = SVM_X_LOAD_DTR + 1,
};

/* Called from vmrun.S after every #VMEXIT; non-zero means leave Ring -1. */
int __hv_host hv_svm_exit(struct svm_cpu *sc, struct hv_regs *regs)
{
	struct hv_cpu *c = &sc->hv;
	struct vmcb *v = sc->run;
	u32 code = v->control.exit_code;
	svm_exit_fn fn;
	int ret = 0;

	c->stats->exits[SVM_X_ALL]++;
	c->g.regs = regs;
	c->g.rip = v->save.rip;
	c->g.rsp = v->save.rsp;
	c->g.rax = v->save.rax;
	c->g.rflags = v->save.rflags;
	c->g.cr0 = v->save.cr0;
	c->g.cr3 = v->save.cr3;
	c->g.cr4 = v->save.cr4;
	c->g.efer = v->save.efer;
	c->g.cpl = v->save.cpl;
	v->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;

	if (v != sc->vmcb01) {
		c->stats->exits[SVM_X_L2_EXIT]++;
		svm_nested_l2_exit(sc);
		svm_nested_vls_open(sc);	/* L1 resumes with GIF=0 after a #VMEXIT */
		goto out;
	}
	/* L1's own syscall MSRs and EFER back before anything reads them. */
	sc->vls_was_open = svm_nested_vls_close(sc);
	/* An event being delivered when the exit hit is delivered again. */
	v->control.event_inj = v->control.exit_int_info & SVM_EXITINTINFO_VALID ?
			       v->control.exit_int_info : 0;
	v->control.event_inj_err = v->control.exit_int_info_err;

	if (code == (u32)SVM_EXIT_ERR) {
		if (!c->launched)
			return svm_leave(sc, -EIO);
		svm_fatal(sc);
	}
	fn = code < ARRAY_SIZE(svm_l1_handlers) ? svm_l1_handlers[code] : NULL;
	if (code != SVM_EXIT_MSR)	/* counted as read or write by its handler */
		c->stats->exits[fn && svm_l1_stat[code] ? svm_l1_stat[code] - 1 : SVM_X_OTHER]++;
	if (!fn) {
		svm_inject(c, 6, false, 0);
		goto l1_out;
	}
	c->launched = true;
	ret = fn(sc);
	svm_nested_l1_sync(sc);
	/* A SYSCALL/SYSRET that closed the window runs once without it. */
	if (!ret && code != SVM_EXIT_EXCP_BASE + UD_VECTOR)
		svm_nested_vls_open(sc);
l1_out:
	/* Last: TR/LDTR as whatever the exit did leaves them (a VMLOAD, STGI, the hand-off). */
	if (!ret)
		svm_nested_l1_segs(sc);
out:
	v->save.rip = c->g.rip;
	v->save.rsp = c->g.rsp;
	v->save.rax = c->g.rax;
	return ret;
}
