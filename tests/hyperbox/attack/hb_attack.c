// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attack replays against Hyper-box, built for the tests only.  Each replay
 * does what a kernel-level attacker would, undoes it at once if it was not
 * blocked (so an unprotected lab survives), and prints one line:
 *   hb_attack: BLOCKED <what> ...   or   hb_attack: NOT-BLOCKED <what> ...
 *   hb_attack: SKIP <what> ...
 * tests/hyperbox/attacks.sh asserts those lines and Hyper-box's counters.
 */
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/uaccess.h>
#include <linux/printk.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <asm/msr.h>
#include <asm/special_insns.h>
#include <asm/svm.h>
#include <asm/desc.h>
#include <asm/asm.h>
#include <asm/cpufeature.h>
#include <linux/slab.h>

static unsigned long hidden_pa;
module_param(hidden_pa, ulong, 0444);
MODULE_PARM_DESC(hidden_pa, "A physical address of Hyper-box memory (from /sys/kernel/hyperbox/protected); 0 skips the nested replay");

#define R(fmt, ...) pr_info("hb_attack: " fmt "\n", ##__VA_ARGS__)

/* A write to kernel text through a writable alias of the physical page. */
static void replay_text_write(void)
{
	u8 *target = (u8 *)_printk, old = *target, *alias;
	struct page *pg = virt_to_page(target);
	long ret;

	alias = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
	if (!alias) {
		R("SKIP text_write (vmap failed)");
		return;
	}
	/* The same byte: harmless if it lands, and the NPT sees a write either way. */
	pagefault_disable();
	__put_kernel_nofault(alias + offset_in_page(target), &old, u8, fault);
	ret = 0;
	goto done;
fault:
	ret = -EFAULT;
done:
	pagefault_enable();
	vunmap(alias);
	if (ret)
		R("BLOCKED text_write at %pS (writable alias): %ld", target, ret);
	else
		R("NOT-BLOCKED text_write at %pS", target);
}

static void replay_cr(const char *what, int cr, unsigned long bit)
{
	unsigned long flags, before, after;

	local_irq_save(flags);
	before = cr == 0 ? native_read_cr0() : native_read_cr4();
	if (!(before & bit)) {
		local_irq_restore(flags);
		R("SKIP %s (bit not set by this kernel/CPU)", what);
		return;
	}
	if (cr == 0) {
		asm volatile("mov %0, %%cr0" : : "r"(before & ~bit) : "memory");
		after = native_read_cr0();
		if (!(after & bit))
			asm volatile("mov %0, %%cr0" : : "r"(before) : "memory");
	} else {
		asm volatile("mov %0, %%cr4" : : "r"(before & ~bit) : "memory");
		after = native_read_cr4();
		if (!(after & bit))
			asm volatile("mov %0, %%cr4" : : "r"(before) : "memory");
	}
	local_irq_restore(flags);
	if (after & bit)
		R("BLOCKED %s: CR%d still %#lx after writing %#lx", what, cr, after, before & ~bit);
	else
		R("NOT-BLOCKED %s", what);
}

static void replay_lstar(void)
{
	unsigned long flags;
	u64 before, after;

	local_irq_save(flags);
	before = native_read_msr(MSR_LSTAR);
	native_write_msr(MSR_LSTAR, (u32)(before + 0x1000), (before + 0x1000) >> 32);
	after = native_read_msr(MSR_LSTAR);
	if (after != before)
		native_write_msr(MSR_LSTAR, (u32)before, before >> 32);
	local_irq_restore(flags);
	if (after == before)
		R("BLOCKED lstar_write: LSTAR still %#llx", before);
	else
		R("NOT-BLOCKED lstar_write");
}


/* A VMCB for an L2 in long mode on the nested table at ncr3, VMRUN intercepted. */
static void vmcb_minimal(struct vmcb *vmcb, u64 ncr3)
{
	vmcb->control.intercepts[INTERCEPT_WORD4] = 1;	/* VMRUN intercept (bit 128) */
	vmcb->control.asid = 1;
	vmcb->control.nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	vmcb->control.nested_cr3 = ncr3;
	vmcb->save.efer = EFER_SVME | EFER_LME | EFER_LMA;
	vmcb->save.cr0 = X86_CR0_PE | X86_CR0_PG;
	vmcb->save.cr4 = X86_CR4_PAE;
	vmcb->save.cs.attrib = 0x29b;
	vmcb->control.exit_code = 0x1234;
}

/* CLGI; VMRUN; STGI with IRQs off, EFER.SVME on and hsave as VM_HSAVE_PA: the exit code. */
static u64 vmrun_once(struct vmcb *vmcb, struct page *hsave)
{
	u64 efer, hsave_old;
	unsigned long flags;

	local_irq_save(flags);
	efer = native_read_msr(MSR_EFER);
	hsave_old = native_read_msr(MSR_VM_HSAVE_PA);
	native_write_msr(MSR_EFER, (u32)(efer | EFER_SVME), (efer | EFER_SVME) >> 32);
	native_write_msr(MSR_VM_HSAVE_PA, (u32)(u64)page_to_phys(hsave), (u64)page_to_phys(hsave) >> 32);
	asm volatile("clgi; vmrun %%rax; stgi" : : "a"(__pa(vmcb)) : "memory", "cc");
	native_write_msr(MSR_VM_HSAVE_PA, (u32)hsave_old, hsave_old >> 32);
	native_write_msr(MSR_EFER, (u32)efer, efer >> 32);
	local_irq_restore(flags);
	return vmcb->control.exit_code | ((u64)vmcb->control.exit_code_hi << 32);
}
/*
 * L1 builds a nested page table mapping Hyper-box memory at L2 address 0
 * and runs VMRUN.  Hyper-box must refuse the VMCB (VMEXIT_INVALID).
 */
static void replay_nested_map(void)
{
	u64 *pml4, *pdpt, *pd, *pt, code;
	struct page *hsave;
	struct vmcb *vmcb;

	if (!hidden_pa) {
		R("SKIP nested_map_hidden (no hidden_pa given)");
		return;
	}
	vmcb = (void *)get_zeroed_page(GFP_KERNEL);
	pml4 = (void *)get_zeroed_page(GFP_KERNEL);
	pdpt = (void *)get_zeroed_page(GFP_KERNEL);
	pd = (void *)get_zeroed_page(GFP_KERNEL);
	pt = (void *)get_zeroed_page(GFP_KERNEL);
	hsave = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!vmcb || !pml4 || !pdpt || !pd || !pt || !hsave) {
		R("SKIP nested_map_hidden (no memory)");
		goto out;
	}
	pml4[0] = __pa(pdpt) | 7;
	pdpt[0] = __pa(pd) | 7;
	pd[0] = __pa(pt) | 7;
	pt[0] = (hidden_pa & PAGE_MASK) | 7;		/* L2 page 0 -> Hyper-box, writable */

	vmcb_minimal(vmcb, __pa(pml4));

	code = vmrun_once(vmcb, hsave);
	if (code == (u64)SVM_EXIT_ERR)
		R("BLOCKED nested_map_hidden: VMRUN with L2 page 0 -> %#lx refused, exit code VMEXIT_INVALID",
		  hidden_pa);
	else
		R("NOT-BLOCKED nested_map_hidden: exit code %#llx", code);
out:
	free_page((unsigned long)vmcb);
	free_page((unsigned long)pml4);
	free_page((unsigned long)pdpt);
	free_page((unsigned long)pd);
	free_page((unsigned long)pt);
	if (hsave)
		__free_page(hsave);
}

/* LIDT of an IDT the attacker controls (a copy, so that an unprotected lab survives). */
static void replay_lidt(void)
{
	struct desc_ptr cur, fake, after;
	unsigned long flags;
	void *copy = (void *)get_zeroed_page(GFP_KERNEL);

	if (!copy) {
		R("SKIP lidt_fake (no memory)");
		return;
	}
	local_irq_save(flags);
	store_idt(&cur);
	memcpy(copy, (void *)cur.address, min_t(unsigned long, cur.size + 1, PAGE_SIZE));
	fake.address = (unsigned long)copy;
	fake.size = cur.size;
	asm volatile("lidt %0" : : "m"(fake));
	store_idt(&after);
	asm volatile("lidt %0" : : "m"(cur));
	local_irq_restore(flags);
	if (after.address == cur.address)
		R("BLOCKED lidt_fake: IDTR still %#lx, not %#lx", cur.address, fake.address);
	else
		R("NOT-BLOCKED lidt_fake: IDTR was %#lx", after.address);
	free_page((unsigned long)copy);
}

/*
 * VMLOAD/VMSAVE/VMRUN as L1, with EFER.SVME on (virtual under Hyper-box) and
 * IRQs off; with gif0 between CLGI and STGI, where Hyper-box lets a CPU
 * with virtual VMLOAD/VMSAVE run them without an exit.  Returns 1 if the
 * instruction faulted (#GP or #PF, fixed up here), 0 if it ran.
 */
static int svm_insn_faults(int which, u64 pa, bool gif0)
{
	unsigned long flags;
	u64 efer;
	int fault;

	local_irq_save(flags);
	efer = native_read_msr(MSR_EFER);
	native_write_msr(MSR_EFER, (u32)(efer | EFER_SVME), (efer | EFER_SVME) >> 32);
	if (gif0)
		asm volatile("clgi" : : : "memory");
	if (which)
		asm volatile("1: vmsave %%rax\n\txor %0, %0\n2:\n" _ASM_EXTABLE(1b, 2b)
			     : "=r"(fault) : "0"(1), "a"(pa) : "memory");
	else
		asm volatile("1: vmload %%rax\n\txor %0, %0\n2:\n" _ASM_EXTABLE(1b, 2b)
			     : "=r"(fault) : "0"(1), "a"(pa) : "memory");
	if (gif0)
		asm volatile("stgi" : : : "memory");
	native_write_msr(MSR_EFER, (u32)efer, efer >> 32);
	local_irq_restore(flags);
	return fault;
}

/*
 * VMLOAD from Hyper-box memory: with virtual VMLOAD the CPU reads it through
 * the nested page table, emulated the host reads it: refused either way.
 * (Were it not, L1's FS/GS/TR would be whatever the page holds: the lab
 * would not survive, which fails the test as surely.)
 */
static void replay_vmload_hidden(const char *what, bool gif0)
{
	if (!hidden_pa) {
		R("SKIP %s (no hidden_pa given)", what);
		return;
	}
	if (svm_insn_faults(0, hidden_pa & PAGE_MASK, gif0))
		R("BLOCKED %s: VMLOAD of %#lx faulted", what, hidden_pa & PAGE_MASK);
	else
		R("NOT-BLOCKED %s: VMLOAD of %#lx ran", what, hidden_pa & PAGE_MASK);
}

/* VMSAVE into a read-only kernel page (rodata): refused, the page unchanged. */
static void replay_vmsave_protected(const char *what, bool gif0)
{
	const u8 *target = (const u8 *)hex_asc;
	struct page *pg = virt_to_page(target);
	u8 *before = kmalloc(PAGE_SIZE, GFP_KERNEL), *alias;
	bool changed;
	int fault;

	if (!before) {
		R("SKIP %s (no memory)", what);
		return;
	}
	memcpy(before, (void *)((unsigned long)target & PAGE_MASK), PAGE_SIZE);
	fault = svm_insn_faults(1, page_to_phys(pg), gif0);
	changed = memcmp(before, (void *)((unsigned long)target & PAGE_MASK), PAGE_SIZE);
	if (changed) {
		/* not blocked: put the page back through a writable alias */
		alias = vmap(&pg, 1, VM_MAP, PAGE_KERNEL);
		if (alias) {
			memcpy(alias, before, PAGE_SIZE);
			vunmap(alias);
		}
	}
	kfree(before);
	if (fault && !changed)
		R("BLOCKED %s: VMSAVE into the rodata page %#llx faulted, page unchanged",
		  what, (u64)page_to_phys(pg));
	else
		R("NOT-BLOCKED %s: fault %d, page %s", what, fault, changed ? "changed" : "unchanged");
}

/*
 * Between CLGI and STGI, VMLOAD of this CPU's own state with another LSTAR
 * (and STAR, CSTAR, SFMASK): with virtual VMLOAD the CPU loads it into L1
 * itself, and a SYSCALL would enter there.  After STGI the syscall MSRs
 * must be the pinned ones again.  Prints what RDMSR (not intercepted)
 * showed inside: the new LSTAR when the VMLOAD ran without an exit.
 */
static void replay_vmload_lstar(void)
{
	u64 efer, lstar, star, cstar, sfmask, inside, after, after_star;
	struct vmcb *page = (void *)get_zeroed_page(GFP_KERNEL);
	unsigned long flags, lo, hi;

	if (!page) {
		R("SKIP vmload_lstar (no memory)");
		return;
	}
	local_irq_save(flags);
	lstar = native_read_msr(MSR_LSTAR);
	star = native_read_msr(MSR_STAR);
	cstar = native_read_msr(MSR_CSTAR);
	sfmask = native_read_msr(MSR_SYSCALL_MASK);
	efer = native_read_msr(MSR_EFER);
	native_write_msr(MSR_EFER, (u32)(efer | EFER_SVME), (efer | EFER_SVME) >> 32);
	asm volatile("clgi; vmsave %%rax; stgi" : : "a"(__pa(page)) : "memory");
	page->save.lstar = lstar + 0x1000;
	page->save.star = star ^ (8ULL << 32);
	page->save.cstar = cstar + 0x1000;
	page->save.sfmask = sfmask & ~X86_EFLAGS_IF;
	asm volatile("clgi; vmload %%rax; rdmsr; stgi"
		     : "=a"(lo), "=d"(hi) : "0"(__pa(page)), "c"(MSR_LSTAR) : "memory");
	inside = (u32)lo | (u64)hi << 32;
	after = native_read_msr(MSR_LSTAR);
	after_star = native_read_msr(MSR_STAR);
	if (after != lstar || after_star != star) {
		native_write_msr(MSR_LSTAR, (u32)lstar, lstar >> 32);
		native_write_msr(MSR_STAR, (u32)star, star >> 32);
		native_write_msr(MSR_CSTAR, (u32)cstar, cstar >> 32);
		native_write_msr(MSR_SYSCALL_MASK, (u32)sfmask, sfmask >> 32);
	}
	native_write_msr(MSR_EFER, (u32)efer, efer >> 32);
	local_irq_restore(flags);
	free_page((unsigned long)page);
	if (after == lstar && after_star == star)
		R("BLOCKED vmload_lstar: after STGI LSTAR %#llx, STAR %#llx (pinned); inside %#llx (%s)",
		  after, after_star, inside, inside == lstar + 0x1000 ? "virtual VMLOAD" : "emulated");
	else
		R("NOT-BLOCKED vmload_lstar: LSTAR %#llx, STAR %#llx after STGI", after, after_star);
}

/*
 * VMLOAD of this CPU's own state but for TR, on a copy of its TSS (the
 * attacker's: it holds the interrupt stacks and the I/O permission bitmap),
 * and LDTR, on a table of the attacker's (it could hold call gates): at
 * GIF=1 (emulated) and, with gif0, between CLGI and STGI (a virtual VMLOAD
 * where the CPU has it).  Afterwards TR and LDTR must be the kernel's.  The
 * copy has the TSS's contents, so that an NMI meanwhile takes the same
 * stacks; IRQs are off; a TR/LDTR not blocked is put back with VMLOAD.
 */
#define TSS_COPY_ORDER 2

/* VMSAVE of this CPU's state into orig; evil the same but for TR, on a copy
 * of the TSS at tss, and LDTR, a present LDT at ldt.  IRQs off, SVME on. */
static void make_evil_tr(struct vmcb *orig, struct vmcb *evil, void *tss, void *ldt)
{
	asm volatile("clgi; vmsave %%rax; stgi" : : "a"(__pa(orig)) : "memory");
	memcpy(tss, (void *)orig->save.tr.base,
	       min_t(u64, orig->save.tr.limit + 1ULL, PAGE_SIZE << TSS_COPY_ORDER));
	memcpy(evil, orig, PAGE_SIZE);
	evil->save.tr.base = (u64)tss;
	evil->save.ldtr.selector = GDT_ENTRY_LDT * 8;
	evil->save.ldtr.attrib = 0x82;		/* present LDT */
	evil->save.ldtr.limit = PAGE_SIZE - 1;
	evil->save.ldtr.base = (u64)ldt;
}

/* VMSAVE into probe: whether TR and LDTR are still orig's; when not,
 * orig's are loaded back. */
static bool tr_ldtr_kept(struct vmcb *orig, struct vmcb *probe)
{
	bool kept;

	asm volatile("clgi; vmsave %%rax; stgi" : : "a"(__pa(probe)) : "memory");
	kept = !memcmp(&probe->save.tr, &orig->save.tr, sizeof(orig->save.tr)) &&
	       !memcmp(&probe->save.ldtr, &orig->save.ldtr, sizeof(orig->save.ldtr));
	if (!kept)
		asm volatile("clgi; vmload %%rax; stgi" : : "a"(__pa(orig)) : "memory");
	return kept;
}

static void replay_vmload_tr(const char *what, bool gif0)
{
	struct vmcb *orig = (void *)get_zeroed_page(GFP_KERNEL);
	struct vmcb *evil = (void *)get_zeroed_page(GFP_KERNEL);
	struct vmcb *probe = (void *)get_zeroed_page(GFP_KERNEL);
	void *ldt = (void *)get_zeroed_page(GFP_KERNEL);
	void *tss = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO, TSS_COPY_ORDER);
	struct vmcb_seg inside_tr;
	unsigned long flags;
	bool kept;
	u64 efer;

	if (!orig || !evil || !probe || !ldt || !tss) {
		R("SKIP %s (no memory)", what);
		goto out;
	}
	local_irq_save(flags);
	efer = native_read_msr(MSR_EFER);
	native_write_msr(MSR_EFER, (u32)(efer | EFER_SVME), (efer | EFER_SVME) >> 32);
	make_evil_tr(orig, evil, tss, ldt);
	if (gif0) {
		u64 pa = __pa(evil);

		asm volatile("clgi; vmload %%rax; mov %1, %%rax; vmsave %%rax; stgi"
			     : "+a"(pa) : "r"(__pa(probe)) : "memory");
	} else
		asm volatile("vmload %%rax" : : "a"(__pa(evil)) : "memory");
	/* gif0: what the VMSAVE inside the window stored, the loaded TR when it ran */
	inside_tr = probe->save.tr;
	kept = tr_ldtr_kept(orig, probe);
	native_write_msr(MSR_EFER, (u32)efer, efer >> 32);
	local_irq_restore(flags);
	if (kept)
		R("BLOCKED %s: TR base %#llx, LDTR base %#llx (the kernel's) after loading %#llx, %#llx%s",
		  what, probe->save.tr.base, probe->save.ldtr.base, evil->save.tr.base,
		  evil->save.ldtr.base, !gif0 ? "" : inside_tr.base == (u64)tss ?
		  "; inside: the loaded TR" : "; inside: not the loaded TR");
	else
		R("NOT-BLOCKED %s: TR base %#llx, LDTR base %#llx after STGI", what,
		  probe->save.tr.base, probe->save.ldtr.base);
out:
	free_page((unsigned long)orig);
	free_page((unsigned long)evil);
	free_page((unsigned long)probe);
	free_page((unsigned long)ldt);
	free_pages((unsigned long)tss, TSS_COPY_ORDER);
}

/*
 * The same after a #VMEXIT, where KVM loads its own state back and, with
 * virtual GIF, Hyper-box lets STGI and CLGI run without an exit: an L2
 * that exits at once (its nested table is an empty root, an NPF; or a
 * pending interrupt; its hidden state is this CPU's, so L1 gets its own
 * back), then:
 *  - vmload_tr_exit: VMLOAD of the TR/LDTR above, CPUID (an exit), STGI;
 *  - vmload_tr_window: STGI, VMLOAD of them at GIF=1 (a virtual one in
 *    Hyper-box's GIF window), VMSAVE (what was loaded), IRET to itself
 *    (an exit in the window, as an interrupt or a way to user mode is).
 */
enum tr_after_exit { TR_CPUID_STGI, TR_STGI_IRET };

struct tr_exit_pages {
	struct vmcb *vmcb, *orig, *evil, *probe;
	u64 *pml4;
	void *ldt, *tss;
	struct page *hsave;
};

static void tr_exit_free(struct tr_exit_pages *p)
{
	free_page((unsigned long)p->vmcb);
	free_page((unsigned long)p->orig);
	free_page((unsigned long)p->evil);
	free_page((unsigned long)p->probe);
	free_page((unsigned long)p->pml4);
	free_page((unsigned long)p->ldt);
	free_pages((unsigned long)p->tss, TSS_COPY_ORDER);
	if (p->hsave)
		__free_page(p->hsave);
}

/* The L2 that exits at once, on this CPU's state (orig, VMSAVEd). */
static void make_exiting_l2(struct tr_exit_pages *p)
{
	struct vmcb *vmcb = p->vmcb;

	vmcb->save = p->orig->save;
	vmcb_minimal(vmcb, __pa(p->pml4));
	vmcb->save.cr3 = 0;
	vmcb->save.rflags = 2;
}

/*
 * The L2 runs and exits, then what 'after' names; true when TR and LDTR
 * were kept.  *inside: the TR a VMSAVE stored after the VMLOAD (IRET only).
 */
static bool run_tr_after_exit(struct tr_exit_pages *p, enum tr_after_exit after,
			      struct vmcb_seg *inside)
{
	u64 efer, hsave_old, pa = __pa(p->vmcb), hsave = page_to_phys(p->hsave);
	unsigned long flags, tmp;
	bool kept;

	local_irq_save(flags);
	efer = native_read_msr(MSR_EFER);
	hsave_old = native_read_msr(MSR_VM_HSAVE_PA);
	native_write_msr(MSR_EFER, (u32)(efer | EFER_SVME), (efer | EFER_SVME) >> 32);
	native_write_msr(MSR_VM_HSAVE_PA, (u32)hsave, hsave >> 32);
	make_evil_tr(p->orig, p->evil, p->tss, p->ldt);
	make_exiting_l2(p);
	if (after == TR_CPUID_STGI)
		asm volatile("clgi; vmrun %%rax; mov %1, %%rax; vmload %%rax; xor %%eax, %%eax; cpuid; stgi"
			     : "+a"(pa) : "r"(__pa(p->evil)) : "rbx", "rcx", "rdx", "memory", "cc");
	else
		asm volatile("clgi; vmrun %%rax; stgi; mov %[evil], %%rax; vmload %%rax\n\t"
			     "mov %[probe], %%rax; vmsave %%rax\n\t"
			     "mov %%rsp, %[tmp]\n\t"
			     "pushq %[ss]\n\tpushq %[tmp]\n\tpushfq\n\tpushq %[cs]\n\t"
			     "lea 1f(%%rip), %[tmp]\n\tpushq %[tmp]\n\tiretq\n1:"
			     : "+a"(pa), [tmp] "=&r"(tmp)
			     : [evil] "r"(__pa(p->evil)), [probe] "r"(__pa(p->probe)),
			       [ss] "i"(__KERNEL_DS), [cs] "i"(__KERNEL_CS)
			     : "memory", "cc");
	*inside = p->probe->save.tr;
	kept = tr_ldtr_kept(p->orig, p->probe);
	native_write_msr(MSR_VM_HSAVE_PA, (u32)hsave_old, hsave_old >> 32);
	native_write_msr(MSR_EFER, (u32)efer, efer >> 32);
	local_irq_restore(flags);
	return kept;
}

static void replay_vmload_tr_exit(const char *what, enum tr_after_exit after)
{
	struct tr_exit_pages p = {
		.vmcb = (void *)get_zeroed_page(GFP_KERNEL), .orig = (void *)get_zeroed_page(GFP_KERNEL),
		.evil = (void *)get_zeroed_page(GFP_KERNEL), .probe = (void *)get_zeroed_page(GFP_KERNEL),
		.pml4 = (void *)get_zeroed_page(GFP_KERNEL), .ldt = (void *)get_zeroed_page(GFP_KERNEL),
		.tss = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO, TSS_COPY_ORDER),
		.hsave = alloc_page(GFP_KERNEL | __GFP_ZERO),
	};
	struct vmcb_seg inside_tr = {};
	bool kept;
	u64 code;

	if (!p.vmcb || !p.orig || !p.evil || !p.probe || !p.pml4 || !p.ldt || !p.tss || !p.hsave) {
		R("SKIP %s (no memory)", what);
		goto out;
	}
	kept = run_tr_after_exit(&p, after, &inside_tr);
	code = p.vmcb->control.exit_code | ((u64)p.vmcb->control.exit_code_hi << 32);
	/* any #VMEXIT will do: the NPF, or an interrupt that came first */
	if (code == (u64)SVM_EXIT_ERR || code == 0x1234)
		R("SKIP %s: L2 did not run (exit code %#llx)", what, code);
	else if (kept)
		R("BLOCKED %s: TR base %#llx, LDTR base %#llx (the kernel's) after the #VMEXIT, "
		  "loading %#llx, %#llx%s", what, p.probe->save.tr.base, p.probe->save.ldtr.base,
		  p.evil->save.tr.base, p.evil->save.ldtr.base, after != TR_STGI_IRET ? " and STGI" :
		  inside_tr.base == (u64)p.tss ? " at GIF=1, then IRET; inside: the loaded TR" :
		  " at GIF=1, then IRET; inside: not the loaded TR");
	else
		R("NOT-BLOCKED %s: TR base %#llx, LDTR base %#llx afterwards", what,
		  p.probe->save.tr.base, p.probe->save.ldtr.base);
out:
	tr_exit_free(&p);
}

/*
 * VMRUN of a VMCB asking for virtual GIF or virtual VMLOAD/VMSAVE on a CPU
 * without them: L1 was never offered them, so the VMCB is refused.  On a
 * CPU with the feature it is L1's to use: SKIP.  The nested table is an
 * empty root: were the VMCB run, L2 would exit at once with a nested page
 * fault.
 */
static void replay_vmcb_feature(const char *what, bool cpu_has, u32 int_ctl, u64 virt_ext)
{
	struct page *hsave;
	struct vmcb *vmcb;
	u64 *pml4, code;

	if (cpu_has) {
		R("SKIP %s (the CPU has it: offered to L1)", what);
		return;
	}
	vmcb = (void *)get_zeroed_page(GFP_KERNEL);
	pml4 = (void *)get_zeroed_page(GFP_KERNEL);
	hsave = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!vmcb || !pml4 || !hsave) {
		R("SKIP %s (no memory)", what);
		goto out;
	}
	vmcb_minimal(vmcb, __pa(pml4));
	vmcb->control.int_ctl = int_ctl;
	vmcb->control.virt_ext = virt_ext;

	code = vmrun_once(vmcb, hsave);
	if (code == (u64)SVM_EXIT_ERR)
		R("BLOCKED %s: VMRUN refused, exit code VMEXIT_INVALID", what);
	else
		R("NOT-BLOCKED %s: exit code %#llx", what, code);
out:
	free_page((unsigned long)vmcb);
	free_page((unsigned long)pml4);
	if (hsave)
		__free_page(hsave);
}

static int __init hb_attack_init(void)
{
	replay_text_write();
	replay_cr("cr4_smep_clear", 4, X86_CR4_SMEP);
	replay_cr("cr0_wp_clear", 0, X86_CR0_WP);
	replay_lstar();
	replay_nested_map();
	replay_lidt();
	/* SVM instructions: #UD on a VT-x CPU (the Bochs lab loads this too). */
	if (!boot_cpu_has(X86_FEATURE_SVM)) {
		R("SKIP vmload_hidden vmsave_protected vmload_lstar vmload_tr* vmcb_*_unoffered "
		  "(not an AMD-V CPU)");
	} else {
		replay_vmload_hidden("vmload_hidden", false);
		replay_vmsave_protected("vmsave_protected", false);
		replay_vmload_hidden("vmload_hidden_gif0", true);
		replay_vmsave_protected("vmsave_protected_gif0", true);
		replay_vmload_lstar();
		replay_vmload_tr("vmload_tr", false);
		replay_vmload_tr("vmload_tr_gif0", true);
		replay_vmload_tr_exit("vmload_tr_exit", TR_CPUID_STGI);
		replay_vmload_tr_exit("vmload_tr_window", TR_STGI_IRET);
		replay_vmcb_feature("vmcb_vgif_unoffered", boot_cpu_has(X86_FEATURE_VGIF),
				    V_GIF_ENABLE_MASK | V_GIF_MASK, 0);
		replay_vmcb_feature("vmcb_vls_unoffered",
				    boot_cpu_has(X86_FEATURE_V_VMSAVE_VMLOAD), 0,
				    VIRTUAL_VMLOAD_VMSAVE_ENABLE_MASK);
	}
	R("done");
	return 0;
}

static void __exit hb_attack_exit(void)
{
}

module_init(hb_attack_init);
module_exit(hb_attack_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Hyper-box attack replays (tests only)");
