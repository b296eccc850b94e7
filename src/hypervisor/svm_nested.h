/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Nested SVM's state per CPU, shared by svm_nested.c (L1's SVM instructions,
 * the VMCB for L2, exits) and svm_shadow_npt.c (the shadows of L1's nested
 * page tables).
 */
#ifndef HYPERBOX_SVM_NESTED_H
#define HYPERBOX_SVM_NESTED_H

#include "nested_walk.h"
#include "svm.h"

#define PTE_P	(1ULL << 0)
#define PTE_W	(1ULL << 1)
#define PTE_U	(1ULL << 2)
#define PTE_A	(1ULL << 5)
#define PTE_D	(1ULL << 6)
#define PTE_PS	(1ULL << 7)
#define PTE_NX	(1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL
#define SHADOW_POOL 64			/* pages per shadow NPT (root apart): 256 per CPU, as one was */
#define SHADOW_SLOTS 4			/* L1 roots kept shadowed per CPU */
#define SHADOW_AHEAD 8			/* pages filled ahead on a sequential fault */
#define L2_ASID 2			/* L1 runs with ASID 1; L2s from 2 (a slot each) */
#define TSS_BUSY_ATTR 0x2		/* in a VMCB segment's attrib: available/busy TSS */

/* NPF error code bits (EXITINFO1) */
#define PF_P	(1ULL << 0)
#define PF_W	(1ULL << 1)
#define PF_RSVD	(1ULL << 3)
#define PF_ID	(1ULL << 4)

struct svm_nested {
	struct vmcb vmcb12;		/* private copy of L1's VMCB */
	/*
	 * Syscall MSRs as loaded by L1's VMLOAD (or left by L2): for L2 only,
	 * never for L1, whose values are pinned.  Valid once msrs_loaded.
	 */
	u64 star, lstar, cstar, sfmask;
	bool msrs_loaded;
	unsigned int tables;
	/* the hardware VMCB for L2, built from vmcb12 at each VMRUN */
	struct vmcb *vmcb02;
	u64 vmcb02_pa, vmcb12_pa;
	/* L2's MSR map: L1's OR'ed with msrpm_forced; all-ones I/O map */
	u8 *msrpm02, *msrpm_forced;
	u64 msrpm02_pa, iopm_pa;
	/*
	 * Shadows of L1's nested page tables (L2 gpa -> host pa), filled on
	 * faults, one per (root, L1 ASID) in use, the least recently run
	 * replaced; each with its own ASID in the CPU, so that switching
	 * between L2s neither refills nor flushes.  Without nested paging in
	 * L1's VMCB, L2 runs on L1's own NPT with ASID nonp_asid.
	 */
	struct svm_shadow_slot {
		struct hv_shadow s;
		u64 ncr3;		/* L1's nested_cr3 the shadow reflects */
		u32 asid12;		/* and L1's ASID for it */
		u32 asid;		/* the CPU's ASID for L2s on it */
		u64 last_run;		/* for replacement */
		u64 next_fill;		/* gpa after the last fill: sequential faults */
		bool ok, flush;
	} slot[SHADOW_SLOTS];
	struct svm_shadow_slot *cur;	/* the slot of the L2 running, NULL without NP */
	unsigned int nslots;
	u64 runs;
	u32 nonp_asid, nonp_asid12;
	bool nonp_flush, last_nonp, flushbyasid;
	u64 rsvd_mask;			/* address bits above MAXPHYADDR */
	bool nmi_pending;		/* an NMI held for L1 while its GIF is 0 */
	bool cpu_vgif, cpu_vls;		/* the CPU has virtual GIF, virtual VMLOAD/VMSAVE */
	/*
	 * L1's GIF in the CPU (vmcb01's V_GIF): STGI runs without an exit
	 * once L1's own state is back and its IF is 0 (see svm_nested_l1_sync).
	 */
	bool l1_vgif;
	/*
	 * The GIF window (svm_l1_gif.c, gifwin_open): l1_gifwin where the CPU
	 * has virtual GIF and VMLOAD/VMSAVE and gif_window=1; gifwin while L1
	 * runs in it; gifwin_ok from a #VMEXIT until L1's GIF is seen 1;
	 * event_held while an interrupt held for L1 keeps it shut.
	 */
	bool l1_gifwin, gifwin, gifwin_ok, event_held;
	bool exited;			/* a #VMEXIT went to L1 since its last CLGI */
	bool vmload_since_exit;		/* and L1 ran VMLOAD since */
	/*
	 * Virtual VMLOAD/VMSAVE for L1 while its GIF is 0 (see vls_open):
	 * l1_vls where the CPU has it and vls=1; vls_open while L1 runs with
	 * it, its own syscall MSRs and EFER.SCE kept in l1_*; hidden_at_exit,
	 * L2's hidden state as a #VMEXIT left it, tells whether L1 loaded its
	 * own since.
	 */
	bool l1_vls, vls_open, l1_sce;
	bool vmsave_open;		/* VMSAVE alone without an exit (vls_open's comment) */
	u64 l1_star, l1_lstar, l1_cstar, l1_sfmask;
	struct svm_hidden {
		struct vmcb_seg fs, gs, tr, ldtr;
		u64 kernel_gs_base, sysenter_cs, sysenter_esp, sysenter_eip;
	} hidden_at_exit;
	/* L1's TR and LDTR at launch: what it may run with at GIF=1 (svm_nested_l1_segs) */
	struct vmcb_seg l1_tr, l1_ldtr;
	u64 host_idt[2 * 256];		/* the host's IDT: an NMI gate only */
	u64 host_gdt[GDT_ENTRIES];	/* a copy of L1's: the gate's CS, IRET's SS */
};

/* svm_shadow_npt.c */
enum { SHADOW_FILLED, SHADOW_REFLECT, SHADOW_REFUSE };
/*
 * The shadow for L1's root ncr3 and ASID asid12 becomes n->cur: -1, or the
 * violation of an L1 table and *bad.
 */
int svm_shadow_select(struct svm_cpu *sc, u64 ncr3, u32 asid12, u8 tlb_ctl, u64 *bad);
/* L2 faulted at gpa: SHADOW_FILLED, SHADOW_REFLECT (*err for L1), SHADOW_REFUSE. */
int svm_shadow_fault(struct svm_cpu *sc, u64 gpa, u64 *err);

/* svm_l1_gif.c */
void svm_l1_gif_setup(struct svm_nested *n);
/* L1's GIF becomes on: what holds its interrupts and NMIs while it is 0 */
void svm_l1_set_gif(struct svm_cpu *sc, bool on);
/* A #VMEXIT to L1, for an interrupt or NMI (event) or not: GIF=0, the GIF window may open */
void svm_l1_vmexit(struct svm_cpu *sc, bool event);

#endif
