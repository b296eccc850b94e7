/* SPDX-License-Identifier: GPL-2.0-only */
/* Intel VT-x backend: private header. */
#ifndef HV_VMX_H
#define HV_VMX_H

/* Offsets into struct vmx_cpu used by vmenter_vmx.S; checked with BUILD_BUG_ON in vmx.c. */
#define VMXC_LEAVE_RSP	0
#define VMXC_LEAVE_RIP	8
#define VMXC_LEAVE_RAX	16
#define VMXC_LAUNCH	24	/* byte: the next entry is a VMLAUNCH (a fresh VMCS02) */
#define VMXC_NMI	25	/* byte: an NMI hit the host; L1 gets it (hv_vmx_host_nmi) */
/* The host IDT's gate 255 is not present; its high half holds the struct vmx_cpu pointer. */
#define VMXC_IDT_CPU	(255 * 16 + 8)
/* Host stack at exit: 14 hv_regs, RAX, padding, then the struct vmx_cpu pointer. */
#define VMXC_REGS_SIZE	(15 * 8)
#define VMXC_CPU_SLOT	(16 * 8)

#ifndef __ASSEMBLY__

/* Exit qualification of a #DB: B0-3, BD, BS as in DR6; bit 16 set for RTM (active low in DR6). */
#define VMX_DBQ_BITS	0x600fULL
#define VMX_DBQ_BD	0x2000ULL
#define VMX_DBQ_BS	0x4000ULL
#define VMX_DBQ_RTM	0x10000ULL

#include <asm/vmx.h>
#include "hyperbox.h"

struct vmx_nested;

struct vmx_cpu {
	/* asm-visible, see VMXC_* */
	u64 leave_rsp, leave_rip, leave_rax;
	u8 launch;
	u8 nmi_pending;

	struct hv_cpu hv;
	void *vmxon;
	u64 vmxon_pa;
	void *vmcs01;
	u64 vmcs01_pa;
	u64 cr4_shadow;		/* CR4 as L1 believes it is (VMXE virtual) */
	/*
	 * STAR, LSTAR, CSTAR, SFMASK as L1 believes they are.  They equal the
	 * pinned values except while L1 is in VMX operation and has written its
	 * guest's values (KVM loads them before VMRESUME): those reach the real
	 * MSRs only while L2 runs.
	 */
	u64 sys_msr[4];
	u64 l1_msr[4];		/* what the real MSRs hold while L1 runs */
	/*
	 * IA32_SYSENTER_EIP as L1 believes it is: the kernel's entry, pinned
	 * like the syscall MSRs.  It is a VMCS field, so no MSR is switched;
	 * GUEST_SYSENTER_EIP holds the monitor's stub instead while the
	 * monitor refuses 32-bit entries (monitor_vmx.c).
	 */
	u64 sysenter_eip;
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
	/* The CPU's own settings for VMCS02: must-be-1 (low) and may-be-1 (high). */
	u64 pin_raw, proc_raw, proc2_raw, exit_raw, entry_raw;
	u64 ept_vpid;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	bool vpid, invvpid_all;
};
extern struct vmx_caps vmx_caps;

/* Exit statistics indexes (hv_cpu_stats.exits) */
enum {
	VMX_X_CR, VMX_X_CPUID, VMX_X_MSR_READ, VMX_X_MSR_WRITE, VMX_X_VMCALL,
	VMX_X_EPT_VIOLATION, VMX_X_EPT_MISCONFIG, VMX_X_XSETBV, VMX_X_INVD,
	VMX_X_VMXON, VMX_X_VMXOFF, VMX_X_VMCLEAR, VMX_X_VMPTRLD, VMX_X_VMPTRST,
	VMX_X_VMREAD, VMX_X_VMWRITE, VMX_X_VMLAUNCH, VMX_X_VMRESUME, VMX_X_INVEPT,
	VMX_X_INVVPID, VMX_X_TRIPLE_FAULT, VMX_X_OTHER,
	VMX_X_L2_REFLECTED, VMX_X_L2_EPT, VMX_X_L2_INTR, VMX_X_L2_NMI, VMX_X_L2_MSR,
	VMX_X_L2_ENTRY_FAIL, VMX_X_L2_EXC_KEPT, VMX_X_HOST_NMI, VMX_X_EXCEPTION, VMX_X_DR,
	VMX_X_ALL, VMX_X_L2_ALL, VMX_X_NR
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

static __always_inline bool vmptrld(u64 pa)
{
	u8 fail;

	asm volatile("vmptrld %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

/* vmx.c */
void vmx_inject(struct hv_cpu *c, u8 vector, bool has_err, u32 err);
bool vmx_msr_intercepted(const u8 *bitmap, u32 msr, bool write);
void vmx_flush_ept(struct vmx_cpu *vc);

/* vmx_exit.c */
int hv_vmx_exit(struct vmx_cpu *vc, struct hv_regs *regs);
int hv_vmx_entry_failed(struct vmx_cpu *vc, struct hv_regs *regs);
int vmx_msr_access(struct vmx_cpu *vc, bool write, bool l2);
void vmx_sys_msrs_load(struct vmx_cpu *vc, bool l2);
extern const char *const vmx_exit_names[];
extern u8 *vmx_msr_bitmap;

/* vmx_nested.c: L1's VMX instructions */
int vmx_nested_setup(struct hv *hv, struct vmx_cpu *vc);
void vmx_nested_exit(struct vmx_cpu *vc, u32 reason);
bool vmx_nested_vmxon(struct vmx_cpu *vc);
bool vmx_nested_in_l2(struct vmx_cpu *vc);
bool vmx_nested_launch_next(struct vmx_cpu *vc);
void vmx_nested_l2_exit(struct vmx_cpu *vc, u32 reason);
int vmx_nested_entry_failed(struct vmx_cpu *vc);
void vmx_nested_probe(void);
bool vmx_nested_cap_msr(u32 msr, u64 *val);

/* vmenter_vmx.S: the host's NMI gate (marks the NMI for L1, IRET) */
void hv_vmx_host_nmi(void);

/* vmenter_vmx.S */
int hv_vmx_launch(void);
int hv_vmx_devirt_call(void);
void hv_vmx_exit_entry(void);
#endif
#endif
