// SPDX-License-Identifier: GPL-2.0-only
/*
 * Intel VT-x backend: checks, per-CPU VMXON region and VMCS, late launch
 * and leaving.
 *
 * Late launch: on each CPU, with interrupts off, VMXON, then a VMCS whose
 * guest state is the CPU's current state and whose guest RIP/RSP point just
 * after the VMLAUNCH (vmenter_vmx.S), so the running kernel carries on as
 * L1.  The host state is the same kernel context on a private stack and the
 * private page table (hostpt.c); exits land in hv_vmx_exit_entry.
 *
 * L1 runs under an identity EPT built by npt.c: its table format matches
 * EPT bit for bit (P/W/U = R/W/X, PS = bit 7); leaves carry the write-back
 * memory type through hv_vendor_ops.npt_leaf_bits, device memory above RAM
 * and 4 GiB the uncacheable one (npt_mmio_bits).
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/desc.h>
#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include "vmx.h"
#include "monitor.h"

#define HOST_STACK_SIZE	(4 * PAGE_SIZE)
#define VMX_VPID_L1	1
#define EPT_LEAF_WB	(VMX_EPTP_MT_WB << 3)	/* leaf memory type, bits 5:3 */
#define EPT_LEAF_UC	(VMX_EPTP_MT_UC << 3)	/* device memory: PAT's WC still combines to WC */

struct vmx_caps vmx_caps __ro_after_init;

static void vmx_build_bug_checks(void)
{
	BUILD_BUG_ON(offsetof(struct vmx_cpu, leave_rsp) != VMXC_LEAVE_RSP);
	BUILD_BUG_ON(offsetof(struct vmx_cpu, leave_rip) != VMXC_LEAVE_RIP);
	BUILD_BUG_ON(offsetof(struct vmx_cpu, leave_rax) != VMXC_LEAVE_RAX);
	BUILD_BUG_ON(offsetof(struct vmx_cpu, launch) != VMXC_LAUNCH);
	BUILD_BUG_ON(offsetof(struct vmx_cpu, nmi_pending) != VMXC_NMI);
	BUILD_BUG_ON(sizeof(struct hv_regs) + 8 != VMXC_REGS_SIZE);
	BUILD_BUG_ON(VMX_X_NR > HV_NR_EXIT_IDX);
}

/*
 * A control word: the bits we need (min) and would like (opt), within what
 * the capability MSR allows (low half: must be 1, high half: may be 1).
 */
static int vmx_adjust(u32 msr, u32 min, u32 opt, u32 *out)
{
	u64 cap;
	u32 ctl;

	if (rdmsrl_safe(msr, &cap))
		return -EIO;
	ctl = ((min | opt) & (u32)(cap >> 32)) | (u32)cap;
	if (min & ~ctl)
		return -EOPNOTSUPP;
	*out = ctl;
	return 0;
}

static int vmx_probe(void)
{
	bool true_ctls;
	u64 basic, fc;
	u32 ecx = cpuid_ecx(1);

	vmx_build_bug_checks();
	/* CPUID, not boot_cpu_has: the kernel clears X86_FEATURE_VMX when firmware locked it off. */
	if (!(ecx & (1U << (X86_FEATURE_VMX & 31)))) {
		pr_err(HV_NAME ": refusing to load: CPU has no VT-x (VMX)\n");
		return -ENODEV;
	}
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &fc)) {
		pr_err(HV_NAME ": refusing to load: IA32_FEATURE_CONTROL cannot be read\n");
		return -ENODEV;
	}
	if ((fc & FEAT_CTL_LOCKED) && !(fc & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err(HV_NAME ": refusing to load: VMX is disabled and locked by firmware (IA32_FEATURE_CONTROL=%#llx)\n",
		       fc);
		return -EPERM;
	}
	if (!(fc & FEAT_CTL_LOCKED)) {
		/* Linux locks it at boot; an unlocked MSR here means it did not: do what it does. */
		pr_err(HV_NAME ": refusing to load: IA32_FEATURE_CONTROL is not locked (%#llx); the kernel did not enable VMX\n",
		       fc);
		return -EPERM;
	}
	if (native_read_cr4() & X86_CR4_VMXE) {
		pr_err(HV_NAME ": refusing to load: VMX already in use (another hypervisor, e.g. kvm_intel, is loaded)\n");
		return -EBUSY;
	}
	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	vmx_caps.revision = (u32)basic & 0x7fffffff;
	if (((basic & VMX_BASIC_MEM_TYPE_MASK) >> VMX_BASIC_MEM_TYPE_SHIFT) != VMX_BASIC_MEM_TYPE_WB ||
	    (basic >> VMX_BASIC_VMCS_SIZE_SHIFT & 0x1fff) > PAGE_SIZE) {
		pr_err(HV_NAME ": refusing to load: unsupported VMX_BASIC %#llx\n", basic);
		return -ENODEV;
	}
	if (vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
		       CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, 0,
		       &vmx_caps.proc) ||
	    vmx_adjust(MSR_IA32_VMX_PROCBASED_CTLS2, SECONDARY_EXEC_ENABLE_EPT,
		       SECONDARY_EXEC_ENABLE_VPID | SECONDARY_EXEC_ENABLE_RDTSCP |
		       SECONDARY_EXEC_ENABLE_INVPCID | SECONDARY_EXEC_XSAVES |
		       SECONDARY_EXEC_ENABLE_USR_WAIT_PAUSE, &vmx_caps.proc2)) {
		pr_err(HV_NAME ": refusing to load: CPU has VMX but no EPT\n");
		return -ENODEV;
	}
	if (rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &vmx_caps.ept_vpid) ||
	    !(vmx_caps.ept_vpid & VMX_EPT_PAGE_WALK_4_BIT) || !(vmx_caps.ept_vpid & VMX_EPTP_WB_BIT) ||
	    !(vmx_caps.ept_vpid & VMX_EPT_2MB_PAGE_BIT) || !(vmx_caps.ept_vpid & VMX_EPT_INVEPT_BIT) ||
	    !(vmx_caps.ept_vpid & VMX_EPT_EXTENT_GLOBAL_BIT)) {
		pr_err(HV_NAME ": refusing to load: EPT lacks 4-level walks, write-back, 2 MiB pages or INVEPT (cap %#llx)\n",
		       vmx_caps.ept_vpid);
		return -ENODEV;
	}
	/* The VPID bits are in the MSR's high half (asm/vmx.h counts them from bit 32). */
	vmx_caps.invvpid_all = (vmx_caps.ept_vpid >> 32) & VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT;
	vmx_caps.vpid = (vmx_caps.proc2 & SECONDARY_EXEC_ENABLE_VPID) && vmx_caps.invvpid_all &&
			((vmx_caps.ept_vpid >> 32) & VMX_VPID_INVVPID_BIT);
	if (!vmx_caps.vpid)
		vmx_caps.proc2 &= ~SECONDARY_EXEC_ENABLE_VPID;
	if (vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
		       0, 0, &vmx_caps.pin) ||
	    vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
		       VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER |
		       VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT, VM_EXIT_SAVE_DEBUG_CONTROLS,
		       &vmx_caps.exit) ||
	    vmx_adjust(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
		       VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_LOAD_IA32_PAT,
		       VM_ENTRY_LOAD_DEBUG_CONTROLS, &vmx_caps.entry)) {
		pr_err(HV_NAME ": refusing to load: VMX lacks EFER/PAT switching or 64-bit hosts\n");
		return -ENODEV;
	}
	/* CR3-load/store exiting must be off for the kernel to switch CR3 at full speed. */
	if (vmx_caps.proc & (CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING)) {
		pr_err(HV_NAME ": refusing to load: VMX cannot turn CR3 exiting off\n");
		return -ENODEV;
	}
	/* The monitor's breakpoints live in GUEST_DR7: without loading it at entry, run without them. */
	if (hv_mon_mode_param != HV_MON_OFF && !(vmx_caps.entry & VM_ENTRY_LOAD_DEBUG_CONTROLS)) {
		pr_warn(HV_NAME ": monitor: VMX cannot load DR7 at VM entry; running with the monitor off\n");
		hv_mon_mode_param = HV_MON_OFF;
	}
	rdmsrl(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS, vmx_caps.pin_raw);
	rdmsrl(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS, vmx_caps.proc_raw);
	rdmsrl(MSR_IA32_VMX_PROCBASED_CTLS2, vmx_caps.proc2_raw);
	rdmsrl(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS, vmx_caps.exit_raw);
	rdmsrl(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS, vmx_caps.entry_raw);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, vmx_caps.cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, vmx_caps.cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, vmx_caps.cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, vmx_caps.cr4_fixed1);
	vmx_nested_probe();
	return 0;
}

u8 *vmx_msr_bitmap __ro_after_init;

/* 4 KiB bitmap: reads of 0..1fff, reads of c0000000..c0001fff, then writes of both. */
static void vmx_msr_intercept(u32 msr, bool read, bool write)
{
	u32 base = msr >= 0xc0000000 ? 1024 : 0, bit = msr & 0x1fff;

	if (read)
		vmx_msr_bitmap[base + bit / 8] |= 1 << (bit % 8);
	if (write)
		vmx_msr_bitmap[2048 + base + bit / 8] |= 1 << (bit % 8);
}

/* Would an access to msr exit under this bitmap?  MSRs outside its two ranges always do. */
bool __hv_host vmx_msr_intercepted(const u8 *bitmap, u32 msr, bool write)
{
	u32 base, bit = msr & 0x1fff;

	if (msr <= 0x1fff)
		base = 0;
	else if (msr - 0xc0000000 <= 0x1fff)
		base = 1024;
	else
		return true;
	return bitmap[(write ? 2048 : 0) + base + bit / 8] & (1 << (bit % 8));
}

static struct hv_cpu *vmx_cpu_setup(struct hv *hv, int cpu)
{
	struct vmx_cpu *vc = hv_arena_alloc(&hv->arena, sizeof(*vc), NULL);
	struct hv_cpu *c;
	void *stack;
	u64 pa;
	int ret;

	if (!vc)
		return ERR_PTR(-ENOMEM);
	if (!vmx_msr_bitmap) {
		vmx_msr_bitmap = hv_arena_alloc(&hv->arena, PAGE_SIZE, NULL);
		if (!vmx_msr_bitmap)
			return ERR_PTR(-ENOMEM);
		/* Syscall MSRs are not in the VMCS: L1 writes the real ones unless stopped here. */
		vmx_msr_intercept(MSR_STAR, true, true);
		vmx_msr_intercept(MSR_LSTAR, true, true);
		vmx_msr_intercept(MSR_CSTAR, true, true);
		vmx_msr_intercept(MSR_SYSCALL_MASK, true, true);
		/*
		 * SYSENTER_EIP is a VMCS field, pinned like them; reads too, so
		 * that the monitor's stub there stays out of L1's sight.
		 */
		vmx_msr_intercept(MSR_IA32_SYSENTER_EIP, true, true);
		vmx_msr_intercept(MSR_IA32_FEAT_CTL, true, true);
		/* L1 sees the VMX features Hyper-box can run its guests with (vmx_nested.c). */
		for (ret = MSR_IA32_VMX_BASIC; ret <= MSR_IA32_VMX_VMFUNC; ret++)
			vmx_msr_intercept(ret, true, true);
	}
	c = &vc->hv;
	c->hv = hv;
	c->cpu = cpu;
	vc->vmxon = hv_arena_alloc(&hv->arena, PAGE_SIZE, &vc->vmxon_pa);
	vc->vmcs01 = hv_arena_alloc(&hv->arena, PAGE_SIZE, &vc->vmcs01_pa);
	stack = hv_arena_alloc(&hv->arena, HOST_STACK_SIZE, &pa);
	vc->host_idt = hv_arena_alloc(&hv->arena, PAGE_SIZE, NULL);
	vc->host_gdt = hv_arena_alloc(&hv->arena, PAGE_SIZE, NULL);
	if (!vc->vmxon || !vc->vmcs01 || !stack || !vc->host_idt || !vc->host_gdt)
		return ERR_PTR(-ENOMEM);
	/*
	 * [top - 16] holds vc for the exit path; HOST_RSP is 8 below it so
	 * that after the 15 pushes in vmenter_vmx.S the stack is 16-aligned.
	 */
	c->host_stack_top = (u64)stack + HOST_STACK_SIZE - 16;
	*(struct vmx_cpu **)c->host_stack_top = vc;
	ret = vmx_nested_setup(hv, vc);
	return ret ? ERR_PTR(ret) : c;
}

/* VMX access rights from a GDT descriptor (type/S/DPL/P, AVL/L/DB/G); null = unusable. */
static u32 vmx_ar(u16 sel, const struct desc_ptr *gdt, u64 *base, u32 *limit)
{
	u64 d;
	u32 ar;

	*base = 0;
	*limit = 0;
	if (!(sel & ~3))
		return 1U << 16;
	d = *(u64 *)(gdt->address + (sel & ~7));
	ar = ((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12);
	*limit = (u32)((d & 0xffff) | ((d >> 32) & 0xf0000));
	if (d & (1ULL << 55))
		*limit = (*limit << 12) | 0xfff;
	*base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
	if (!(ar & 0x10)) {		/* system descriptor (TSS, LDT): 16 bytes */
		*base |= *(u64 *)(gdt->address + (sel & ~7) + 8) << 32;
		return ar;
	}
	return ar | 1;			/* code/data: VM entry wants the accessed bit */
}

#define SEG(name, sel_expr) do {					\
	u16 s; u64 b; u32 l, ar;					\
	asm volatile("mov %%" #sel_expr ", %0" : "=r"(s));		\
	ar = vmx_ar(s, &gdt, &b, &l);					\
	vmcs_write(GUEST_##name##_SELECTOR, s);				\
	vmcs_write(GUEST_##name##_AR_BYTES, ar);			\
	vmcs_write(GUEST_##name##_LIMIT, l);				\
	vmcs_write(GUEST_##name##_BASE, 0);				\
} while (0)

static void vmx_fill_vmcs(struct vmx_cpu *vc)
{
	struct hv *hv = vc->hv.hv;
	struct desc_ptr gdt, idt;
	u64 tr_base, ldt_base, cr4 = native_read_cr4();
	u32 tr_limit, ldt_limit, ar;
	u16 tr, ldt;
	u64 cr0_mask, cr4_mask;

	native_store_gdt(&gdt);
	store_idt(&idt);
	/* controls */
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx_caps.pin);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx_caps.proc);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx_caps.proc2);
	vmcs_write(VM_EXIT_CONTROLS, vmx_caps.exit);
	vmcs_write(VM_ENTRY_CONTROLS, vmx_caps.entry);
	vmcs_write(EXCEPTION_BITMAP, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write(MSR_BITMAP, __pa(vmx_msr_bitmap));
	vmcs_write(EPT_POINTER, hv->npt_root_pa | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4);
	if (vmx_caps.vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, VMX_VPID_L1);
	vmcs_write(VMCS_LINK_POINTER, -1ULL);
	/*
	 * CR0/CR4 bits owned by the host: VMX's fixed bits (L1 must not clear
	 * them), the pinned ones, and CR4.VMXE, which L1 sees as its own
	 * virtual bit (vmx_nested.c).
	 */
	cr0_mask = (vmx_caps.cr0_fixed0 | ~vmx_caps.cr0_fixed1) & ~(X86_CR0_PE | X86_CR0_PG);
	cr0_mask |= X86_CR0_PE | X86_CR0_PG | (hv->pol.pin_cr ? X86_CR0_WP : 0);
	cr4_mask = vmx_caps.cr4_fixed0 | ~vmx_caps.cr4_fixed1 | X86_CR4_VMXE |
		   (hv->pol.pin_cr ? X86_CR4_SMEP | X86_CR4_SMAP : 0);
	vmcs_write(CR0_GUEST_HOST_MASK, cr0_mask);
	vmcs_write(CR0_READ_SHADOW, native_read_cr0());
	vmcs_write(CR4_GUEST_HOST_MASK, cr4_mask);
	vc->cr4_shadow = cr4 & ~X86_CR4_VMXE;
	vmcs_write(CR4_READ_SHADOW, vc->cr4_shadow);

	/* guest: this CPU as it is now */
	vmcs_write(GUEST_CR0, native_read_cr0());
	vmcs_write(GUEST_CR3, __native_read_cr3());
	vmcs_write(GUEST_CR4, cr4);
	vmcs_write(GUEST_DR7, native_get_debugreg(7));
	vmcs_write(GUEST_RFLAGS, native_save_fl());
	SEG(CS, cs);
	SEG(SS, ss);
	SEG(DS, ds);
	SEG(ES, es);
	SEG(FS, fs);
	SEG(GS, gs);
	vmcs_write(GUEST_FS_BASE, native_read_msr(MSR_FS_BASE));
	vmcs_write(GUEST_GS_BASE, native_read_msr(MSR_GS_BASE));
	asm volatile("str %0" : "=r"(tr));
	ar = vmx_ar(tr, &gdt, &tr_base, &tr_limit);
	vmcs_write(GUEST_TR_SELECTOR, tr);
	vmcs_write(GUEST_TR_AR_BYTES, ar);
	vmcs_write(GUEST_TR_LIMIT, tr_limit);
	vmcs_write(GUEST_TR_BASE, tr_base);
	asm volatile("sldt %0" : "=r"(ldt));
	ar = vmx_ar(ldt, &gdt, &ldt_base, &ldt_limit);
	vmcs_write(GUEST_LDTR_SELECTOR, ldt);
	vmcs_write(GUEST_LDTR_AR_BYTES, ar);
	vmcs_write(GUEST_LDTR_LIMIT, ldt_limit);
	vmcs_write(GUEST_LDTR_BASE, ldt_base);
	vmcs_write(GUEST_GDTR_BASE, gdt.address);
	vmcs_write(GUEST_GDTR_LIMIT, gdt.size);
	vmcs_write(GUEST_IDTR_BASE, idt.address);
	vmcs_write(GUEST_IDTR_LIMIT, idt.size);
	vmcs_write(GUEST_IA32_DEBUGCTL, native_read_msr(MSR_IA32_DEBUGCTLMSR));
	vmcs_write(GUEST_IA32_PAT, native_read_msr(MSR_IA32_CR_PAT));
	vmcs_write(GUEST_IA32_EFER, native_read_msr(MSR_EFER));
	vmcs_write(GUEST_SYSENTER_CS, native_read_msr(MSR_IA32_SYSENTER_CS));
	vmcs_write(GUEST_SYSENTER_ESP, native_read_msr(MSR_IA32_SYSENTER_ESP));
	vc->sysenter_eip = native_read_msr(MSR_IA32_SYSENTER_EIP);
	vmcs_write(GUEST_SYSENTER_EIP, vc->sysenter_eip);
	vmcs_write(GUEST_ACTIVITY_STATE, 0);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);

	/*
	 * host: the same kernel context on the private stack and page table,
	 * with interrupts off, on its own IDT (an NMI gate) and a copy of the
	 * GDT (see struct vmx_cpu).  TR stays the kernel's: the gate has no
	 * IST and no privilege change, so the TSS is never read.
	 */
	{
		u64 a = (u64)hv_vmx_host_nmi, *g = &vc->host_idt[2 * 2];

		/* for the gate: where this CPU's pending NMI goes (gate 255 stays not present) */
		vc->host_idt[VMXC_IDT_CPU / 8] = (u64)vc;

		memcpy(vc->host_gdt, (void *)gdt.address, min_t(size_t, gdt.size + 1, PAGE_SIZE));
		/* 64-bit interrupt gate, DPL 0, present, IST 0 */
		g[0] = (a & 0xffff) | ((u64)__KERNEL_CS << 16) | (0x8eULL << 40) |
		       (((a >> 16) & 0xffff) << 48);
		g[1] = a >> 32;
	}
	vmcs_write(HOST_CR0, native_read_cr0());
	vmcs_write(HOST_CR3, hv->host_cr3);
	vmcs_write(HOST_CR4, cr4);
	vmcs_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write(HOST_DS_SELECTOR, 0);
	vmcs_write(HOST_ES_SELECTOR, 0);
	vmcs_write(HOST_FS_SELECTOR, 0);
	vmcs_write(HOST_GS_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, tr);
	vmcs_write(HOST_FS_BASE, 0);
	vmcs_write(HOST_GS_BASE, native_read_msr(MSR_GS_BASE));
	vmcs_write(HOST_TR_BASE, tr_base);
	vmcs_write(HOST_GDTR_BASE, (u64)vc->host_gdt);
	vmcs_write(HOST_IDTR_BASE, (u64)vc->host_idt);
	vmcs_write(HOST_IA32_SYSENTER_CS, native_read_msr(MSR_IA32_SYSENTER_CS));
	vmcs_write(HOST_IA32_SYSENTER_ESP, native_read_msr(MSR_IA32_SYSENTER_ESP));
	vmcs_write(HOST_IA32_SYSENTER_EIP, native_read_msr(MSR_IA32_SYSENTER_EIP));
	vmcs_write(HOST_IA32_EFER, native_read_msr(MSR_EFER));
	vmcs_write(HOST_IA32_PAT, native_read_msr(MSR_IA32_CR_PAT));
	vmcs_write(HOST_RSP, vc->hv.host_stack_top - 8);
	vmcs_write(HOST_RIP, (unsigned long)hv_vmx_exit_entry);
}

/* Raw: the kernel's CR4 shadow keeps VMXE clear; L1 sees it clear through CR4_READ_SHADOW too. */
static void vmx_write_cr4(u64 v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static bool vmx_on(u64 pa)
{
	u8 fail;

	asm volatile("vmxon %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static bool vmcs_load(u64 pa)
{
	u8 fail;

	asm volatile("vmclear %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	if (fail)
		return false;
	asm volatile("vmptrld %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

/* On the CPU, IRQs off. */
static int vmx_launch(struct hv_cpu *c)
{
	struct vmx_cpu *vc = to_vmx(c);
	struct hv *hv = c->hv;
	u64 cr0 = native_read_cr0(), cr4 = native_read_cr4();
	int ret;

	if (cr4 & X86_CR4_VMXE) {
		pr_err(HV_NAME ": refusing to launch on CPU %d: VMX already enabled\n", c->cpu);
		return -EBUSY;
	}
	if ((cr0 & vmx_caps.cr0_fixed0) != vmx_caps.cr0_fixed0 || (cr0 & ~vmx_caps.cr0_fixed1)) {
		pr_err(HV_NAME ": refusing to launch on CPU %d: CR0 %#llx not allowed in VMX\n", c->cpu, cr0);
		return -EINVAL;
	}
	*(u32 *)vc->vmxon = vmx_caps.revision;
	*(u32 *)vc->vmcs01 = vmx_caps.revision;
	vmx_write_cr4(cr4 | X86_CR4_VMXE | (vmx_caps.cr4_fixed0 & ~cr4));
	if (!vmx_on(vc->vmxon_pa)) {
		vmx_write_cr4(cr4);
		pr_err(HV_NAME ": refusing to launch on CPU %d: VMXON failed\n", c->cpu);
		return -EIO;
	}
	if (!vmcs_load(vc->vmcs01_pa)) {
		asm volatile("vmxoff" ::: "cc");
		vmx_write_cr4(cr4);
		pr_err(HV_NAME ": refusing to launch on CPU %d: VMPTRLD failed\n", c->cpu);
		return -EIO;
	}
	vmx_fill_vmcs(vc);
	vmx_mon_vmcs_setup(vc);
	if (c->cpu == 0 || !hv->cr4_pinned) {
		/* Pin what the kernel set up at boot; every CPU boots with the same bits. */
		hv->cr0_pinned = hv->pol.pin_cr ? cr0 & X86_CR0_WP : 0;
		hv->cr4_pinned = hv->pol.pin_cr ? cr4 & (X86_CR4_SMEP | X86_CR4_SMAP) : 0;
		hv->star = native_read_msr(MSR_STAR);
		hv->lstar = native_read_msr(MSR_LSTAR);
		hv->cstar = native_read_msr(MSR_CSTAR);
		hv->sfmask = native_read_msr(MSR_SYSCALL_MASK);
	}
	vc->sys_msr[0] = hv->star;
	vc->sys_msr[1] = hv->lstar;
	vc->sys_msr[2] = hv->cstar;
	vc->sys_msr[3] = hv->sfmask;
	memcpy(vc->l1_msr, vc->sys_msr, sizeof(vc->l1_msr));
	/*
	 * Stale translations from before: EPT and VPID tag everything from now
	 * on, and a kvm_intel loaded earlier may have left entries under the
	 * VPIDs L1 and L2 get here.
	 */
	vmx_flush_ept(vc);
	if (vmx_caps.vpid) {
		struct { u64 vpid, gva; } d = { 0, 0 };

		asm volatile("invvpid %0, %1" : : "m"(d), "r"((u64)VMX_VPID_EXTENT_ALL_CONTEXT) : "cc", "memory");
	}
	ret = hv_vmx_launch();
	if (ret) {
		u64 err = vmcs_read(VM_INSTRUCTION_ERROR);

		asm volatile("vmxoff" ::: "cc");
		vmx_write_cr4(cr4);
		vmx_mon_launch_failed(vc);
		pr_err(HV_NAME ": refusing to launch on CPU %d: VMLAUNCH failed (VM-instruction error %llu)\n",
		       c->cpu, err);
	}
	return ret;
}

/* As the guest, on the CPU, IRQs off. */
static int vmx_devirt(void)
{
	return hv_vmx_devirt_call();
}

void __hv_host vmx_inject(struct hv_cpu *c, u8 vector, bool has_err, u32 err)
{
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, vector | INTR_TYPE_HARD_EXCEPTION |
		   (has_err ? INTR_INFO_DELIVER_CODE_MASK : 0) | INTR_INFO_VALID_MASK);
	vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, err);
}

/* All EPT-derived translations on this CPU (our EPT is the only one in use). */
void __hv_host vmx_flush_ept(struct vmx_cpu *vc)
{
	struct { u64 eptp, zero; } d = { 0, 0 };

	asm volatile("invept %0, %1" : : "m"(d), "r"((u64)VMX_EPT_EXTENT_GLOBAL) : "cc", "memory");
}

static void __hv_host vmx_flush_npt(struct hv_cpu *c)
{
	vmx_flush_ept(to_vmx(c));
}

static u64 __hv_host vmx_gdt_base(struct hv_cpu *c)
{
	return vmcs_read(GUEST_GDTR_BASE);
}

static void __hv_host vmx_load_tr(struct hv_cpu *c, u16 sel, u64 base, u32 limit, u16 attrib)
{
	vmcs_write(GUEST_TR_SELECTOR, sel);
	vmcs_write(GUEST_TR_BASE, base);
	vmcs_write(GUEST_TR_LIMIT, limit);
	/* SVM attribute layout (bits 0-7, 8-11) to VMX access rights (bits 0-7, 12-15) */
	vmcs_write(GUEST_TR_AR_BYTES, (attrib & 0xff) | ((attrib & 0xf00) << 4));
}

static u64 __hv_host vmx_dr7(struct hv_cpu *c)
{
	return vmcs_read(GUEST_DR7);
}

static bool vmx_ept_1g(void)
{
	return vmx_caps.ept_vpid & VMX_EPT_1GB_PAGE_BIT;
}

const struct hv_vendor_ops hv_vmx_ops = {
	.name = "vmx",
	.probe = vmx_probe,
	.cpu_setup = vmx_cpu_setup,
	.launch = vmx_launch,
	.devirt = vmx_devirt,
	.flush_npt = vmx_flush_npt,
	.inject = vmx_inject,
	.gdt_base = vmx_gdt_base,
	.load_tr = vmx_load_tr,
	.dr7 = vmx_dr7,
	.exit_names = vmx_exit_names,
	.npt_leaf_bits = EPT_LEAF_WB,
	.npt_mmio_bits = EPT_LEAF_UC,
	.npt_1g = vmx_ept_1g,
	.hc_vmcall = true,
};
