// SPDX-License-Identifier: GPL-2.0-only
/*
 * L1's GIF and what rides on it: virtual GIF, the window in which L1's
 * VMLOAD/VMSAVE run without exits, the TR and LDTR L1 may run with, and
 * the NMIs held for L1 while its GIF is 0.  The nested SVM of
 * svm_nested.c (VMRUN, the VMCB for L2, #VMEXIT) sets GIF through
 * svm_l1_set_gif; svm_exit.c calls the rest around every exit of L1.
 */
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include "svm.h"
#include "svm_nested.h"

/* Virtual GIF for L1 where the CPU has it (0: STGI and CLGI always exit). */
static bool vgif = true;
module_param(vgif, bool, 0444);
MODULE_PARM_DESC(vgif, "L1's STGI without an exit where the CPU has virtual GIF (read at load)");

/* Virtual VMLOAD/VMSAVE for L1 where the CPU has it (0: they always exit). */
static bool vls = true;
module_param(vls, bool, 0444);
MODULE_PARM_DESC(vls, "L1's VMLOAD/VMSAVE without an exit while its GIF is 0, where the CPU has "
		 "virtual VMLOAD/VMSAVE (read at load)");

/* The GIF window (gifwin_open), where the CPU has both of the above. */
static bool gif_window = true;
module_param(gif_window, bool, 0444);
MODULE_PARM_DESC(gif_window, "L1's CLGI and STGI without exits from a #VMEXIT to its next VMRUN, "
		 "its interrupts, NMIs and IRETs exiting meanwhile (needs vgif and vls; read at load)");

void svm_l1_gif_setup(struct svm_nested *n)
{
	n->cpu_vgif = boot_cpu_has(X86_FEATURE_VGIF);
	n->cpu_vls = boot_cpu_has(X86_FEATURE_V_VMSAVE_VMLOAD);
	n->l1_vgif = vgif && n->cpu_vgif;
	n->l1_vls = vls && n->cpu_vls;
	n->l1_gifwin = gif_window && n->l1_vgif && n->l1_vls;
}

static void __hv_host clear_intercept(struct vmcb *v, unsigned int bit)
{
	v->control.intercepts[bit / 32] &= ~(1U << (bit % 32));
}

/* L1's GIF: vmcb01's V_GIF with virtual GIF, else the host's copy. */
static bool __hv_host l1_gif(struct svm_cpu *sc)
{
	return sc->n->l1_vgif ? sc->vmcb01->control.int_ctl & V_GIF_MASK : sc->vgif;
}

void __hv_host svm_l1_set_gif(struct svm_cpu *sc, bool on)
{
	struct vmcb_control_area *ctl = &sc->vmcb01->control;

	/*
	 * GIF=0 must hold L1's interrupts.  With V_INTR_MASKING the physical
	 * interrupt mask is the host's RFLAGS.IF, which is 0 in the host loop
	 * while L1 runs (the loop sets IF only around VMRUN of an L2), so
	 * interrupts stay pending until STGI.  NMIs exit instead (see
	 * svm_nested_l1_nmi) and are given to L1 at STGI.  With virtual GIF
	 * the CPU keeps L1's GIF in V_GIF, and STGI exits until the mask can
	 * be handed to L1's own IF (svm_nested_l1_sync).
	 */
	sc->vgif = on;
	if (sc->n->l1_vgif)
		ctl->int_ctl = on ? ctl->int_ctl | V_GIF_MASK : ctl->int_ctl & ~V_GIF_MASK;
	if (on) {
		ctl->int_ctl &= ~V_INTR_MASKING_MASK;
		clear_intercept(sc->vmcb01, INTERCEPT_NMI);
		if (sc->n->l1_vgif)
			clear_intercept(sc->vmcb01, INTERCEPT_STGI);
		sc->n->event_held = false;
		sc->n->gifwin_ok = false;
		if (sc->n->nmi_pending && !(ctl->event_inj & SVM_EVTINJ_VALID)) {
			ctl->event_inj = 2 | SVM_EVTINJ_TYPE_NMI | SVM_EVTINJ_VALID;
			sc->n->nmi_pending = false;
		}
	} else {
		ctl->int_ctl |= V_INTR_MASKING_MASK;
		svm_set_intercept(sc->vmcb01, INTERCEPT_NMI);
		svm_set_intercept(sc->vmcb01, INTERCEPT_STGI);
	}
}

/*
 * Before launch: L1 starts with GIF=1, in V_GIF where the CPU keeps it.
 * Its TR and LDTR (vmcb01 holds the CPU's, VMSAVEd) are the ones it may
 * run with at GIF=1.
 */
void svm_nested_vmcb01_setup(struct svm_cpu *sc)
{
	sc->n->l1_tr = sc->vmcb01->save.tr;
	sc->n->l1_ldtr = sc->vmcb01->save.ldtr;
	if (!sc->n->l1_vgif)
		return;
	sc->vmcb01->control.int_ctl |= V_GIF_ENABLE_MASK | V_GIF_MASK;
	clear_intercept(sc->vmcb01, INTERCEPT_STGI);
}

/*
 * With virtual GIF, after every exit L1 takes (but VMRUN): once L1 has
 * reloaded its own VMLOAD state after a #VMEXIT and runs with IF=0, its
 * IF holds its interrupts as well as GIF=0 would until its STGI, so the
 * host's mask goes and STGI no longer exits (kvm_amd: the exits of
 * reload_tss come after VMLOAD and CLI, before STGI).  An NMI held for L1
 * keeps the STGI exit.  An exit that finds V_GIF=1 (L1 ran STGI without
 * an exit) drops what GIF=0 needed.  An L1 that set IF again before STGI
 * would take its interrupts at GIF=0 with its own state: its own affair.
 */
void __hv_host svm_nested_l1_sync(struct svm_cpu *sc)
{
	struct svm_nested *n = sc->n;
	struct vmcb_control_area *ctl = &sc->vmcb01->control;

	if (!n->l1_vgif || sc->run != sc->vmcb01)
		return;
	if (ctl->int_ctl & V_GIF_MASK) {
		if (!sc->vgif || (ctl->int_ctl & V_INTR_MASKING_MASK) || n->nmi_pending)
			svm_l1_set_gif(sc, true);
		return;
	}
	if ((ctl->int_ctl & V_INTR_MASKING_MASK) && n->vmload_since_exit && !n->nmi_pending &&
	    !(sc->vmcb01->save.rflags & X86_EFLAGS_IF)) {
		ctl->int_ctl &= ~V_INTR_MASKING_MASK;
		clear_intercept(sc->vmcb01, INTERCEPT_STGI);
	}
}

/*
 * The GIF window: from a #VMEXIT to L1's next VMRUN, neither its STGI nor
 * its CLGI exits (kvm_amd's path is #VMEXIT, VMSAVE, VMLOAD of its own
 * state, STGI, the exit's handling, CLGI, VMLOAD of L2's state, VMRUN),
 * so Hyper-box no longer learns when L1's GIF changes.  What GIF=0 did
 * for L1 is done by exits instead, all of which close the window:
 *  - a physical interrupt exits (V_INTR_MASKING with the host's IF=1
 *    around L1's VMRUN, and the INTR intercept): at GIF=1 L1 takes it at
 *    once, the intercept gone; at GIF=0 it is held until STGI, which
 *    exits again (svm_l1_set_gif);
 *  - an NMI exits (svm_nested_l1_nmi), as at GIF=0 outside the window;
 *  - a SYSCALL or SYSRET is a #UD (the VMLOAD/VMSAVE window's EFER.SCE=0),
 *    an IRET exits: L1 reaches user mode only after an exit.
 * So L1 takes no interrupt, NMI or system call and runs no user code with
 * a TR, LDTR or syscall MSR of a virtual VMLOAD before an exit has checked
 * them (svm_nested_l1_segs, vls_close) and, at GIF=1, put the launch
 * values and L1's own back: a TR or LDTR of L1's choosing in effect at
 * GIF=1 is a violation there, as when STGI exited.  An interrupt or NMI
 * already pending keeps the window shut until STGI (event_held,
 * nmi_pending): open, it would exit at once.  Which of #VMEXIT..STGI and
 * CLGI..VMRUN an exit at GIF=0 falls in is not known, so it counts as the
 * latter (exited=0): the VMLOAD/VMSAVE window stays whole.  The window
 * opens only from a #VMEXIT until Hyper-box sees L1's GIF at 1 (gifwin_ok):
 * a CLGI that exits is outside KVM's loop, or after an exit ended the
 * window, and keeps today's STGI exit.
 */
static void __hv_host gifwin_open(struct svm_cpu *sc)
{
	struct vmcb *v = sc->vmcb01;

	if (!sc->n->l1_gifwin || !sc->n->gifwin_ok || sc->n->event_held || sc->n->nmi_pending)
		return;
	clear_intercept(v, INTERCEPT_CLGI);
	clear_intercept(v, INTERCEPT_STGI);
	svm_set_intercept(v, INTERCEPT_INTR);
	svm_set_intercept(v, INTERCEPT_NMI);
	svm_set_intercept(v, INTERCEPT_IRET);
	v->control.int_ctl |= V_INTR_MASKING_MASK;
	sc->run_sti = 1;
	sc->n->gifwin = true;
}

/* At every exit of L1 with the GIF window open: GIF as the CPU left it, CLGI exits again. */
static void __hv_host gifwin_close(struct svm_cpu *sc)
{
	struct svm_nested *n = sc->n;
	struct vmcb *v = sc->vmcb01;
	bool gif = v->control.int_ctl & V_GIF_MASK;

	n->gifwin = false;
	sc->run_sti = 0;
	clear_intercept(v, INTERCEPT_INTR);
	clear_intercept(v, INTERCEPT_IRET);
	svm_set_intercept(v, INTERCEPT_CLGI);
	if (!gif) {
		n->exited = false;
		n->vmload_since_exit = false;
	}
	svm_l1_set_gif(sc, gif);
}

void __hv_host svm_l1_vmexit(struct svm_cpu *sc, bool event)
{
	sc->n->exited = true;
	sc->n->vmload_since_exit = false;
	svm_l1_set_gif(sc, false);
	sc->n->gifwin_ok = true;
	sc->n->event_held = event;	/* still pending in the CPU */
}

/* L1 had a physical interrupt coming in the GIF window: at GIF=0 it waits for STGI. */
void __hv_host svm_nested_l1_intr(struct svm_cpu *sc)
{
	if (!l1_gif(sc))
		sc->n->event_held = true;
}

/*
 * Virtual VMLOAD/VMSAVE for L1 (where the CPU has it; vls=0 turns it off).
 *
 * A VMLOAD or VMSAVE that does not exit takes RAX as a guest-physical
 * address through L1's nested page table, Hyper-box's own: Hyper-box
 * memory is not mapped there and protected pages are read-only, so a
 * VMLOAD from the arena or a VMSAVE into a protected page ends in an NPF
 * (hv_protect_npf refuses it, as it refuses a MOV there).  What it loads
 * into L1 itself is FS, GS, KernelGSBase and SYSENTER_*, which L1 may
 * write anyway, TR and LDTR, checked as the emulated VMLOAD's are before
 * L1 runs at GIF=1 (svm_nested_l1_segs), and STAR/LSTAR/CSTAR/SFMASK,
 * which Hyper-box pins (pin_msrs; CSTAR is also the escape monitor's
 * 32-bit entry): those must never be in effect
 * for L1.  Nothing but SYSCALL and SYSRET uses them, and with EFER.SCE=0
 * both raise #UD.  So the intercepts go only while L1's GIF is 0 (KVM's
 * CLGI..VMRUN and #VMEXIT..STGI, where it loads and saves L2's state and
 * its own), or in the GIF window (gifwin_open), and L1 is in long mode, with L1's EFER.SCE clear and #UD
 * intercepted: the CPU holds the virtual syscall MSRs (what L1 last
 * loaded, for L2), L1's own wait in l1_*.  L1's next exit, whatever it
 * is, closes the window before anything else is looked at: what the CPU
 * holds becomes the virtual state, as an emulated VMLOAD would make it,
 * and L1's own MSRs and SCE are back; a SYSCALL or SYSRET in the window
 * is such an exit (#UD) and runs again with them.  L1 reads EFER only
 * through an intercepted RDMSR.  Outside the window VMSAVE alone goes
 * without an exit while the CPU's state is the virtual one: it loads
 * nothing, and stores only where a MOV may.
 */
void __hv_host svm_nested_vls_open(struct svm_cpu *sc)
{
	struct svm_nested *n = sc->n;
	struct vmcb *v = sc->vmcb01;

	/*
	 * Long mode only, and only while leaving it (MOV to CR0) exits: what
	 * a CPU does with a virtual VMLOAD/VMSAVE out of long mode is not
	 * relied on.
	 */
	if (!n->l1_vls || n->vls_open || n->vmsave_open || sc->run != v ||
	    !(v->save.efer & EFER_LMA) || !svm_has_intercept(&v->control, INTERCEPT_CR0_WRITE))
		return;
	if (l1_gif(sc) || (n->exited && n->vmload_since_exit)) {
		/*
		 * VMSAVE alone (kvm_amd's of its host state, each time it comes
		 * back from user space), where it stores what the emulated one
		 * would: the CPU's syscall MSRs are the virtual ones.  VMLOAD
		 * still exits.
		 */
		if (n->msrs_loaded && (n->star != v->save.star || n->lstar != v->save.lstar ||
				       n->cstar != v->save.cstar || n->sfmask != v->save.sfmask))
			return;
		clear_intercept(v, INTERCEPT_VMSAVE);
		v->control.virt_ext |= VIRTUAL_VMLOAD_VMSAVE_ENABLE_MASK;
		n->vmsave_open = true;
		return;
	}
	n->l1_star = v->save.star;
	n->l1_lstar = v->save.lstar;
	n->l1_cstar = v->save.cstar;
	n->l1_sfmask = v->save.sfmask;
	n->l1_sce = v->save.efer & EFER_SCE;
	if (n->msrs_loaded) {
		v->save.star = n->star;
		v->save.lstar = n->lstar;
		v->save.cstar = n->cstar;
		v->save.sfmask = n->sfmask;
	}
	if (n->exited) {
		n->hidden_at_exit = (struct svm_hidden){ v->save.fs, v->save.gs, v->save.tr,
			v->save.ldtr, v->save.kernel_gs_base, v->save.sysenter_cs,
			v->save.sysenter_esp, v->save.sysenter_eip };
	}
	v->save.efer &= ~EFER_SCE;
	svm_set_intercept(v, INTERCEPT_EXCEPTION_OFFSET + UD_VECTOR);
	clear_intercept(v, INTERCEPT_VMLOAD);
	clear_intercept(v, INTERCEPT_VMSAVE);
	v->control.virt_ext |= VIRTUAL_VMLOAD_VMSAVE_ENABLE_MASK;
	n->vls_open = true;
	gifwin_open(sc);
}

/* At every exit of L1: was the window open (then it is closed now)?  VMSAVE exits again too. */
bool __hv_host svm_nested_vls_close(struct svm_cpu *sc)
{
	struct svm_nested *n = sc->n;
	struct vmcb *v = sc->vmcb01;
	struct svm_hidden now;

	if (n->vmsave_open) {
		n->vmsave_open = false;
		v->control.virt_ext &= ~VIRTUAL_VMLOAD_VMSAVE_ENABLE_MASK;
		svm_set_intercept(v, INTERCEPT_VMSAVE);
	}
	if (!n->vls_open)
		return false;
	n->vls_open = false;
	v->control.virt_ext &= ~VIRTUAL_VMLOAD_VMSAVE_ENABLE_MASK;
	svm_set_intercept(v, INTERCEPT_VMLOAD);
	svm_set_intercept(v, INTERCEPT_VMSAVE);
	clear_intercept(v, INTERCEPT_EXCEPTION_OFFSET + UD_VECTOR);
	if (n->l1_sce)
		v->save.efer |= EFER_SCE;
	n->star = v->save.star;
	n->lstar = v->save.lstar;
	n->cstar = v->save.cstar;
	n->sfmask = v->save.sfmask;
	n->msrs_loaded = true;
	v->save.star = n->l1_star;
	v->save.lstar = n->l1_lstar;
	v->save.cstar = n->l1_cstar;
	v->save.sfmask = n->l1_sfmask;
	/*
	 * After a #VMEXIT: L1 loaded its own hidden state if it is no longer
	 * what the exit left (one equal to it is the same state anyway).
	 */
	if (n->exited && !n->vmload_since_exit) {
		now = (struct svm_hidden){ v->save.fs, v->save.gs, v->save.tr, v->save.ldtr,
			v->save.kernel_gs_base, v->save.sysenter_cs, v->save.sysenter_esp,
			v->save.sysenter_eip };
		n->vmload_since_exit = memcmp(&now, &n->hidden_at_exit, sizeof(now)) != 0;
	}
	if (n->gifwin)
		gifwin_close(sc);
	return true;
}

/* TR as at launch, busy or not (LTR sets busy; QEMU's TCG loads the type from before) */
static bool __hv_host l1_tr_ok(const struct vmcb_seg *tr, const struct vmcb_seg *launch)
{
	return tr->selector == launch->selector && tr->base == launch->base &&
	       tr->limit == launch->limit &&
	       (tr->attrib | TSS_BUSY_ATTR) == (launch->attrib | TSS_BUSY_ATTR);
}

/*
 * L1's TR and LDTR.  LTR and LLDT load them from the GDT, which is locked
 * (LTR only of the kernel's TSS, through protect.c), but VMLOAD, emulated
 * or virtual, loads them with their hidden parts from any page L1 names: a
 * TR whose base is a TSS of L1's choosing moves the interrupt stacks and
 * the I/O permission bitmap, an LDT of its choosing can hold call gates
 * into the kernel.  KVM needs that VMLOAD only while its GIF is 0 (L2's
 * state before VMRUN, its own back after #VMEXIT), so L1 runs at GIF=1
 * only with the TR and LDTR it had at launch (Linux loads no other TR,
 * and no LDT: the GDT's LDT descriptor is locked too).  At the end of
 * every exit of L1:
 *  - GIF=1: others are a violation and the launch values go back before
 *    L1 runs again (an emulated VMLOAD at GIF=1; an STGI exit after a
 *    VMLOAD at GIF=0);
 *  - GIF=0 with the host still holding L1's interrupts and STGI exiting:
 *    anything goes (L2's, in KVM's world switch), STGI's exit checks;
 *  - GIF=0 with that handed to L1's IF (virtual GIF, svm_nested_l1_sync):
 *    others take it back, so that STGI exits and is checked.
 * A virtual VMLOAD runs only while GIF is 0 and STGI exits (vls_open), or
 * in the GIF window, where L1 takes no interrupt, NMI or system call and
 * enters no user mode before an exit has checked (gifwin_open).
 */
void __hv_host svm_nested_l1_segs(struct svm_cpu *sc)
{
	struct svm_nested *n = sc->n;
	struct vmcb *v = sc->vmcb01;

	if (sc->run != v || (l1_tr_ok(&v->save.tr, &n->l1_tr) &&
			     !memcmp(&v->save.ldtr, &n->l1_ldtr, sizeof(n->l1_ldtr))))
		return;
	if (!l1_gif(sc)) {
		v->control.int_ctl |= V_INTR_MASKING_MASK;
		svm_set_intercept(v, INTERCEPT_STGI);
		return;
	}
	hv_violation(&sc->hv, HV_V_L1_TR_LDTR, v->save.tr.base, v->save.ldtr.base);
	v->save.tr = n->l1_tr;
	v->save.ldtr = n->l1_ldtr;
}

/* L1 had an NMI coming while its GIF is 0: take it in the host now, give it at STGI. */
void __hv_host svm_nested_l1_nmi(struct svm_cpu *sc)
{
	/*
	 * The host's gate is an IRET.  PAUSE gives the NMI an instruction
	 * boundary with GIF=1 also under QEMU's TCG, which checks for
	 * interrupts only when it leaves a chain of translated blocks.
	 */
	asm volatile("stgi; pause; clgi" : : : "memory");
	sc->n->nmi_pending = true;
	if (l1_gif(sc))
		svm_l1_set_gif(sc, true);
	else
		svm_set_intercept(sc->vmcb01, INTERCEPT_STGI);	/* the NMI goes in at STGI */
}

/*
 * On the CPU, before launch, GIF=0: the host runs on its own IDT and GDT
 * (VMRUN keeps the host's in HSAVE).  L1's GDT sits in the fixmap, which
 * the host page table does not map, and L1's IDT is L1's code.
 */
void svm_nested_load_host_idt(struct svm_cpu *sc)
{
	u64 *g = &sc->n->host_idt[2 * 2], a = (u64)hv_host_nmi;
	struct { u16 limit; u64 base; } __packed idtr = { sizeof(sc->n->host_idt) - 1,
							   (u64)sc->n->host_idt }, gdtr;

	asm volatile("sgdt %0" : "=m"(gdtr));
	memcpy(sc->n->host_gdt, (void *)gdtr.base,
	       min_t(size_t, gdtr.limit + 1, sizeof(sc->n->host_gdt)));
	gdtr.limit = sizeof(sc->n->host_gdt) - 1;
	gdtr.base = (u64)sc->n->host_gdt;
	asm volatile("lgdt %0" : : "m"(gdtr));

	/* 64-bit interrupt gate, DPL 0, present, no IST: runs on the host stack */
	g[0] = (a & 0xffff) | ((u64)__KERNEL_CS << 16) | (0x8eULL << 40) |
	       (((a >> 16) & 0xffff) << 48);
	g[1] = a >> 32;
	asm volatile("lidt %0" : : "m"(idtr));
}
