// SPDX-License-Identifier: GPL-2.0-only
/*
 * AMD-V backend: checks, per-CPU control blocks, late launch and leaving.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include "svm.h"
#include "monitor.h"

#define HOST_STACK_SIZE	(4 * PAGE_SIZE)

static void svm_build_bug_checks(void)
{
	BUILD_BUG_ON(offsetof(struct svm_cpu, run_pa) != SVMC_RUN_PA);
	BUILD_BUG_ON(offsetof(struct svm_cpu, vmcb01_pa) != SVMC_VMCB01_PA);
	BUILD_BUG_ON(offsetof(struct svm_cpu, leave_cr3) != SVMC_LEAVE_CR3);
	BUILD_BUG_ON(offsetof(struct svm_cpu, leave_cr4) != SVMC_LEAVE_CR4);
	BUILD_BUG_ON(offsetof(struct svm_cpu, leave_rsp) != SVMC_LEAVE_RSP);
	BUILD_BUG_ON(offsetof(struct svm_cpu, leave_rip) != SVMC_LEAVE_RIP);
	BUILD_BUG_ON(offsetof(struct svm_cpu, leave_rax) != SVMC_LEAVE_RAX);
	BUILD_BUG_ON(offsetof(struct svm_cpu, leave_efer) != SVMC_LEAVE_EFER);
	BUILD_BUG_ON(offsetof(struct svm_cpu, run_sti) != SVMC_RUN_STI);
	BUILD_BUG_ON(sizeof(struct hv_regs) != SVMC_REGS_SIZE);
	BUILD_BUG_ON(SVM_X_NR > HV_NR_EXIT_IDX);
}

static int svm_probe(void)
{
	u64 vm_cr, efer;

	svm_build_bug_checks();
	if (!boot_cpu_has(X86_FEATURE_SVM)) {
		pr_err(HV_NAME ": refusing to load: CPU has no AMD-V (SVM)\n");
		return -ENODEV;
	}
	rdmsrl(MSR_VM_CR, vm_cr);
	if (vm_cr & SVM_VM_CR_SVM_DIS_MASK) {
		pr_err(HV_NAME ": refusing to load: SVM is disabled%s by firmware (VM_CR=%#llx)\n",
		       vm_cr & SVM_VM_CR_SVM_LOCK_MASK ? " and locked" : "", vm_cr);
		return -EPERM;
	}
	if (!boot_cpu_has(X86_FEATURE_NPT)) {
		pr_err(HV_NAME ": refusing to load: CPU has SVM but no nested paging\n");
		return -ENODEV;
	}
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		pr_err(HV_NAME ": refusing to load: SVM already in use (another hypervisor, e.g. kvm_amd, is loaded)\n");
		return -EBUSY;
	}
	return 0;
}

/* Permission-map bit for an MSR: 2 bits each, three 8 KiB-MSR ranges. */
int __hv_host svm_msrpm_bit(u32 msr)
{
	if (msr < 0x2000)
		return msr * 2;
	if (msr - 0xc0000000 < 0x2000)
		return 0x4000 + (msr - 0xc0000000) * 2;
	if (msr - 0xc0010000 < 0x2000)
		return 0x8000 + (msr - 0xc0010000) * 2;
	return -1;
}

static void svm_msrpm_set(u32 msr, bool read, bool write)
{
	int bit = svm_msrpm_bit(msr);

	if (read)
		svm_msrpm[bit / 8] |= 1 << (bit % 8);
	if (write)
		svm_msrpm[(bit + 1) / 8] |= 1 << ((bit + 1) % 8);
}

static struct hv_cpu *svm_cpu_setup(struct hv *hv, int cpu)
{
	struct svm_cpu *sc = hv_arena_alloc(&hv->arena, sizeof(*sc), NULL);
	struct hv_cpu *c;
	void *stack;
	u64 pa;
	int ret;

	if (!sc)
		return ERR_PTR(-ENOMEM);
	if (!svm_msrpm) {
		u64 msrpm_pa;

		/* 8 KiB MSR permission map, then a 12 KiB I/O map that stays clear. */
		svm_msrpm = hv_arena_alloc(&hv->arena, 5 * PAGE_SIZE, &msrpm_pa);
		if (!svm_msrpm)
			return ERR_PTR(-ENOMEM);
		svm_msrpm_set(MSR_EFER, true, true);
		svm_msrpm_set(MSR_VM_HSAVE_PA, true, true);
		svm_msrpm_set(MSR_VM_CR, false, true);
		svm_msrpm_set(MSR_STAR, false, true);
		svm_msrpm_set(MSR_LSTAR, false, true);
		svm_msrpm_set(MSR_CSTAR, false, true);
		svm_msrpm_set(MSR_SYSCALL_MASK, false, true);
	}
	c = &sc->hv;
	c->hv = hv;
	c->cpu = cpu;

	sc->vmcb01 = hv_arena_alloc(&hv->arena, PAGE_SIZE, &sc->vmcb01_pa);
	if (!sc->vmcb01 || !hv_arena_alloc(&hv->arena, PAGE_SIZE, &sc->hsave_pa))
		return ERR_PTR(-ENOMEM);
	stack = hv_arena_alloc(&hv->arena, HOST_STACK_SIZE, &pa);
	if (!stack)
		return ERR_PTR(-ENOMEM);
	/* [top - 16] holds sc for the host loop; keeps the ABI's 16-byte alignment. */
	c->host_stack_top = (u64)stack + HOST_STACK_SIZE - 16;
	*(struct svm_cpu **)c->host_stack_top = sc;
	sc->msrpm = svm_msrpm;
	sc->msrpm_pa = __pa(svm_msrpm);
	sc->run = sc->vmcb01;
	sc->run_pa = sc->vmcb01_pa;
	ret = svm_nested_setup(hv, sc);
	return ret ? ERR_PTR(ret) : c;
}

/* VMCB segment attributes from a GDT descriptor: type/S/DPL/P and AVL/L/DB/G. */
static void seg_from_gdt(struct vmcb_seg *s, u16 sel, const struct desc_ptr *gdt)
{
	u64 d;

	s->selector = sel;
	if (!(sel & ~3)) {
		s->attrib = 0;
		s->limit = 0;
		s->base = 0;
		return;
	}
	d = *(u64 *)(gdt->address + (sel & ~7));
	s->attrib = ((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 8);
	s->limit = (u32)((d & 0xffff) | ((d >> 32) & 0xf0000));
	if (d & (1ULL << 55))
		s->limit = (s->limit << 12) | 0xfff;
	s->base = 0;		/* 64-bit mode: CS/SS/DS/ES bases are 0 */
}

static void svm_fill_vmcb(struct svm_cpu *sc)
{
	struct hv *hv = sc->hv.hv;
	struct vmcb *v = sc->vmcb01;
	struct desc_ptr gdt, idt;
	u16 sel;

	memset(v, 0, sizeof(*v));
	native_store_gdt(&gdt);
	store_idt(&idt);
	asm volatile("mov %%cs, %0" : "=r"(sel));
	seg_from_gdt(&v->save.cs, sel, &gdt);
	asm volatile("mov %%ss, %0" : "=r"(sel));
	seg_from_gdt(&v->save.ss, sel, &gdt);
	asm volatile("mov %%ds, %0" : "=r"(sel));
	seg_from_gdt(&v->save.ds, sel, &gdt);
	asm volatile("mov %%es, %0" : "=r"(sel));
	seg_from_gdt(&v->save.es, sel, &gdt);
	v->save.gdtr.base = gdt.address;
	v->save.gdtr.limit = gdt.size;
	v->save.idtr.base = idt.address;
	v->save.idtr.limit = idt.size;
	/* FS, GS, TR, LDTR with their hidden parts, and the syscall MSRs */
	asm volatile("vmsave %0" : : "a"(sc->vmcb01_pa) : "memory");
	v->save.efer = native_read_msr(MSR_EFER);
	v->save.cr0 = native_read_cr0();
	v->save.cr2 = native_read_cr2();
	v->save.cr3 = __native_read_cr3();
	v->save.cr4 = native_read_cr4();
	v->save.dr6 = HV_DR6_FIXED;
	v->save.dr7 = HV_DR7_FIXED;
	v->save.g_pat = native_read_msr(MSR_IA32_CR_PAT);
	v->save.cpl = 0;
	v->save.rax = 0;

	svm_set_intercept(v, INTERCEPT_VMRUN);
	svm_set_intercept(v, INTERCEPT_VMMCALL);
	svm_set_intercept(v, INTERCEPT_VMLOAD);
	svm_set_intercept(v, INTERCEPT_VMSAVE);
	svm_set_intercept(v, INTERCEPT_STGI);
	svm_set_intercept(v, INTERCEPT_CLGI);
	svm_set_intercept(v, INTERCEPT_SKINIT);
	svm_set_intercept(v, INTERCEPT_INVLPGA);
	svm_set_intercept(v, INTERCEPT_CPUID);
	svm_set_intercept(v, INTERCEPT_MSR_PROT);
	svm_set_intercept(v, INTERCEPT_SHUTDOWN);
	if (hv->pol.lock_tables) {
		svm_set_intercept(v, INTERCEPT_LOAD_IDTR);
		svm_set_intercept(v, INTERCEPT_LOAD_GDTR);
	}
	if (hv->pol.pin_cr) {
		svm_set_intercept(v, INTERCEPT_CR0_WRITE);
		svm_set_intercept(v, INTERCEPT_CR4_WRITE);
	}
	v->control.msrpm_base_pa = sc->msrpm_pa;
	v->control.iopm_base_pa = sc->msrpm_pa + 2 * PAGE_SIZE;	/* unused: no IOIO intercept */
	v->control.asid = 1;
	v->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	v->control.nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	v->control.nested_cr3 = hv->npt_root_pa;
}

/* On the CPU, IRQs off. */
static int svm_launch(struct hv_cpu *c)
{
	struct svm_cpu *sc = to_svm(c);
	struct hv *hv = c->hv;
	u64 efer;
	int ret;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		pr_err(HV_NAME ": refusing to launch on CPU %d: SVM already enabled\n", c->cpu);
		return -EBUSY;
	}
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, sc->hsave_pa);
	svm_fill_vmcb(sc);
	svm_nested_vmcb01_setup(sc);
	svm_mon_vmcb_setup(sc);
	sc->leave_cr3 = sc->vmcb01->save.cr3;
	sc->leave_cr4 = sc->vmcb01->save.cr4;
	sc->leave_efer = efer;
	if (c->cpu == 0 || !hv->cr4_pinned) {
		/* Pin what the kernel set up at boot; every CPU boots with the same bits. */
		hv->cr0_pinned = hv->pol.pin_cr ? sc->vmcb01->save.cr0 & X86_CR0_WP : 0;
		hv->cr4_pinned = hv->pol.pin_cr ?
			sc->vmcb01->save.cr4 & (X86_CR4_SMEP | X86_CR4_SMAP) : 0;
		hv->star = sc->vmcb01->save.star;
		hv->lstar = sc->vmcb01->save.lstar;
		hv->cstar = sc->vmcb01->save.cstar;
		hv->sfmask = sc->vmcb01->save.sfmask;
	}
	asm volatile("clgi");
	svm_nested_load_host_idt(sc);	/* the host's own IDT, from here on */
	ret = hv_svm_launch(sc, &sc->vmcb01->save.rip, &sc->vmcb01->save.rsp,
			    c->host_stack_top, hv->host_cr3);
	if (ret) {
		/* The first VMRUN was refused; the host loop already put GIF and CR3 back. */
		svm_mon_launch_failed();
		wrmsrl(MSR_VM_HSAVE_PA, 0);
		wrmsrl(MSR_EFER, efer);
	}
	return ret;
}

/* As the guest, on the CPU, IRQs off. */
static int svm_devirt(void)
{
	return hv_svm_devirt_call();
}

void __hv_host svm_inject(struct hv_cpu *c, u8 vector, bool has_err, u32 err)
{
	struct svm_cpu *sc = to_svm(c);

	sc->run->control.event_inj = vector | SVM_EVTINJ_TYPE_EXEPT | SVM_EVTINJ_VALID |
				     (has_err ? SVM_EVTINJ_VALID_ERR : 0);
	sc->run->control.event_inj_err = err;
}

static void __hv_host svm_inject_pf(struct hv_cpu *c, u64 cr2, u32 err)
{
	to_svm(c)->run->save.cr2 = cr2;
	svm_inject(c, 14, true, err);
}

static void __hv_host svm_flush_npt(struct hv_cpu *c)
{
	to_svm(c)->vmcb01->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
}

/* Advance past the intercepted instruction; #GP if it cannot be decoded. */
int __hv_host svm_skip(struct hv_cpu *c)
{
	struct hv_insn in;

	if (hv_insn_fetch(c, &in)) {
		svm_inject(c, 13, true, 0);
		return -EFAULT;
	}
	c->g.rip += in.len;
	return 0;
}

static u64 __hv_host svm_gdt_base(struct hv_cpu *c)
{
	return to_svm(c)->vmcb01->save.gdtr.base;
}

static void __hv_host svm_load_tr(struct hv_cpu *c, u16 sel, u64 base, u32 limit, u16 attrib)
{
	struct vmcb_seg *tr = &to_svm(c)->vmcb01->save.tr;

	tr->selector = sel;
	tr->base = base;
	tr->limit = limit;
	tr->attrib = attrib;
}

static u64 __hv_host svm_dr7(struct hv_cpu *c)
{
	return to_svm(c)->vmcb01->save.dr7;
}

const struct hv_vendor_ops hv_svm_ops = {
	.name = "svm",
	.probe = svm_probe,
	.cpu_setup = svm_cpu_setup,
	.launch = svm_launch,
	.devirt = svm_devirt,
	.flush_npt = svm_flush_npt,
	.inject = svm_inject,
	.inject_pf = svm_inject_pf,
	.gdt_base = svm_gdt_base,
	.load_tr = svm_load_tr,
	.dr7 = svm_dr7,
	.exit_names = svm_exit_names,
};
