// SPDX-License-Identifier: GPL-2.0-only
/*
 * VT-x replays against Hyper-box, for the VT-x lab only: what a compromised
 * L1 kernel could try with Hyper-box's emulated VMX.  One line each:
 *   hb_attack_vmx: BLOCKED <what> ... | NOT-BLOCKED <what> ... | SKIP <what> ...
 * and for the misuse checks (the outcome a real CPU gives):
 *   hb_attack_vmx: OK <what> ... | WRONG <what> ...
 * tests/lab/intel/hyperbox.sh asserts the lines and Hyper-box's counters.
 *
 * nested_fill_hidden runs a real L2 (a few real-mode instructions under an
 * EPT that passes the check at VMLAUNCH), then points a leaf of that EPT at
 * Hyper-box memory without INVEPT and lets L2 read it: only the check at
 * the shadow EPT fill stands in the way.  nested_prefill_hidden and
 * nested_ahead_hidden do the same to the two places that map ahead of a
 * fault: the VMRESUME after an EPT violation went to L1 (L1 "maps" the
 * page at Hyper-box memory) and the neighbours of a fill.
 */
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/printk.h>
#include <asm/asm.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/tlbflush.h>
#include <asm/vmx.h>
#include <asm/desc.h>
#include <asm/special_insns.h>

static unsigned long hidden_pa;
module_param(hidden_pa, ulong, 0444);
MODULE_PARM_DESC(hidden_pa, "A physical address of Hyper-box memory (from /sys/kernel/hyperbox/protected)");

#define R(fmt, ...) pr_info("hb_attack_vmx: " fmt "\n", ##__VA_ARGS__)
#define EPT_RWX 7ULL

/* RFLAGS after a VMX instruction: CF = VMfailInvalid, ZF = VMfailValid; -1 if it faulted. */
static long vmx_insn_m64(int which, u64 *op)
{
	unsigned long fl = 0;
	int fault = 1;

	switch (which) {
	case 0:
		asm volatile("1: vmxon %[op]; pushf; pop %[fl]; movl $0, %[f]; 2:\n" _ASM_EXTABLE(1b, 2b)
			     : [fl] "+r"(fl), [f] "+r"(fault) : [op] "m"(*op) : "cc", "memory");
		break;
	case 1:
		asm volatile("1: vmptrld %[op]; pushf; pop %[fl]; movl $0, %[f]; 2:\n" _ASM_EXTABLE(1b, 2b)
			     : [fl] "+r"(fl), [f] "+r"(fault) : [op] "m"(*op) : "cc", "memory");
		break;
	case 2:
		asm volatile("1: vmclear %[op]; pushf; pop %[fl]; movl $0, %[f]; 2:\n" _ASM_EXTABLE(1b, 2b)
			     : [fl] "+r"(fl), [f] "+r"(fault) : [op] "m"(*op) : "cc", "memory");
		break;
	}
	return fault ? -1 : (long)(fl & (X86_EFLAGS_CF | X86_EFLAGS_ZF));
}

static long vmx_write(unsigned long field, u64 v)
{
	unsigned long fl;

	asm volatile("vmwrite %[v], %[f]; pushf; pop %[fl]" : [fl] "=r"(fl) : [f] "r"(field), [v] "r"(v) : "cc");
	return fl & (X86_EFLAGS_CF | X86_EFLAGS_ZF);
}

static u64 vmx_read(unsigned long field)
{
	u64 v = 0;

	asm volatile("vmread %[f], %[v]" : [v] "=r"(v) : [f] "r"(field) : "cc");
	return v;
}

static long vmx_launch(void)
{
	unsigned long fl;

	/* If it ever entered L2, the replay would be NOT-BLOCKED: L2 is this bogus state. */
	asm volatile("vmlaunch; pushf; pop %[fl]" : [fl] "=r"(fl) : : "cc", "memory");
	return fl & (X86_EFLAGS_CF | X86_EFLAGS_ZF);
}


/* A control word: what we want, within what the (filtered) capability MSR allows. */
static u32 ctl(u32 msr, u32 true_msr, bool use_true, u32 want)
{
	u64 cap;

	rdmsrl(use_true ? true_msr : msr, cap);
	return (want | (u32)cap) & (u32)(cap >> 32);
}

/*
 * VMLAUNCH (resume = 0) or VMRESUME of the current VMCS with HOST_RSP/RIP
 * pointing back here.  L2 only changes AL, so the other registers survive
 * the round trip.  Returns 0 after a VM exit, 1 after a VMfail.
 */
static noinline unsigned long l2_enter(unsigned long resume)
{
	unsigned long fail;

	/* RBX (fail) is 0 at the VM exit: L2 leaves it alone. */
	asm volatile("push %%rbp\n\t"
		     "xor %[f], %[f]\n\t"
		     "mov $0x6c14, %%rdx\n\t"		/* HOST_RSP */
		     "vmwrite %%rsp, %%rdx\n\t"
		     "lea 2f(%%rip), %%rax\n\t"
		     "mov $0x6c16, %%rdx\n\t"		/* HOST_RIP */
		     "vmwrite %%rax, %%rdx\n\t"
		     "test %[r], %[r]\n\t"
		     "jnz 1f\n\t"
		     "vmlaunch\n\t"
		     "jmp 3f\n"
		     "1:\tvmresume\n"
		     "3:\tmov $1, %[f]\n"
		     "2:\tpop %%rbp"
		     : [f] "=&b"(fail) : [r] "c"(resume) : "rax", "rdx", "cc", "memory");
	return fail;
}

/* The segment base of a GDT system descriptor (TR) as the CPU loaded it. */
static u64 tr_base(void)
{
	struct desc_ptr gdt;
	u16 tr;
	u64 lo, hi;

	native_store_gdt(&gdt);
	asm volatile("str %0" : "=r"(tr));
	lo = *(u64 *)(gdt.address + (tr & ~7));
	hi = *(u64 *)(gdt.address + (tr & ~7) + 8);
	return ((lo >> 16) & 0xffffff) | ((lo >> 32) & 0xff000000) | (hi << 32);
}

/*
 * The current VMCS for a real-mode L2 (unrestricted guest) starting at
 * rip, with the EPT pages: PML4, PDPT, PD, PT, code (GPA 0), data
 * (GPA 0x1000), HLT exiting and no exception intercepted.
 */
static void l2_setup(u64 *p[6], u64 rip)
{
	struct desc_ptr gdt, idt;
	bool tr = rdmsrl_safe(MSR_IA32_VMX_BASIC, &(u64){0}) == 0 &&
		  (({ u64 b; rdmsrl(MSR_IA32_VMX_BASIC, b); b; }) & (1ULL << 55));
	u64 cr0f0, cr0f1, cr4f0, cr4f1, v;

	p[0][0] = __pa(p[1]) | EPT_RWX;
	p[1][0] = __pa(p[2]) | EPT_RWX;
	p[2][0] = __pa(p[3]) | EPT_RWX;
	p[3][0] = __pa(p[4]) | EPT_RWX | (VMX_EPTP_MT_WB << 3);
	p[3][1] = __pa(p[5]) | EPT_RWX | (VMX_EPTP_MT_WB << 3);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, cr0f0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, cr0f1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, cr4f0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, cr4f1);
	native_store_gdt(&gdt);
	store_idt(&idt);

	vmx_write(PIN_BASED_VM_EXEC_CONTROL, ctl(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, tr,
						 PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING));
	vmx_write(CPU_BASED_VM_EXEC_CONTROL, ctl(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, tr,
						 CPU_BASED_HLT_EXITING | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS));
	vmx_write(SECONDARY_VM_EXEC_CONTROL, ctl(MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_PROCBASED_CTLS2, false,
						 SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST));
	vmx_write(VM_EXIT_CONTROLS, ctl(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, tr,
					VM_EXIT_HOST_ADDR_SPACE_SIZE));
	vmx_write(VM_ENTRY_CONTROLS, ctl(MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, tr, 0) &
		  ~VM_ENTRY_IA32E_MODE);
	vmx_write(EXCEPTION_BITMAP, 0);
	vmx_write(CR3_TARGET_COUNT, 0);
	vmx_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmx_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmx_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmx_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmx_write(CR0_GUEST_HOST_MASK, 0);
	vmx_write(CR4_GUEST_HOST_MASK, 0);
	vmx_write(VMCS_LINK_POINTER, -1ULL);
	vmx_write(EPT_POINTER, __pa(p[0]) | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4);

	/* L2: real mode, unrestricted guest */
	vmx_write(GUEST_CR0, (cr0f0 & ~(u64)(X86_CR0_PE | X86_CR0_PG)) & cr0f1);
	vmx_write(GUEST_CR3, 0);
	vmx_write(GUEST_CR4, cr4f0 & cr4f1);
	vmx_write(GUEST_DR7, 0x400);
	vmx_write(GUEST_IA32_DEBUGCTL, 0);
	vmx_write(GUEST_RSP, 0x800);
	vmx_write(GUEST_RIP, rip);
	vmx_write(GUEST_RFLAGS, 2);
	for (v = 0; v < 6; v++) {	/* ES, CS, SS, DS, FS, GS */
		vmx_write(GUEST_ES_SELECTOR + 2 * v, 0);
		vmx_write(GUEST_ES_BASE + 2 * v, 0);
		vmx_write(GUEST_ES_LIMIT + 2 * v, 0xffff);
		vmx_write(GUEST_ES_AR_BYTES + 2 * v, v == 1 ? 0x9b : 0x93);
	}
	vmx_write(GUEST_LDTR_SELECTOR, 0);
	vmx_write(GUEST_LDTR_AR_BYTES, 0x10000);
	vmx_write(GUEST_TR_SELECTOR, 0);
	vmx_write(GUEST_TR_BASE, 0);
	vmx_write(GUEST_TR_LIMIT, 0xffff);
	vmx_write(GUEST_TR_AR_BYTES, 0x8b);
	vmx_write(GUEST_GDTR_BASE, 0);
	vmx_write(GUEST_GDTR_LIMIT, 0xffff);
	vmx_write(GUEST_IDTR_BASE, 0);
	vmx_write(GUEST_IDTR_LIMIT, 0xffff);
	vmx_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmx_write(GUEST_ACTIVITY_STATE, 0);
	vmx_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);

	/* L1 comes back as it is now */
	vmx_write(HOST_CR0, native_read_cr0());
	vmx_write(HOST_CR3, __native_read_cr3());
	vmx_write(HOST_CR4, native_read_cr4());
	vmx_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmx_write(HOST_SS_SELECTOR, __KERNEL_DS);
	vmx_write(HOST_DS_SELECTOR, 0);
	vmx_write(HOST_ES_SELECTOR, 0);
	vmx_write(HOST_FS_SELECTOR, 0);
	vmx_write(HOST_GS_SELECTOR, 0);
	vmx_write(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	rdmsrl(MSR_FS_BASE, v);
	vmx_write(HOST_FS_BASE, v);
	rdmsrl(MSR_GS_BASE, v);
	vmx_write(HOST_GS_BASE, v);
	vmx_write(HOST_TR_BASE, tr_base());
	vmx_write(HOST_GDTR_BASE, gdt.address);
	vmx_write(HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmx_write(HOST_IA32_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	vmx_write(HOST_IA32_SYSENTER_ESP, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmx_write(HOST_IA32_SYSENTER_EIP, v);
}

/*
 * A real-mode L2 at guest-physical 0: "mov al, [0x1000]; hlt; mov al,
 * [0x2000]; hlt".  Returns the exit reason of the second run, or -1 with
 * the reason written to why.
 */
static long fill_replay(u64 *p[6], unsigned long hidden, const char **why)
{
	static const u8 code[] = { 0xa0, 0x00, 0x10, 0xf4, 0xa0, 0x00, 0x20, 0xf4 };

	memcpy(p[4], code, sizeof(code));
	l2_setup(p, 0);
	if (l2_enter(0)) {
		*why = "VMLAUNCH of the benign EPT failed";
		R("  VM-instruction error %llu", vmx_read(VM_INSTRUCTION_ERROR));
		return -1;
	}
	if ((vmx_read(VM_EXIT_REASON) & 0xffff) != EXIT_REASON_HLT) {
		*why = "the first run did not end at HLT";
		R("  exit reason %#llx qualification %#llx", vmx_read(VM_EXIT_REASON), vmx_read(EXIT_QUALIFICATION));
		return -1;
	}
	/* The same EPT root, changed behind Hyper-box's back: GPA 0x2000 -> Hyper-box memory. */
	p[3][2] = (hidden & PAGE_MASK) | EPT_RWX | (VMX_EPTP_MT_WB << 3);
	vmx_write(GUEST_RIP, 4);
	if (l2_enter(1)) {
		*why = "VMRESUME failed";
		return -1;
	}
	return vmx_read(VM_EXIT_REASON);
}

/*
 * Mapping ahead of a fault, with the same EPT changed behind Hyper-box's
 * back (no INVEPT).  A real-mode L2 at GPA 0 reads GPA 0x1000 and halts,
 * then L1 resumes it at 4.  ahead = false: L2 reads GPA 0x5000, which L1's
 * EPT lacks; at that EPT violation L1 maps 0x5000 to Hyper-box memory and
 * resumes.  ahead = true: L1 has mapped 0x2000 to Hyper-box memory and
 * 0x6000 to the data page; L2 reads 0x6000 (a fill, whose group holds
 * 0x2000), then 0x2000.  Returns the exit reason of the last run, or -1
 * with the reason written to why.
 */
static long ahead_replay(u64 *p[6], unsigned long hidden, bool ahead, const char **why)
{
	static const u8 prefill[] = { 0xa0, 0x00, 0x10, 0xf4, 0xa0, 0x00, 0x50, 0xf4 };
	static const u8 group[] = { 0xa0, 0x00, 0x10, 0xf4, 0xa0, 0x00, 0x60, 0xa0, 0x00, 0x20, 0xf4 };
	u64 bad = (hidden & PAGE_MASK) | EPT_RWX | (VMX_EPTP_MT_WB << 3);
	int i;

	for (i = 2; i < 8; i++)
		p[3][i] = 0;
	if (ahead)
		memcpy(p[4], group, sizeof(group));
	else
		memcpy(p[4], prefill, sizeof(prefill));
	l2_setup(p, 0);
	if (l2_enter(0) || (vmx_read(VM_EXIT_REASON) & 0xffff) != EXIT_REASON_HLT) {
		*why = "the first run did not end at HLT";
		return -1;
	}
	if (ahead) {
		p[3][2] = bad;
		p[3][6] = __pa(p[5]) | EPT_RWX | (VMX_EPTP_MT_WB << 3);
	}
	vmx_write(GUEST_RIP, 4);
	if (l2_enter(1)) {
		*why = "VMRESUME failed";
		return -1;
	}
	if (ahead)
		return vmx_read(VM_EXIT_REASON);
	if ((vmx_read(VM_EXIT_REASON) & 0xffff) != EXIT_REASON_EPT_VIOLATION ||
	    vmx_read(GUEST_PHYSICAL_ADDRESS) != 0x5000) {
		*why = "the read of GPA 0x5000 did not give L1 an EPT violation";
		R("  exit reason %#llx GPA %#llx", vmx_read(VM_EXIT_REASON), vmx_read(GUEST_PHYSICAL_ADDRESS));
		return -1;
	}
	p[3][5] = bad;
	if (l2_enter(1)) {
		*why = "VMRESUME after the EPT violation failed";
		return -1;
	}
	return vmx_read(VM_EXIT_REASON);
}

/*
 * A kept shadow: L2 runs on EPT root A (PML4 p[0]), then on root B (a
 * second PML4 over the same tables), then L1 points GPA 0x2000 at Hyper-box
 * memory without INVEPT and resumes L2 on A, whose shadow Hyper-box kept
 * (so A is not walked again at that entry): L2 reads 0x2000.  Returns the
 * exit reason of the last run, or -1 with the reason written to why.
 */
static long kept_replay(u64 *p[6], u64 *root_b, unsigned long hidden, const char **why)
{
	static const u8 code[] = { 0xa0, 0x00, 0x10, 0xf4, 0xa0, 0x00, 0x20, 0xf4 };
	int i;

	for (i = 2; i < 8; i++)
		p[3][i] = 0;
	root_b[0] = p[0][0];
	memcpy(p[4], code, sizeof(code));
	l2_setup(p, 0);
	if (l2_enter(0) || (vmx_read(VM_EXIT_REASON) & 0xffff) != EXIT_REASON_HLT) {
		*why = "the run on root A did not end at HLT";
		return -1;
	}
	vmx_write(EPT_POINTER, __pa(root_b) | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4);
	vmx_write(GUEST_RIP, 0);
	if (l2_enter(1) || (vmx_read(VM_EXIT_REASON) & 0xffff) != EXIT_REASON_HLT) {
		*why = "the run on root B did not end at HLT";
		return -1;
	}
	p[3][2] = (hidden & PAGE_MASK) | EPT_RWX | (VMX_EPTP_MT_WB << 3);
	vmx_write(EPT_POINTER, __pa(p[0]) | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4);
	vmx_write(GUEST_RIP, 4);
	if (l2_enter(1)) {
		*why = "VMRESUME on root A again failed (its shadow was not kept: the whole EPT was walked)";
		R("  VM-instruction error %llu", vmx_read(VM_INSTRUCTION_ERROR));
		return -1;
	}
	return vmx_read(VM_EXIT_REASON);
}

/*
 * L2's own single-step #DB, which L2's VMCS does not intercept: a
 * real-mode L2 sets TF, its #DB handler stores DR6 at 0x1000 and halts.
 * On a CPU the #DB goes straight to L2; Hyper-box intercepts #DB for every
 * L2 (delivery loops) and must hand it back the same: the handler runs,
 * DR6.BS is set, the frame's IP is the instruction after the traced one.
 * Returns 0 when it did, -1 with why.
 */
static int db_replay(u64 *p[6], const char **why)
{
	static const u8 code[] = {
		0x9c,			/* 0x100 pushf */
		0x58,			/*       pop ax */
		0x80, 0xcc, 0x01,	/*       or ah, 1 (TF) */
		0x50,			/*       push ax */
		0x9d,			/*       popf */
		0x90,			/* 0x107 nop: traced, #DB after it */
		0xf4,			/* 0x108 hlt (not reached) */
	};
	static const u8 handler[] = {
		0x0f, 0x21, 0xf0,		/* 0x200 mov eax, dr6 */
		0x66, 0xa3, 0x00, 0x10,		/*       mov [0x1000], eax */
		0xf4,				/*       hlt */
	};
	u8 *mem = (u8 *)p[4];
	u32 dr6;
	u16 ip;
	int i;

	memset(mem, 0, PAGE_SIZE);
	memset(p[5], 0, PAGE_SIZE);
	memcpy(mem + 0x100, code, sizeof(code));
	memcpy(mem + 0x200, handler, sizeof(handler));
	*(u32 *)(mem + 4) = 0x200;		/* IVT vector 1: 0000:0200 */
	l2_setup(p, 0x100);
	if (l2_enter(0)) {
		*why = "VMLAUNCH failed";
		return -1;
	}
	/*
	 * An interrupt that arrives while L2 runs is an external-interrupt exit
	 * (Bochs had one pending at the handler's first instruction): let the
	 * kernel take it, on this CPU, and go on.
	 */
	for (i = 0; i < 100 && (vmx_read(VM_EXIT_REASON) & 0xffff) == EXIT_REASON_EXTERNAL_INTERRUPT; i++) {
		preempt_disable();
		local_irq_enable();
		local_irq_disable();
		preempt_enable();
		if (l2_enter(1)) {
			*why = "VMRESUME failed";
			return -1;
		}
	}
	dr6 = *(u32 *)p[5];
	ip = *(u16 *)(mem + 0x800 - 6);		/* the #DB frame: IP, CS, FLAGS */
	R("  exit reason %llu at rip %#llx, DR6 %#x, #DB frame IP %#x",
	  vmx_read(VM_EXIT_REASON), vmx_read(GUEST_RIP), dr6, ip);
	if ((vmx_read(VM_EXIT_REASON) & 0xffff) != EXIT_REASON_HLT || vmx_read(GUEST_RIP) != 0x207) {
		*why = "L2 did not halt in its #DB handler";
		return -1;
	}
	if (!(dr6 & (1U << 14)) || ip != 0x108) {
		*why = "the handler saw no single-step in DR6, or the wrong IP";
		return -1;
	}
	return 0;
}

static void replays(void)
{
	u64 basic, vmxon_pa, vmcs_pa, vmcs2_pa, pml4_pa, bad;
	u64 *pages[14];
	long f;
	int i;

	for (i = 0; i < 14; i++) {
		pages[i] = (u64 *)get_zeroed_page(GFP_KERNEL);
		if (!pages[i]) {
			R("SKIP all (no memory)");
			goto out;
		}
	}
	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	*(u32 *)pages[0] = (u32)basic & 0x7fffffff;
	*(u32 *)pages[1] = (u32)basic & 0x7fffffff;
	*(u32 *)pages[12] = (u32)basic & 0x7fffffff;
	vmxon_pa = __pa(pages[0]);
	vmcs_pa = __pa(pages[1]);
	vmcs2_pa = __pa(pages[12]);

	/* misuse 1: VMXON with CR4.VMXE clear is #UD */
	f = vmx_insn_m64(0, &vmxon_pa);
	R("%s vmxon_without_cr4_vmxe: %s", f == -1 ? "OK" : "WRONG", f == -1 ? "#UD" : "no fault");

	local_irq_disable();
	cr4_set_bits(X86_CR4_VMXE);
	f = vmx_insn_m64(0, &vmxon_pa);
	if (f) {
		local_irq_enable();
		R("SKIP all (VMXON failed: %ld)", f);
		goto off;
	}
	/* misuse 2: VMXON in VMX operation without a current VMCS is VMfailInvalid */
	f = vmx_insn_m64(0, &vmxon_pa);
	R("%s vmxon_twice: %s", f == X86_EFLAGS_CF ? "OK" : "WRONG",
	  f == X86_EFLAGS_CF ? "VMfailInvalid" : "other");
	/* misuse 3: VMPTRLD of the VMXON region is VMfailInvalid (no current VMCS) */
	f = vmx_insn_m64(1, &vmxon_pa);
	R("%s vmptrld_vmxon_region: %s", f == X86_EFLAGS_CF ? "OK" : "WRONG",
	  f == X86_EFLAGS_CF ? "VMfailInvalid" : "other");
	/* attack: a VMCS pointer in Hyper-box memory */
	if (hidden_pa) {
		bad = hidden_pa & PAGE_MASK;
		f = vmx_insn_m64(1, &bad);
		R("%s vmptrld_hidden: VMPTRLD %#llx -> %s", f ? "BLOCKED" : "NOT-BLOCKED", bad,
		  f == X86_EFLAGS_CF ? "VMfailInvalid" : f ? "fail" : "success");
	}
	if (vmx_insn_m64(2, &vmcs_pa) || vmx_insn_m64(1, &vmcs_pa)) {
		R("SKIP nested_map_hidden (VMCLEAR/VMPTRLD failed)");
		goto vmxoff;
	}
	/* misuse 4: VMRESUME of a clear VMCS is VMfailValid(5) */
	{
		unsigned long fl;

		asm volatile("vmresume; pushf; pop %[fl]" : [fl] "=r"(fl) : : "cc", "memory");
		fl &= X86_EFLAGS_CF | X86_EFLAGS_ZF;
		R("%s vmresume_clear_vmcs: %s error %llu", fl == X86_EFLAGS_ZF &&
		  vmx_read(VM_INSTRUCTION_ERROR) == 5 ? "OK" : "WRONG",
		  fl == X86_EFLAGS_ZF ? "VMfailValid" : "other", vmx_read(VM_INSTRUCTION_ERROR));
	}
	/* L2's own #DB, on a second VMCS; the first stays current and clear */
	if (!vmx_insn_m64(2, &vmcs2_pa) && !vmx_insn_m64(1, &vmcs2_pa)) {
		const char *why = "";

		if (db_replay(&pages[6], &why))
			R("WRONG l2_own_db: %s", why);
		else
			R("OK l2_own_db: L2's single-step #DB reached its own handler");
		vmx_insn_m64(2, &vmcs2_pa);
		if (vmx_insn_m64(1, &vmcs_pa))
			goto vmxoff;
	} else {
		R("WRONG l2_own_db: VMCLEAR/VMPTRLD of a second VMCS failed");
	}
	/* attack: an EPT whose only leaf maps L2 page 0 to Hyper-box memory */
	if (!hidden_pa) {
		R("SKIP nested_map_hidden (no hidden_pa given)");
		goto vmxoff;
	}
	pml4_pa = __pa(pages[2]);
	pages[2][0] = __pa(pages[3]) | EPT_RWX;
	pages[3][0] = __pa(pages[4]) | EPT_RWX;
	pages[4][0] = __pa(pages[5]) | EPT_RWX;
	pages[5][0] = (hidden_pa & PAGE_MASK) | EPT_RWX | (VMX_EPTP_MT_WB << 3);
	vmx_write(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS);
	vmx_write(SECONDARY_VM_EXEC_CONTROL, SECONDARY_EXEC_ENABLE_EPT);
	vmx_write(EPT_POINTER, pml4_pa | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4);
	f = vmx_launch();
	R("%s nested_map_hidden: VMLAUNCH with L2 page 0 -> %#lx: %s, VM-instruction error %llu",
	  f ? "BLOCKED" : "NOT-BLOCKED", hidden_pa & PAGE_MASK,
	  f == X86_EFLAGS_ZF ? "VMfailValid" : f ? "VMfailInvalid" : "entered", vmx_read(VM_INSTRUCTION_ERROR));
	vmx_insn_m64(2, &vmcs_pa);
	/* attack: the EPT changed after the check, L2 reads Hyper-box memory through it */
	if (!vmx_insn_m64(1, &vmcs_pa)) {
		const char *why = "";
		long r = fill_replay(&pages[6], hidden_pa, &why);

		if (r < 0)
			R("SKIP nested_fill_hidden (%s)", why);
		else
			R("%s nested_fill_hidden: L2 read of GPA 0x2000 -> %#lx: exit reason %ld%s",
			  r == EXIT_REASON_TRIPLE_FAULT ? "BLOCKED" : "NOT-BLOCKED", hidden_pa & PAGE_MASK, r,
			  r == EXIT_REASON_TRIPLE_FAULT ? " (triple fault: L2 stopped)" : "");
		vmx_insn_m64(2, &vmcs_pa);
	}
	/* attack: the same through the two places that map ahead of L2's fault */
	for (i = 0; i < 2; i++) {
		const char *name = i ? "nested_ahead_hidden" : "nested_prefill_hidden", *why = "";
		long r;

		if (vmx_insn_m64(1, &vmcs_pa)) {
			R("SKIP %s (VMPTRLD failed)", name);
			continue;
		}
		r = ahead_replay(&pages[6], hidden_pa, i, &why);
		if (r < 0)
			R("SKIP %s (%s)", name, why);
		else
			R("%s %s: L2 read of GPA %#x -> %#lx: exit reason %ld%s",
			  r == EXIT_REASON_TRIPLE_FAULT ? "BLOCKED" : "NOT-BLOCKED", name, i ? 0x2000 : 0x5000,
			  hidden_pa & PAGE_MASK, r, r == EXIT_REASON_TRIPLE_FAULT ? " (triple fault: L2 stopped)" : "");
		vmx_insn_m64(2, &vmcs_pa);
	}
	/* attack: the same through a shadow Hyper-box kept for an EPT root while L2 ran on another */
	if (!vmx_insn_m64(1, &vmcs_pa)) {
		const char *why = "";
		long r = kept_replay(&pages[6], pages[13], hidden_pa, &why);

		if (r < 0)
			R("SKIP nested_kept_hidden (%s)", why);
		else
			R("%s nested_kept_hidden: L2 read of GPA 0x2000 -> %#lx on a kept root: exit reason %ld%s",
			  r == EXIT_REASON_TRIPLE_FAULT ? "BLOCKED" : "NOT-BLOCKED", hidden_pa & PAGE_MASK, r,
			  r == EXIT_REASON_TRIPLE_FAULT ? " (triple fault: L2 stopped)" : "");
		vmx_insn_m64(2, &vmcs_pa);
	}
vmxoff:
	asm volatile("vmxoff" ::: "cc");
off:
	cr4_clear_bits(X86_CR4_VMXE);
	local_irq_enable();
out:
	for (i = 0; i < 14; i++)
		if (pages[i])
			free_page((unsigned long)pages[i]);
}

static int __init hb_attack_vmx_init(void)
{
	if (!boot_cpu_has(X86_FEATURE_VMX) || !(cpuid_ecx(1) & (1 << 5))) {
		R("SKIP all (no VMX visible)");
		return 0;
	}
	replays();
	R("done");
	return 0;
}

static void __exit hb_attack_vmx_exit(void)
{
}

module_init(hb_attack_vmx_init);
module_exit(hb_attack_vmx_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Hyper-box VT-x attack replays (tests only)");
