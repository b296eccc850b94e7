// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested SVM for L1 (the demoted kernel, and kvm_amd inside it).
 *
 * L1 sees SVM with nested paging (CPUID is filtered in svm_exit.c), a
 * virtual EFER.SVME, a virtual VM_HSAVE_PA and a virtual GIF.  Its VMRUN
 * always exits here, and so do VMLOAD, VMSAVE, STGI and CLGI outside the
 * windows of svm_l1_gif.c, where the CPU's virtual VMLOAD/VMSAVE takes
 * L1's addresses through its nested page table: VMLOAD/VMSAVE/VMRUN
 * executed natively would take host-physical ones and could reach the
 * arena.
 *
 * VMRUN: L1's VMCB is copied into the arena before anything is checked, so
 * L1 cannot change it between check and use.  Checked: the VMRUN intercept
 * (the architectural rule), ASID != 0, EFER.SVME, and, when nested paging is
 * on, L1's nested page table: every table it reaches must be ordinary L1
 * memory and no leaf may map Hyper-box memory, or protected memory
 * writable.  A failed check is a #VMEXIT with VMEXIT_INVALID, as a CPU gives
 * for an illegal VMCB, counted and logged.
 */
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include "svm.h"
#include "nested_walk.h"
#include "svm_nested.h"

/* MSRs L2 may access without an exit when L1 passes them through. */
static const u32 l2_msr_passthrough[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_IA32_SYSENTER_CS,
	MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
	MSR_SYSCALL_MASK, MSR_TSC_AUX, MSR_IA32_SPEC_CTRL, MSR_IA32_PRED_CMD, MSR_IA32_FLUSH_CMD,
};

int svm_nested_setup(struct hv *hv, struct svm_cpu *sc)
{
	struct svm_nested *n;
	unsigned int i;

	sc->vgif = true;
	n = sc->n = hv_arena_alloc(&hv->arena, sizeof(*sc->n), NULL);
	if (!n)
		return -ENOMEM;
	n->vmcb02 = hv_arena_alloc(&hv->arena, PAGE_SIZE, &n->vmcb02_pa);
	n->msrpm02 = hv_arena_alloc(&hv->arena, 2 * PAGE_SIZE, &n->msrpm02_pa);
	n->msrpm_forced = hv_arena_alloc(&hv->arena, 2 * PAGE_SIZE, NULL);
	/* 12 KiB I/O map, all ones: every port access by L2 exits (and goes to L1) */
	if (!n->vmcb02 || !n->msrpm02 || !n->msrpm_forced ||
	    !hv_arena_alloc(&hv->arena, 3 * PAGE_SIZE, &n->iopm_pa))
		return -ENOMEM;
	memset(__va(n->iopm_pa), 0xff, 3 * PAGE_SIZE);
	/* ASIDs 2.. for the slots and one for L2s without nested paging, as the CPU has them */
	n->nslots = clamp_t(int, (int)cpuid_ebx(0x8000000a) - 3, 1, SHADOW_SLOTS);
	for (i = 0; i < n->nslots; i++) {
		if (hv_shadow_init(hv, &n->slot[i].s, SHADOW_POOL))
			return -ENOMEM;
		n->slot[i].asid = L2_ASID + i;
	}
	n->nonp_asid = cpuid_ebx(0x8000000a) > L2_ASID + n->nslots ? L2_ASID + n->nslots : L2_ASID;
	memset(n->msrpm_forced, 0xff, 2 * PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(l2_msr_passthrough); i++) {
		int bit = svm_msrpm_bit(l2_msr_passthrough[i]);

		n->msrpm_forced[bit / 8] &= ~(3 << (bit % 8));
	}
	n->flushbyasid = boot_cpu_has(X86_FEATURE_FLUSHBYASID);
	svm_l1_gif_setup(n);
	n->rsvd_mask = GENMASK_ULL(51, boot_cpu_data.x86_phys_bits);
	return 0;
}

/* #VMEXIT to L1 after its VMRUN failed a check: exit code into L1's VMCB, L1 resumes with GIF=0. */
static void __hv_host vmexit_to_l1(struct svm_cpu *sc, u64 vmcb12_pa, u64 code)
{
	struct vmcb_control_area *ctl = &sc->n->vmcb12.control;

	ctl->exit_code = (u32)code;
	ctl->exit_code_hi = (u32)(code >> 32);
	ctl->exit_info_1 = 0;
	ctl->exit_info_2 = 0;
	ctl->exit_int_info = 0;
	ctl->event_inj = 0;
	hv_gmem_write(sc->hv.hv, vmcb12_pa + offsetof(struct vmcb_control_area, exit_code),
		      &ctl->exit_code, offsetof(struct vmcb_control_area, nested_ctl) -
		      offsetof(struct vmcb_control_area, exit_code));
	hv_gmem_write(sc->hv.hv, vmcb12_pa + offsetof(struct vmcb_control_area, event_inj),
		      &ctl->event_inj, sizeof(ctl->event_inj));
	svm_l1_vmexit(sc, false);
}

/* ---- VMRUN: the hardware VMCB for L2 ---- */

static const u32 l2_forced[] = {
	INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SHUTDOWN, INTERCEPT_VMRUN, INTERCEPT_VMLOAD,
	INTERCEPT_VMSAVE, INTERCEPT_STGI, INTERCEPT_CLGI, INTERCEPT_SKINIT, INTERCEPT_INVLPGA,
	INTERCEPT_MSR_PROT, INTERCEPT_IOIO_PROT, INTERCEPT_INVD,
	/* #DB and #AC can loop in delivery forever without an exit (a CPU hang) */
	INTERCEPT_EXCEPTION_OFFSET + DB_VECTOR, INTERCEPT_EXCEPTION_OFFSET + AC_VECTOR,
};

/* The hidden state VMLOAD/VMSAVE move, but the syscall MSRs (pinned for L1: see nested_vmload). */
static void __hv_host hidden_copy(struct svm_cpu *sc, struct vmcb_save_area *to,
				  const struct vmcb_save_area *from)
{
	to->fs = from->fs;
	to->gs = from->gs;
	to->tr = from->tr;
	to->ldtr = from->ldtr;
	to->kernel_gs_base = from->kernel_gs_base;
	to->sysenter_cs = from->sysenter_cs;
	to->sysenter_esp = from->sysenter_esp;
	to->sysenter_eip = from->sysenter_eip;
}

static int __hv_host build_vmcb02(struct svm_cpu *sc)
{
	struct svm_nested *n = sc->n;
	const struct vmcb *v12 = &n->vmcb12;
	struct vmcb *v2 = n->vmcb02;
	const struct vmcb_save_area *l1 = &sc->vmcb01->save;
	u64 *m = (u64 *)n->msrpm02, *f = (u64 *)n->msrpm_forced;
	unsigned int i;
	bool flush;

	if (hv_gmem_read(sc->hv.hv, v12->control.msrpm_base_pa & PAGE_MASK, n->msrpm02, 2 * PAGE_SIZE))
		return -EFAULT;
	for (i = 0; i < 2 * PAGE_SIZE / 8; i++)
		m[i] |= f[i];

	v2->save = v12->save;
	hidden_copy(sc, &v2->save, l1);
	v2->save.star = n->msrs_loaded ? n->star : l1->star;
	v2->save.lstar = n->msrs_loaded ? n->lstar : l1->lstar;
	v2->save.cstar = n->msrs_loaded ? n->cstar : l1->cstar;
	v2->save.sfmask = n->msrs_loaded ? n->sfmask : l1->sfmask;

	memset(&v2->control, 0, sizeof(v2->control));
	for (i = 0; i < MAX_INTERCEPT; i++)
		v2->control.intercepts[i] = v12->control.intercepts[i];
	for (i = 0; i < ARRAY_SIZE(l2_forced); i++)
		svm_set_intercept(v2, l2_forced[i]);
	v2->control.pause_filter_thresh = v12->control.pause_filter_thresh;
	v2->control.pause_filter_count = v12->control.pause_filter_count;
	v2->control.iopm_base_pa = n->iopm_pa;
	v2->control.msrpm_base_pa = n->msrpm02_pa;
	v2->control.tsc_offset = v12->control.tsc_offset;
	v2->control.asid = n->cur ? n->cur->asid : n->nonp_asid;
	/* A CPU with few ASIDs: L2s with and without nested paging share one. */
	flush = n->cur ? n->cur->flush : n->nonp_flush;
	if (v2->control.asid == L2_ASID && n->nonp_asid == L2_ASID && n->last_nonp != !n->cur)
		flush = true;
	v2->control.tlb_ctl = !flush ? TLB_CONTROL_DO_NOTHING :
			      n->flushbyasid ? TLB_CONTROL_FLUSH_ASID : TLB_CONTROL_FLUSH_ALL_ASID;
	if (n->cur)
		n->cur->flush = false;
	else
		n->nonp_flush = false;
	n->last_nonp = !n->cur;
	/* Physical interrupts always exit (host IF=1 around VMRUN); L1's V_* bits for L2. */
	v2->control.int_ctl = (v12->control.int_ctl & (V_TPR_MASK | V_IRQ_INJECTION_BITS_MASK |
						       V_GIF_ENABLE_MASK | V_GIF_MASK)) |
			      V_INTR_MASKING_MASK;
	v2->control.int_vector = v12->control.int_vector;
	v2->control.int_state = v12->control.int_state & SVM_INTERRUPT_SHADOW_MASK;
	v2->control.event_inj = v12->control.event_inj;
	v2->control.event_inj_err = v12->control.event_inj_err;
	/* kvm_amd read NRIP save in the boot CPU's features, before Hyper-box
	 * filtered CPUID: it injects a soft interrupt, #BP or #OF with RIP at
	 * the instruction and the return address here, as the CPU takes it.
	 * L2's return address is L1's to choose, as L2's RIP is. */
	v2->control.next_rip = v12->control.next_rip;
	v2->control.nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	/* Without nested paging in L1's VMCB, L2 addresses are L1's: L1's own NPT applies. */
	v2->control.nested_cr3 = n->cur ? n->cur->s.root_pa : sc->hv.hv->npt_root_pa;
	return 0;
}

static void __hv_host nested_vmrun(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	struct svm_nested *n = sc->n;
	struct vmcb *v12 = &n->vmcb12;
	u64 pa = c->g.rax, bad = 0;
	int viol = -1;

	if (!hv_gmem_map(c->hv, pa, PAGE_SIZE, true) || hv_gmem_read(c->hv, pa, v12, sizeof(*v12))) {
		svm_inject(c, 13, true, 0);
		return;
	}
	c->g.rip += 3;
	if (!svm_has_intercept(&v12->control, INTERCEPT_VMRUN) || !v12->control.asid ||
	    !(v12->save.efer & EFER_SVME)) {
		vmexit_to_l1(sc, pa, SVM_EXIT_ERR);
		return;
	}
	/*
	 * Virtual GIF and virtual VMLOAD/VMSAVE: kvm_amd asks for them when
	 * the CPU had them at boot (before Hyper-box filtered CPUID).  On a
	 * CPU without them L1 was never offered them: such a VMCB is refused,
	 * counted and logged.  Else V_GIF is L2's, passed to the CPU (and back),
	 * and L2's VMLOAD/VMSAVE still exit (to L1, or #UD).
	 */
	if (((v12->control.int_ctl & V_GIF_ENABLE_MASK) && !n->cpu_vgif) ||
	    ((v12->control.virt_ext & VIRTUAL_VMLOAD_VMSAVE_ENABLE_MASK) && !n->cpu_vls)) {
		hv_violation(c, HV_V_NESTED_VMCB, pa, v12->control.int_ctl & V_GIF_ENABLE_MASK ?
			     v12->control.int_ctl : v12->control.virt_ext);
		vmexit_to_l1(sc, pa, SVM_EXIT_ERR);
		return;
	}
	if (v12->control.nested_ctl & SVM_NESTED_CTL_NP_ENABLE) {
		u64 ncr3 = v12->control.nested_cr3 & PTE_ADDR;

		/*
		 * L1 changes its table and then flushes (TLB_CONTROL or a new
		 * ASID), as it must for the TLB: that shadow is dropped then
		 * (every shadow for a flush of all ASIDs).  A root not shadowed
		 * is validated whole, so that a bad table is refused at VMRUN;
		 * every entry is checked again as the shadow is filled, which
		 * is what keeps L2 out of Hyper-box memory.
		 */
		viol = svm_shadow_select(sc, ncr3, v12->control.asid, v12->control.tlb_ctl, &bad);
	} else {
		n->cur = NULL;
		if (v12->control.tlb_ctl != TLB_CONTROL_DO_NOTHING || v12->control.asid != n->nonp_asid12) {
			n->nonp_asid12 = v12->control.asid;
			n->nonp_flush = true;
		}
	}
	if (viol >= 0) {
		hv_violation(c, viol, bad, v12->control.nested_cr3);
		vmexit_to_l1(sc, pa, SVM_EXIT_ERR);
		return;
	}
	if (build_vmcb02(sc)) {
		vmexit_to_l1(sc, pa, SVM_EXIT_ERR);
		return;
	}
	n->vmcb12_pa = pa;
	sc->run = n->vmcb02;
	sc->run_pa = n->vmcb02_pa;
	sc->run_sti = 1;
}

/* The VMLOAD/VMSAVE state (APM: FS, GS, TR, LDTR, KernelGSBase, STAR..SFMASK, SYSENTER_*). */
static void __hv_host nested_vmload(struct svm_cpu *sc, const struct vmcb_save_area *from)
{
	sc->n->vmload_since_exit = sc->n->exited;
	hidden_copy(sc, &sc->vmcb01->save, from);
	/* Syscall MSRs stay pinned for L1; L2 gets what L1 loaded. */
	sc->n->star = from->star;
	sc->n->lstar = from->lstar;
	sc->n->cstar = from->cstar;
	sc->n->sfmask = from->sfmask;
	sc->n->msrs_loaded = true;
}

static void __hv_host nested_vmsave(struct svm_cpu *sc, struct vmcb_save_area *to)
{
	const struct vmcb_save_area *from = &sc->vmcb01->save;

	hidden_copy(sc, to, from);
	to->star = sc->n->msrs_loaded ? sc->n->star : from->star;
	to->lstar = sc->n->msrs_loaded ? sc->n->lstar : from->lstar;
	to->cstar = sc->n->msrs_loaded ? sc->n->cstar : from->cstar;
	to->sfmask = sc->n->msrs_loaded ? sc->n->sfmask : from->sfmask;
}

/* L1 executed an SVM instruction.  Faults follow the APM's order: #UD, then #GP. */
void __hv_host svm_nested_l1_exit(struct svm_cpu *sc, u32 code)
{
	struct hv_cpu *c = &sc->hv;
	struct vmcb_save_area *save;
	u64 pa = c->g.rax;
	unsigned int i;

	if (!c->hv->pol.nested || !sc->vsvme || code == SVM_EXIT_SKINIT) {
		svm_inject(c, 6, false, 0);
		return;
	}
	/* Intercepts come before the CPL check: a user process gets the #GP here. */
	if (c->g.cpl != 0) {
		svm_inject(c, 13, true, 0);
		return;
	}
	switch (code) {
	case SVM_EXIT_STGI:
		svm_l1_set_gif(sc, true);
		c->g.rip += 3;
		return;
	case SVM_EXIT_CLGI:
		/* L1's GIF was 1: what was held went in, the GIF window waits for a #VMEXIT */
		sc->n->event_held = false;
		sc->n->gifwin_ok = false;
		sc->n->exited = false;
		sc->n->vmload_since_exit = false;
		svm_l1_set_gif(sc, false);
		c->g.rip += 3;
		return;
	case SVM_EXIT_INVLPGA:
		/* L2's translations live under our own ASIDs: flush them all. */
		for (i = 0; i < sc->n->nslots; i++)
			sc->n->slot[i].flush = true;
		sc->n->nonp_flush = true;
		c->g.rip += 3;
		return;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
		break;
	default:
		svm_inject(c, 6, false, 0);
		return;
	}
	if (pa & ~PAGE_MASK || pa >= c->hv->npt_top) {
		svm_inject(c, 13, true, 0);
		return;
	}
	if (code == SVM_EXIT_VMRUN) {
		c->stats->l2_runs++;
		nested_vmrun(sc);
		return;
	}
	save = hv_gmem_map(c->hv, pa + offsetof(struct vmcb, save), sizeof(*save),
			   code == SVM_EXIT_VMSAVE);
	if (!save) {
		hv_violation(c, HV_V_SVM_INSN, pa, code);
		svm_inject(c, 13, true, 0);
		return;
	}
	if (code == SVM_EXIT_VMLOAD)
		nested_vmload(sc, save);
	else
		nested_vmsave(sc, save);
	c->g.rip += 3;
}

/*
 * #VMEXIT from L2 to L1, as the CPU would do it: L2's state and the exit
 * into L1's VMCB, L1 resumes after its VMRUN with GIF=0.  L1's registers
 * other than RAX/RSP/RIP are whatever L2 left (KVM saves them itself), and
 * the VMLOAD/VMSAVE state stays L2's until L1 saves and reloads it.
 */
static void __hv_host reflect_to_l1(struct svm_cpu *sc, u64 info1)
{
	struct hv_cpu *c = &sc->hv;
	struct svm_nested *n = sc->n;
	struct vmcb *v12 = &n->vmcb12, *v2 = n->vmcb02;
	struct vmcb_save_area *s12 = &v12->save, *s2 = &v2->save;
	const u32 vbits = V_TPR_MASK | V_IRQ_MASK |
			  (v12->control.int_ctl & V_GIF_ENABLE_MASK ? V_GIF_MASK : 0);

	s12->es = s2->es;
	s12->cs = s2->cs;
	s12->ss = s2->ss;
	s12->ds = s2->ds;
	s12->gdtr = s2->gdtr;
	s12->idtr = s2->idtr;
	s12->cpl = s2->cpl;
	s12->efer = s2->efer;
	s12->cr0 = s2->cr0;
	s12->cr2 = s2->cr2;
	s12->cr3 = s2->cr3;
	s12->cr4 = s2->cr4;
	s12->dr6 = s2->dr6;
	s12->dr7 = s2->dr7;
	s12->rflags = s2->rflags;
	s12->rip = s2->rip;
	s12->rsp = s2->rsp;
	s12->rax = s2->rax;
	v12->control.int_ctl = (v12->control.int_ctl & ~vbits) | (v2->control.int_ctl & vbits);
	v12->control.int_state = v2->control.int_state & SVM_INTERRUPT_SHADOW_MASK;
	v12->control.exit_code = v2->control.exit_code;
	v12->control.exit_code_hi = v2->control.exit_code_hi;
	v12->control.exit_info_1 = info1;
	v12->control.exit_info_2 = v2->control.exit_info_2;
	v12->control.exit_int_info = v2->control.exit_int_info;
	v12->control.exit_int_info_err = v2->control.exit_int_info_err;
	v12->control.event_inj = 0;
	v12->control.event_inj_err = 0;
	/* The CPU's next RIP of L2's intercepted instruction, so that kvm_amd
	 * skips it without decoding it again from L2's memory, whose page
	 * another vCPU may have unmapped meanwhile. */
	v12->control.next_rip = v2->control.next_rip;
	hv_gmem_write(c->hv, n->vmcb12_pa + offsetof(struct vmcb_control_area, int_ctl),
		      &v12->control.int_ctl, offsetof(struct vmcb_control_area, nested_ctl) -
		      offsetof(struct vmcb_control_area, int_ctl));
	hv_gmem_write(c->hv, n->vmcb12_pa + offsetof(struct vmcb_control_area, event_inj),
		      &v12->control.event_inj, 8);
	hv_gmem_write(c->hv, n->vmcb12_pa + offsetof(struct vmcb_control_area, next_rip),
		      &v12->control.next_rip, 8);
	hv_gmem_write(c->hv, n->vmcb12_pa + offsetof(struct vmcb, save), s12, sizeof(*s12));

	/* The CPU's VMLOAD/VMSAVE state is L2's now. */
	hidden_copy(sc, &sc->vmcb01->save, s2);
	n->star = s2->star;
	n->lstar = s2->lstar;
	n->cstar = s2->cstar;
	n->sfmask = s2->sfmask;
	n->msrs_loaded = true;

	sc->run = sc->vmcb01;
	sc->run_pa = sc->vmcb01_pa;
	sc->run_sti = 0;
	svm_l1_vmexit(sc, v2->control.exit_code == SVM_EXIT_INTR ||
			  v2->control.exit_code == SVM_EXIT_NMI);
	c->stats->exits[SVM_X_L2_REFLECTED]++;
}

/* Every exit while L2 runs.  Hyper-box's own exits stay here; the rest go to L1. */
void __hv_host svm_nested_l2_exit(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	struct svm_nested *n = sc->n;
	struct vmcb *v2 = n->vmcb02;
	u32 code = v2->control.exit_code;
	u64 info1 = v2->control.exit_info_1;
	u32 ii;

	v2->control.event_inj = 0;
	switch (code) {
	case SVM_EXIT_NPF:
		if (!(n->vmcb12.control.nested_ctl & SVM_NESTED_CTL_NP_ENABLE)) {
			/* L1's own NPT refused it: L1 gave L2 memory it must not have. */
			hv_violation(c, HV_V_NESTED_HIDDEN, v2->control.exit_info_2, info1);
			break;
		}
		switch (svm_shadow_fault(sc, v2->control.exit_info_2, &info1)) {
		case SHADOW_FILLED:
			goto resume;
		case SHADOW_REFLECT:
			reflect_to_l1(sc, info1);
			return;
		}
		break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
		if (!svm_has_intercept(&n->vmcb12.control, code - SVM_EXIT_INTR + INTERCEPT_INTR)) {
			svm_inject(c, 6, false, 0);	/* L2 has no SVM of its own */
			return;
		}
		reflect_to_l1(sc, info1);
		return;
	case SVM_EXIT_ERR:
		hv_log(c, HV_V_NR + 1, c->g.rip, n->vmcb12_pa, v2->control.exit_info_1);
		reflect_to_l1(sc, info1);
		return;
	default:
		reflect_to_l1(sc, info1);
		return;
	}
	/* Refused: L1 gets VMEXIT_INVALID, as for a VMCB that fails the checks at VMRUN. */
	v2->control.exit_code = (u32)SVM_EXIT_ERR;
	v2->control.exit_code_hi = ~0U;	/* VMEXIT_INVALID is -1 */
	v2->control.exit_int_info = 0;
	v2->control.next_rip = 0;
	reflect_to_l1(sc, 0);
	return;
resume:
	/*
	 * Exits kept here: an event being delivered is delivered again, except
	 * INTn and INT3/INTO: RIP still points at the instruction, which runs
	 * again (injected, they would push the wrong return address).
	 */
	ii = v2->control.exit_int_info;
	if ((ii & SVM_EXITINTINFO_VALID) && (ii & SVM_EXITINTINFO_TYPE_MASK) != SVM_EXITINTINFO_TYPE_SOFT &&
	    !((ii & SVM_EXITINTINFO_TYPE_MASK) == SVM_EXITINTINFO_TYPE_EXEPT &&
	      ((ii & SVM_EXITINTINFO_VEC_MASK) == 3 || (ii & SVM_EXITINTINFO_VEC_MASK) == 4))) {
		v2->control.event_inj = v2->control.exit_int_info;
		v2->control.event_inj_err = v2->control.exit_int_info_err;
	}
}
