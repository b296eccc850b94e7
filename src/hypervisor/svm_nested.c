// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested SVM for L1 (the demoted kernel, and kvm_amd inside it).
 *
 * L1 sees SVM with nested paging (CPUID is filtered in svm_exit.c), a
 * virtual EFER.SVME, a virtual VM_HSAVE_PA and a virtual GIF.  Its SVM
 * instructions always exit here, because on hardware VMLOAD/VMSAVE/VMRUN
 * take host-physical addresses: executed natively they could reach the
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
#include "svm.h"

#define PTE_P	(1ULL << 0)
#define PTE_W	(1ULL << 1)
#define PTE_PS	(1ULL << 7)
#define PTE_ADDR 0x000ffffffffff000ULL
#define NPT_MAX_TABLES 8192		/* bounds the host's time per VMRUN */

struct svm_nested {
	struct vmcb vmcb12;		/* private copy of L1's VMCB */
	/* syscall MSRs as loaded by L1's VMLOAD: for L2 only, never for L1 */
	u64 star, lstar, cstar, sfmask;
	unsigned int tables;
};

int svm_nested_setup(struct hv *hv, struct svm_cpu *sc)
{
	sc->n = hv_arena_alloc(&hv->arena, sizeof(*sc->n), NULL);
	sc->vgif = true;
	return sc->n ? 0 : -ENOMEM;
}

static void __hv_host set_gif(struct svm_cpu *sc, bool on)
{
	/*
	 * GIF=0 must hold L1's interrupts.  With V_INTR_MASKING the physical
	 * interrupt mask is the host's RFLAGS.IF, which is 0 in the host loop,
	 * so interrupts stay pending until STGI.
	 */
	sc->vgif = on;
	if (on)
		sc->vmcb01->control.int_ctl &= ~V_INTR_MASKING_MASK;
	else
		sc->vmcb01->control.int_ctl |= V_INTR_MASKING_MASK;
}

/* Does [pa, pa + len) touch Hyper-box memory, or (if writable) protected memory? */
static int __hv_host leaf_check(struct hv *hv, u64 pa, u64 len, bool writable)
{
	unsigned int i;

	for (i = 0; i < hv->arena.nr; i++)
		if (pa < hv->arena.pa[i] + (PAGE_SIZE << HV_ARENA_ORDER) && hv->arena.pa[i] < pa + len)
			return HV_V_NESTED_HIDDEN;
	for (i = 0; i < hv->nr_ranges; i++) {
		const struct hv_range *r = &hv->ranges[i];

		if (pa < r->end && r->start < pa + len &&
		    (r->kind == HV_PROT_HIDDEN || writable))
			return r->kind == HV_PROT_HIDDEN ? HV_V_NESTED_HIDDEN : HV_V_NESTED_PROTECTED;
	}
	return -1;
}

/* Returns -1 if the table at table_pa (level 4..1) is acceptable, else the violation. */
static int __hv_host npt_validate(struct svm_cpu *sc, u64 table_pa, int level, u64 *bad)
{
	struct hv *hv = sc->hv.hv;
	const u64 *t;
	int i, v;

	if (++sc->n->tables > NPT_MAX_TABLES) {
		*bad = table_pa;
		return HV_V_NESTED_VMCB;
	}
	t = hv_gmem_map(hv, table_pa, PAGE_SIZE, false);
	if (!t) {
		*bad = table_pa;
		return HV_V_NESTED_HIDDEN;
	}
	for (i = 0; i < 512; i++) {
		u64 e = READ_ONCE(t[i]), pa = e & PTE_ADDR;

		if (!(e & PTE_P))
			continue;
		if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
			u64 size = 1ULL << (12 + 9 * (level - 1));

			pa &= ~(size - 1);
			v = leaf_check(hv, pa, size, e & PTE_W);
		} else {
			v = npt_validate(sc, pa, level - 1, bad);
			if (v >= 0)
				return v;
			continue;
		}
		if (v >= 0) {
			*bad = pa;
			return v;
		}
	}
	return -1;
}

/* #VMEXIT to L1 after its VMRUN: exit code into L1's VMCB, L1 resumes with GIF=0. */
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
	set_gif(sc, false);
}

static void __hv_host nested_vmrun(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	struct vmcb *v12 = &sc->n->vmcb12;
	u64 pa = c->g.rax, bad = 0;
	int viol = -1;

	if (hv_gmem_read(c->hv, pa, v12, sizeof(*v12))) {
		svm_inject(c, 13, true, 0);
		return;
	}
	c->g.rip += 3;
	if (!svm_has_intercept(&v12->control, INTERCEPT_VMRUN) || !v12->control.asid ||
	    !(v12->save.efer & EFER_SVME)) {
		vmexit_to_l1(sc, pa, SVM_EXIT_ERR);
		return;
	}
	if (v12->control.nested_ctl & SVM_NESTED_CTL_NP_ENABLE) {
		sc->n->tables = 0;
		viol = npt_validate(sc, v12->control.nested_cr3 & PTE_ADDR, 4, &bad);
	}
	if (viol >= 0) {
		hv_violation(c, viol, bad, v12->control.nested_cr3);
		vmexit_to_l1(sc, pa, SVM_EXIT_ERR);
		return;
	}
	/*
	 * Running L2 on the hardware (VMCB02 built from the copy, shadowed
	 * nested table, #VMEXIT emulation) is not implemented yet: a VMCB
	 * that passed the checks is refused too, and logged as such.
	 */
	hv_log(c, HV_V_NR + 1, c->g.rip, pa, 0);
	vmexit_to_l1(sc, pa, SVM_EXIT_ERR);
}

/* The VMLOAD/VMSAVE state (APM: FS, GS, TR, LDTR, KernelGSBase, STAR..SFMASK, SYSENTER_*). */
static void __hv_host nested_vmload(struct svm_cpu *sc, const struct vmcb_save_area *from)
{
	struct vmcb_save_area *to = &sc->vmcb01->save;

	to->fs = from->fs;
	to->gs = from->gs;
	to->tr = from->tr;
	to->ldtr = from->ldtr;
	to->kernel_gs_base = from->kernel_gs_base;
	to->sysenter_cs = from->sysenter_cs;
	to->sysenter_esp = from->sysenter_esp;
	to->sysenter_eip = from->sysenter_eip;
	/* Syscall MSRs stay pinned for L1; L2 gets what L1 loaded. */
	sc->n->star = from->star;
	sc->n->lstar = from->lstar;
	sc->n->cstar = from->cstar;
	sc->n->sfmask = from->sfmask;
}

static void __hv_host nested_vmsave(struct svm_cpu *sc, struct vmcb_save_area *to)
{
	const struct vmcb_save_area *from = &sc->vmcb01->save;

	to->fs = from->fs;
	to->gs = from->gs;
	to->tr = from->tr;
	to->ldtr = from->ldtr;
	to->kernel_gs_base = from->kernel_gs_base;
	to->sysenter_cs = from->sysenter_cs;
	to->sysenter_esp = from->sysenter_esp;
	to->sysenter_eip = from->sysenter_eip;
	to->star = sc->n->star ? sc->n->star : from->star;
	to->lstar = sc->n->lstar ? sc->n->lstar : from->lstar;
	to->cstar = sc->n->cstar ? sc->n->cstar : from->cstar;
	to->sfmask = sc->n->sfmask ? sc->n->sfmask : from->sfmask;
}

/* L1 executed an SVM instruction.  Faults follow the APM's order: #UD, then #GP. */
void __hv_host svm_nested_l1_exit(struct svm_cpu *sc, u32 code)
{
	struct hv_cpu *c = &sc->hv;
	struct vmcb_save_area *save;
	u64 pa = c->g.rax;

	if (!c->hv->pol.nested || !sc->vsvme || code == SVM_EXIT_SKINIT) {
		svm_inject(c, 6, false, 0);
		return;
	}
	switch (code) {
	case SVM_EXIT_STGI:
		set_gif(sc, true);
		c->g.rip += 3;
		return;
	case SVM_EXIT_CLGI:
		set_gif(sc, false);
		c->g.rip += 3;
		return;
	case SVM_EXIT_INVLPGA:
		/* L2's translations live under our own ASID: flush them all. */
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

void __hv_host svm_nested_l2_exit(struct svm_cpu *sc)
{
	/* No L2 is ever entered yet (see nested_vmrun). */
}
