/* SPDX-License-Identifier: GPL-2.0-only */
/* Intel VT-x backend: private header. */
#ifndef HV_VMX_H
#define HV_VMX_H

/* Offsets into struct vmx_cpu used by vmenter_vmx.S; checked with BUILD_BUG_ON in vmx.c. */
#define VMXC_LEAVE_RSP	0
#define VMXC_LEAVE_RIP	8
#define VMXC_LEAVE_RAX	16
/* Host stack at exit: 14 hv_regs, RAX, padding, then the struct vmx_cpu pointer. */
#define VMXC_REGS_SIZE	(15 * 8)
#define VMXC_CPU_SLOT	(16 * 8)

#ifndef __ASSEMBLY__
#include <asm/vmx.h>
#include "hyperbox.h"

struct vmx_nested;

struct vmx_cpu {
	/* asm-visible, see VMXC_* */
	u64 leave_rsp, leave_rip, leave_rax;

	struct hv_cpu hv;
	void *vmxon;
	u64 vmxon_pa;
	void *vmcs01;
	u64 vmcs01_pa;
	u64 cr4_shadow;		/* CR4 as L1 believes it is (VMXE virtual) */
	bool flush_pending;	/* INVEPT before the next entry */
	struct vmx_nested *n;
	/*
	 * The host's own IDT and GDT (HOST_IDTR/GDTR_BASE): L1's IDT is L1's
	 * code and its GDT sits in the fixmap, which the host page table does
	 * not map.  One gate: NMI, an IRET (an NMI that hits the host is
	 * dropped instead of triple-faulting the machine).
	 */
	u64 *host_idt;		/* 256 16-byte gates, one page */
	u64 *host_gdt;		/* a copy of L1's GDT page: the gate's CS, IRET's SS */
};

static inline struct vmx_cpu *to_vmx(struct hv_cpu *c)
{
	return container_of(c, struct vmx_cpu, hv);
}

/* Capabilities read once at probe. */
struct vmx_caps {
	u32 revision;
	u32 pin, proc, proc2, exit, entry;
	u64 ept_vpid;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	bool vpid, invvpid_all, shadow_vmcs;
};
extern struct vmx_caps vmx_caps;

/* Exit statistics indexes (hv_cpu_stats.exits) */
enum {
	VMX_X_CR, VMX_X_CPUID, VMX_X_MSR_READ, VMX_X_MSR_WRITE, VMX_X_VMCALL,
	VMX_X_EPT_VIOLATION, VMX_X_EPT_MISCONFIG, VMX_X_XSETBV, VMX_X_INVD,
	VMX_X_VMXON, VMX_X_VMXOFF, VMX_X_VMCLEAR, VMX_X_VMPTRLD, VMX_X_VMPTRST,
	VMX_X_VMREAD, VMX_X_VMWRITE, VMX_X_VMLAUNCH, VMX_X_VMRESUME, VMX_X_INVEPT,
	VMX_X_INVVPID, VMX_X_TRIPLE_FAULT, VMX_X_OTHER, VMX_X_NR
};

/* VMCS access from the host; a failure is a host bug, counted by the caller. */
static __always_inline u64 vmcs_read(unsigned long field)
{
	u64 v;

	asm volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
	return v;
}

static __always_inline void vmcs_write(unsigned long field, u64 v)
{
	asm volatile("vmwrite %1, %0" : : "r"(field), "rm"(v) : "cc");
}

/* vmx.c */
void vmx_inject(struct hv_cpu *c, u8 vector, bool has_err, u32 err);
void vmx_flush_ept(struct vmx_cpu *vc);

/* vmx_exit.c */
int hv_vmx_exit(struct vmx_cpu *vc, struct hv_regs *regs);
void hv_vmx_resume_failed(struct vmx_cpu *vc);
extern const char *const vmx_exit_names[];
extern u8 *vmx_msr_bitmap;

/* vmx_nested.c: L1's VMX instructions */
int vmx_nested_setup(struct hv *hv, struct vmx_cpu *vc);
void vmx_nested_exit(struct vmx_cpu *vc, u32 reason);
bool vmx_nested_vmxon(struct vmx_cpu *vc);

/* vmrun.S: the host's NMI gate (an IRET), shared with the AMD-V backend */
void hv_host_nmi(void);

/* vmenter_vmx.S */
int hv_vmx_launch(void);
int hv_vmx_devirt_call(void);
void hv_vmx_exit_entry(void);
#endif
#endif
