/* SPDX-License-Identifier: GPL-2.0-only */
/* AMD-V backend: private header. */
#ifndef HV_SVM_H
#define HV_SVM_H

/* Offsets into struct svm_cpu used by vmrun.S; checked with BUILD_BUG_ON in svm.c. */
#define SVMC_RUN_PA	0
#define SVMC_VMCB01_PA	8
#define SVMC_LEAVE_CR3	16
#define SVMC_LEAVE_CR4	24
#define SVMC_LEAVE_RSP	32
#define SVMC_LEAVE_RIP	40
#define SVMC_LEAVE_RAX	48
#define SVMC_LEAVE_EFER	56
#define SVMC_RUN_STI	64
#define SVMC_REGS_SIZE	(14 * 8)

#ifndef __ASSEMBLY__
#include <asm/svm.h>
#include "hyperbox.h"

struct svm_nested;

struct svm_cpu {
	/* asm-visible, see SVMC_* */
	u64 run_pa;		/* VMCB entered next: vmcb01 (L1) or vmcb02 (L2) */
	u64 vmcb01_pa;
	u64 leave_cr3, leave_cr4, leave_rsp, leave_rip, leave_rax, leave_efer;
	u64 run_sti;		/* host IF=1 around VMRUN: physical interrupts exit L2 */

	struct hv_cpu hv;
	struct vmcb *vmcb01, *run;
	u64 hsave_pa;
	u8 *msrpm;		/* shared by all CPUs, in the arena */
	u64 msrpm_pa;
	/* L1's view of SVM, virtualised */
	bool vsvme, vgif;
	bool vls_was_open;	/* this exit closed L1's virtual VMLOAD/VMSAVE window */
	u64 vhsave_pa;
	struct svm_nested *n;
	/* monitor: INT n exits whose instruction changed (monitor_svm.c) */
	u64 swint_rip;
	unsigned int swint_retries;
};

static inline struct svm_cpu *to_svm(struct hv_cpu *c)
{
	return container_of(c, struct svm_cpu, hv);
}

/* Exit statistics indexes (hv_cpu_stats.exits) */
enum {
	SVM_X_CR0_WRITE, SVM_X_CR4_WRITE, SVM_X_CPUID, SVM_X_MSR_READ, SVM_X_MSR_WRITE,
	SVM_X_VMRUN, SVM_X_VMMCALL, SVM_X_VMLOAD, SVM_X_VMSAVE, SVM_X_STGI, SVM_X_CLGI,
	SVM_X_SKINIT, SVM_X_INVLPGA, SVM_X_NPF, SVM_X_SHUTDOWN, SVM_X_OTHER,
	SVM_X_L2_EXIT, SVM_X_L2_REFLECTED, SVM_X_NMI, SVM_X_LOAD_DTR, SVM_X_VLS_UD,
	SVM_X_INTR, SVM_X_IRET,	/* L1's, intercepted in the GIF window only */
	SVM_X_ALL,		/* every exit: the cost figure (sysfs divides it by l2_runs) */
	SVM_X_NR
};

static inline void svm_set_intercept(struct vmcb *v, unsigned int bit)
{
	v->control.intercepts[bit / 32] |= 1U << (bit % 32);
}

static inline bool svm_has_intercept(const struct vmcb_control_area *c, unsigned int bit)
{
	return c->intercepts[bit / 32] & (1U << (bit % 32));
}

/* svm.c */
int svm_msrpm_bit(u32 msr);
void svm_inject(struct hv_cpu *c, u8 vector, bool has_err, u32 err);
int svm_skip(struct hv_cpu *c);

/* svm_exit.c */
int hv_svm_exit(struct svm_cpu *sc, struct hv_regs *regs);
extern const char *const svm_exit_names[];
extern u8 *svm_msrpm;

/* svm_nested.c: L1's SVM instructions, and everything while L2 runs */
int svm_nested_setup(struct hv *hv, struct svm_cpu *sc);
void svm_nested_l1_exit(struct svm_cpu *sc, u32 code);
void svm_nested_l2_exit(struct svm_cpu *sc);
/* svm_l1_gif.c: L1's GIF, its VMLOAD/VMSAVE and GIF windows, TR/LDTR, NMIs */
void svm_nested_l1_nmi(struct svm_cpu *sc);
void svm_nested_l1_intr(struct svm_cpu *sc);
void svm_nested_load_host_idt(struct svm_cpu *sc);
void svm_nested_vmcb01_setup(struct svm_cpu *sc);
void svm_nested_l1_sync(struct svm_cpu *sc);
void svm_nested_vls_open(struct svm_cpu *sc);
bool svm_nested_vls_close(struct svm_cpu *sc);
void svm_nested_l1_segs(struct svm_cpu *sc);
int svm_msr_l1(struct svm_cpu *sc, u32 msr, bool write, u64 *val);

/* vmrun.S */
int hv_svm_launch(struct svm_cpu *sc, u64 *rip_slot, u64 *rsp_slot, u64 host_rsp, u64 host_cr3);
int hv_svm_devirt_call(void);
void hv_host_nmi(void);
#endif
#endif
