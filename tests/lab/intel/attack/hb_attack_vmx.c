// SPDX-License-Identifier: GPL-2.0-only
/*
 * VT-x replays against Hyper-box, for the VT-x lab only: what a compromised
 * L1 kernel could try with Hyper-box's emulated VMX.  One line each:
 *   hb_attack_vmx: BLOCKED <what> ... | NOT-BLOCKED <what> ... | SKIP <what> ...
 * and for the misuse checks (the outcome a real CPU gives):
 *   hb_attack_vmx: OK <what> ... | WRONG <what> ...
 * tests/lab/intel/hyperbox.sh asserts the lines and Hyper-box's counters.
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

static void replays(void)
{
	u64 basic, vmxon_pa, vmcs_pa, pml4_pa, bad;
	u64 *pages[6];
	long f;
	int i;

	for (i = 0; i < 6; i++) {
		pages[i] = (u64 *)get_zeroed_page(GFP_KERNEL);
		if (!pages[i]) {
			R("SKIP all (no memory)");
			goto out;
		}
	}
	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	*(u32 *)pages[0] = (u32)basic & 0x7fffffff;
	*(u32 *)pages[1] = (u32)basic & 0x7fffffff;
	vmxon_pa = __pa(pages[0]);
	vmcs_pa = __pa(pages[1]);

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
vmxoff:
	asm volatile("vmxoff" ::: "cc");
off:
	cr4_clear_bits(X86_CR4_VMXE);
	local_irq_enable();
out:
	for (i = 0; i < 6; i++)
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
