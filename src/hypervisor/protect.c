// SPDX-License-Identifier: GPL-2.0-only
/*
 * What is protected, and what happens on a violation.
 *
 * Text patching: the kernel patches its own text after boot (static keys,
 * alternatives in modules, ftrace, kprobes) only through text_poke(), which
 * switches to a private mm (poking_mm) and writes through a temporary alias
 * of the physical text page.  The NPT sees a write to a read-only physical
 * text page like any other.  The one write Hyper-box lets through is a
 * plain MOV store or MOVSB, executed at CPL 0 from kernel text, with CR3 ==
 * poking_mm's page table, landing in kernel text: the host emulates that one
 * instruction itself and the page stays read-only throughout, so there is no
 * window in which another CPU could write.  Data-only attackers cannot run
 * with poking_mm's CR3; everything else is denied.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sort.h>
#include <asm/desc.h>
#include <asm/pgtable.h>
#include "hyperbox.h"
#include "monitor.h"

#define PTE_ADDR 0x000ffffffffff000ULL

const char *const hv_prot_names[HV_PROT_NR] = {
	"hidden", "text", "rodata", "ex_table", "idt", "gdt", "module", "stats",
};

const char *const hv_violation_names[HV_V_NR] = {
	"text_write", "rodata_write", "ex_table_write", "idt_write", "gdt_write",
	"module_write", "stats_write", "hidden_access", "cr0_wp", "cr4_smep",
	"cr4_smap", "efer_svme", "syscall_msr", "hsave_pa", "svm_insn",
	"nested_map_hidden", "nested_map_protected", "nested_vmcb", "l1_tr_ldtr",
	"text_poke_allowed",
};

/* Adds only the parts of [start, end) not already covered: earlier adds win. */
int hv_ranges_add(struct hv *hv, u64 start, u64 end, int kind)
{
	unsigned int i;

	start &= PAGE_MASK;
	end = PAGE_ALIGN(end);
	for (i = 0; i < hv->nr_ranges && start < end; i++) {
		struct hv_range *r = &hv->ranges[i];

		if (r->end <= start || r->start >= end)
			continue;
		if (r->start > start) {
			int ret = hv_ranges_add(hv, start, r->start, kind);

			if (ret)
				return ret;
		}
		start = max(start, r->end);
		i = -1;		/* rescan: the array may have grown */
	}
	if (start >= end)
		return 0;
	/* Page-by-page adds of contiguous memory coalesce. */
	for (i = 0; i < hv->nr_ranges; i++) {
		if (hv->ranges[i].kind == kind && hv->ranges[i].end == start) {
			hv->ranges[i].end = end;
			return 0;
		}
	}
	if (hv->nr_ranges == HV_MAX_RANGES)
		return -ENOSPC;
	hv->ranges[hv->nr_ranges++] = (struct hv_range){ start, end, kind };
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct hv_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

const struct hv_range *__hv_host hv_range_find(const struct hv *hv, u64 pa)
{
	unsigned int lo = 0, hi = hv->nr_ranges;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		const struct hv_range *r = &hv->ranges[mid];

		if (pa < r->start)
			hi = mid;
		else if (pa >= r->end)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static u64 kva_to_pa(unsigned long va)
{
	return slow_virt_to_phys((void *)va);
}

/* A virtually contiguous kernel range, page by page (module memory is vmalloc). */
static int add_virt(struct hv *hv, unsigned long start, unsigned long end, int kind)
{
	unsigned long va;
	int ret;

	for (va = start & PAGE_MASK; va < end; va += PAGE_SIZE) {
		u64 pa = (is_vmalloc_addr((void *)va) || (va >= MODULES_VADDR && va < MODULES_END)) ?
			 (u64)vmalloc_to_pfn((void *)va) << PAGE_SHIFT : kva_to_pa(va);

		ret = hv_ranges_add(hv, pa, pa + PAGE_SIZE, kind);
		if (ret)
			return ret;
	}
	return 0;
}

int hv_protect_collect(struct hv *hv)
{
	unsigned long stext = hv_sym("_stext"), etext = hv_sym("_etext");
	unsigned long srod = hv_sym("__start_rodata"), erod = hv_sym("__end_rodata");
	unsigned long sex = hv_sym("__start___ex_table"), eex = hv_sym("__stop___ex_table");
	unsigned long pmm = hv_sym("poking_mm");
	struct module_layout *ml = &THIS_MODULE->core_layout;
	struct desc_ptr idt;
	unsigned int cpu;
	int ret = 0;

	if (!stext || !etext || !srod || !erod || !sex || !eex || !pmm)
		return -ENOENT;
	hv->text_start = stext;
	hv->text_end = etext;
	hv->poking_cr3 = __pa((*(struct mm_struct **)pmm)->pgd) & PTE_ADDR;

	ret = add_virt(hv, (unsigned long)hv->shared, (unsigned long)hv->shared + hv->shared_size,
		       HV_PROT_STATS);
	if (!ret && hv->pol.lock_tables) {
		store_idt(&idt);
		/*
		 * The table, not the limit: VT-x VM exits (kvm_intel) leave
		 * IDTR's limit at 0xffff, which would lock the pages after the
		 * IDT (the GDT's among them) as IDT.
		 */
		ret = add_virt(hv, idt.address,
			       idt.address + min_t(unsigned long, idt.size + 1, IDT_ENTRIES * sizeof(gate_desc)),
			       HV_PROT_IDT);
		for_each_possible_cpu(cpu)
			if (!ret)
				ret = add_virt(hv, (unsigned long)get_cpu_gdt_rw(cpu),
					       (unsigned long)get_cpu_gdt_rw(cpu) + PAGE_SIZE, HV_PROT_GDT);
	}
	if (!ret && hv->pol.protect_kernel) {
		ret = add_virt(hv, sex, eex, HV_PROT_EXTABLE);
		if (!ret)
			ret = add_virt(hv, stext, etext, HV_PROT_TEXT);
		if (!ret)
			ret = add_virt(hv, srod, erod, HV_PROT_RODATA);
	}
	/* Our text and rodata: L1 runs the sysfs side of this module, so read-only, not hidden. */
	if (!ret)
		ret = add_virt(hv, (unsigned long)ml->base,
			       (unsigned long)ml->base + ml->ro_after_init_size, HV_PROT_MODULE);
	if (ret)
		return ret;
	sort(hv->ranges, hv->nr_ranges, sizeof(hv->ranges[0]), range_cmp, NULL);
	return 0;
}

int hv_protect_apply(struct hv *hv)
{
	unsigned int i;
	int ret;

	for (i = 0; i < hv->nr_ranges; i++) {
		const struct hv_range *r = &hv->ranges[i];

		ret = hv_npt_protect(hv, r->start, r->end - r->start,
				     r->kind == HV_PROT_HIDDEN ? HV_NPT_NONE : HV_NPT_RO);
		if (ret)
			return ret;
	}
	/* Last: splitting above may have grown the arena. */
	for (i = 0; i < hv->arena.nr; i++) {
		ret = hv_npt_protect(hv, hv->arena.pa[i], PAGE_SIZE << HV_ARENA_ORDER, HV_NPT_NONE);
		if (ret)
			return ret;
	}
	return 0;
}

void __hv_host hv_log(struct hv_cpu *c, u32 what, u64 rip, u64 addr, u64 value)
{
	struct hv_shared *s = c->hv->shared;
	u64 seq = __atomic_fetch_add(&s->log_head, 1, __ATOMIC_RELAXED) + 1;
	struct hv_log_entry *e = &s->log[seq % HV_LOG_SIZE];

	WRITE_ONCE(e->seq, 0);
	e->cpu = c->cpu;
	e->what = what;
	e->rip = rip;
	e->addr = addr;
	e->value = value;
	smp_wmb();
	WRITE_ONCE(e->seq, seq);
}

void __hv_host hv_violation(struct hv_cpu *c, enum hv_violation v, u64 addr, u64 value)
{
	c->stats->violations[v]++;
	hv_log(c, v, c->g.rip, addr, value);
}

static const u8 write_violation[HV_PROT_NR] = {
	[HV_PROT_HIDDEN] = HV_V_HIDDEN_ACCESS, [HV_PROT_TEXT] = HV_V_TEXT_WRITE,
	[HV_PROT_RODATA] = HV_V_RODATA_WRITE, [HV_PROT_EXTABLE] = HV_V_EXTABLE_WRITE,
	[HV_PROT_IDT] = HV_V_IDT_WRITE, [HV_PROT_GDT] = HV_V_GDT_WRITE,
	[HV_PROT_MODULE] = HV_V_MODULE_WRITE, [HV_PROT_STATS] = HV_V_STATS_WRITE,
};

/*
 * Which stores the host performs on L1's behalf (see the header comment for
 * text_poke).  The GDT is rewritten by the kernel on every context switch:
 * the three TLS descriptors of the next task (load_TLS).  Those slots, and
 * only with descriptors a user task may have (code/data, DPL 3, or empty),
 * are written by the host; the rest of the GDT stays locked.
 */
enum hv_store_path { HV_STORE_TEXT_POKE, HV_STORE_GDT_TLS };

#define GDT_TLS_FIRST	(GDT_ENTRY_TLS_MIN * 8)
#define GDT_TLS_END	((GDT_ENTRY_TLS_MAX + 1) * 8)

static bool __hv_host tls_desc_ok(u64 d)
{
	return !d || ((d & (1ULL << 44)) && ((d >> 45) & 3) == 3);	/* S=1, DPL=3 */
}

static int __hv_host store_bytes(struct hv_cpu *c, enum hv_store_path path, u64 gva,
				 const u8 *src, size_t len)
{
	const struct hv_range *r;
	u64 gpa;
	size_t i;

	if (path == HV_STORE_GDT_TLS && len == 1) {
		/* The TSS descriptor's type byte: only the busy bit may change (KVM's reload_tss). */
		if (hv_gva_to_gpa(c->hv, c->g.cr3, gva, &gpa, NULL))
			return -EPERM;
		r = hv_range_find(c->hv, gpa);
		if (!r || r->kind != HV_PROT_GDT || (gpa & ~PAGE_MASK) != GDT_ENTRY_TSS * 8 + 5 ||
		    ((*(u8 *)__va(gpa) ^ src[0]) & ~2))
			return -EPERM;
		WRITE_ONCE(*(u8 *)__va(gpa), src[0]);
		c->stats->gdt_tss_type++;
		return 0;
	}
	if (path == HV_STORE_GDT_TLS) {
		u64 d;

		if (len != 8 || (gva & 7) || hv_gva_to_gpa(c->hv, c->g.cr3, gva, &gpa, NULL))
			return -EPERM;
		r = hv_range_find(c->hv, gpa);
		memcpy(&d, src, 8);
		if (!r || r->kind != HV_PROT_GDT || (gpa & ~PAGE_MASK) < GDT_TLS_FIRST ||
		    (gpa & ~PAGE_MASK) >= GDT_TLS_END || !tls_desc_ok(d))
			return -EPERM;
		WRITE_ONCE(*(u64 *)__va(gpa), d);
		c->stats->gdt_tls++;
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (hv_gva_to_gpa(c->hv, c->g.cr3, gva + i, &gpa, NULL))
			return -EFAULT;
		r = hv_range_find(c->hv, gpa);
		if (!r || r->kind != HV_PROT_TEXT)
			return -EPERM;
		*(u8 *)__va(gpa) = src[i];
	}
	return 0;
}

/* Emulate the one faulting store instruction through the given path: its width, or -EPERM. */
static int __hv_host store_emulate(struct hv_cpu *c, enum hv_store_path path)
{
	struct hv *hv = c->hv;
	struct hv_insn in;
	u64 ea, v, n;
	int reg, size;
	u8 b;

	/* text_poke runs from kernel text; the GDT paths are checked by value instead. */
	if (c->g.cpl != 0 || hv_insn_fetch(c, &in) || (path == HV_STORE_TEXT_POKE &&
	    (c->g.rip < hv->text_start || c->g.rip >= hv->text_end)))
		return -EPERM;
	if (in.op[0] == 0x88 || in.op[0] == 0x89) {
		reg = hv_insn_reg(&in);
		size = in.op[0] == 0x88 ? 1 : in.rex_w ? 8 : in.opsize ? 2 : 4;
		v = hv_gpr_get(c, reg);
		if (in.op[0] == 0x88 && !in.nprefix && reg >= 4 && reg < 8)
			v = hv_gpr_get(c, reg - 4) >> 8;	/* AH..BH without REX */
		if (hv_insn_ea(c, &in, &ea) || store_bytes(c, path, ea, (u8 *)&v, size))
			return -EPERM;
	} else if (in.op[0] == 0xa4 && path == HV_STORE_TEXT_POKE &&
		   !(c->g.rflags & X86_EFLAGS_DF)) {
		n = in.rep ? hv_gpr_get(c, HV_RCX) : 1;
		size = 1;
		if (n > PAGE_SIZE)
			return -EPERM;
		while (n--) {
			if (hv_gva_read(hv, c->g.cr3, hv_gpr_get(c, HV_RSI), &b, 1) ||
			    store_bytes(c, path, hv_gpr_get(c, HV_RDI), &b, 1))
				return -EPERM;
			hv_gpr_set(c, HV_RSI, hv_gpr_get(c, HV_RSI) + 1);
			hv_gpr_set(c, HV_RDI, hv_gpr_get(c, HV_RDI) + 1);
			if (in.rep)
				hv_gpr_set(c, HV_RCX, hv_gpr_get(c, HV_RCX) - 1);
		}
	} else {
		return -EPERM;
	}
	c->g.rip += in.len;
	return size;
}

/*
 * load_TLS writes the next task's three TLS descriptors back to back (each
 * loaded from the thread struct, then stored into the GDT), so a context
 * switch would cost three exits.  After the faulting store, what follows
 * is carried out in the same exit while it is only such 64-bit loads and
 * stores, up to the descriptors left: a load only from the kernel's RAM
 * (gmem refuses Hyper-box memory), a store only into a TLS slot
 * through store_bytes' checks.  Anything else ends the run and L1 executes
 * it itself: another instruction or prefix, a user or unmapped address,
 * single-stepping, an armed data breakpoint, or an execution breakpoint
 * on the instruction.
 */
#define TLS_FOLLOW_MAX	(2 * (GDT_ENTRY_TLS_ENTRIES - 1))
#define DR7_ENABLED(dr7, i)	(((dr7) >> (2 * (i))) & 3)
#define DR7_TYPE(dr7, i)	(((dr7) >> (16 + 4 * (i))) & 3)	/* 0: execution */

static u64 __hv_host dr_addr(int i)
{
	u64 v;

	switch (i) {
	case 0: HV_DR_GET(0, v); break;
	case 1: HV_DR_GET(1, v); break;
	case 2: HV_DR_GET(2, v); break;
	default: HV_DR_GET(3, v); break;
	}
	return v;
}

/* No data breakpoint armed (DR0-3 are L1's or the monitor's, as DR7 says). */
static bool __hv_host no_data_bp(u64 dr7)
{
	int i;

	for (i = 0; i < 4; i++)
		if (DR7_ENABLED(dr7, i) && DR7_TYPE(dr7, i))
			return false;
	return true;
}

static bool __hv_host exec_bp_at(u64 dr7, u64 rip)
{
	int i;

	for (i = 0; i < 4; i++)
		if (DR7_ENABLED(dr7, i) && !DR7_TYPE(dr7, i) && dr_addr(i) == rip)
			return true;
	return false;
}

/*
 * An aligned 64-bit load from RAM as the kernel maps it: the direct map
 * (a task's thread struct) or the kernel image (init_task's, the first
 * CPU's idle task), as L1's page table translates the address.
 */
static int __hv_host kernel_ram_load(struct hv_cpu *c, u64 ea, u64 *v)
{
	u64 gpa;

	if ((ea & 7) || hv_gva_to_gpa(c->hv, c->g.cr3, ea, &gpa, NULL) ||
	    ((u64)__va(gpa) != ea &&
	     (ea < __START_KERNEL_map || ea - __START_KERNEL_map + phys_base != gpa)))
		return -EFAULT;
	return hv_gmem_read(c->hv, gpa, v, sizeof(*v));
}

static void __hv_host tls_follow(struct hv_cpu *c)
{
	struct hv_insn in;
	u64 dr7, ea, v;
	int i, reg;

	if (!c->hv->ops->dr7 || (c->g.rflags & X86_EFLAGS_TF))
		return;
	dr7 = c->hv->ops->dr7(c);
	if (!no_data_bp(dr7))
		return;
	for (i = 0; i < TLS_FOLLOW_MAX; i++) {
		if (exec_bp_at(dr7, c->g.rip) || hv_insn_fetch(c, &in) || !in.rex_w ||
		    in.nprefix != 1 || (in.op[0] != 0x89 && in.op[0] != 0x8b) ||
		    hv_insn_ea(c, &in, &ea))
			return;
		reg = hv_insn_reg(&in);
		if (in.op[0] == 0x89) {
			v = hv_gpr_get(c, reg);
			if (store_bytes(c, HV_STORE_GDT_TLS, ea, (u8 *)&v, sizeof(v)))
				return;
			c->stats->gdt_tls_follow++;
		} else {
			if (kernel_ram_load(c, ea, &v))
				return;
			hv_gpr_set(c, reg, v);
		}
		c->g.rip += in.len;
	}
}

/*
 * LTR of the kernel's own TSS: the CPU sets the busy bit in the (locked)
 * GDT.  The host does what LTR does: marks the descriptor busy and loads TR
 * through the vendor (the selector must be the TSS entry and an available
 * 64-bit TSS).
 */
static int __hv_host ltr_emulate(struct hv_cpu *c)
{
	struct hv_insn in;
	u64 lo, hi, gpa;
	u16 sel;

	if (c->g.cpl != 0 || hv_insn_fetch(c, &in) || in.op[0] != 0x0f || in.op[1] != 0x00 ||
	    ((in.modrm >> 3) & 7) != 3 || (in.modrm >> 6) != 3 || !c->hv->ops->load_tr)
		return -EPERM;
	sel = hv_gpr_get(c, hv_insn_rm(&in));
	if (sel != GDT_ENTRY_TSS * 8 ||
	    hv_gva_to_gpa(c->hv, c->g.cr3, c->hv->ops->gdt_base(c) + sel, &gpa, NULL))
		return -EPERM;
	if (!hv_range_find(c->hv, gpa) || hv_range_find(c->hv, gpa)->kind != HV_PROT_GDT ||
	    (gpa & 15) || (gpa & ~PAGE_MASK) + 16 > PAGE_SIZE)
		return -EPERM;
	lo = *(u64 *)__va(gpa);
	hi = *(u64 *)__va(gpa + 8);
	if (((lo >> 40) & 0x1f) != 0x09 || !(lo & (1ULL << 47)))
		return -EPERM;		/* not an available, present 64-bit TSS */
	lo |= 2ULL << 40;		/* busy */
	WRITE_ONCE(*(u64 *)__va(gpa), lo);
	c->hv->ops->load_tr(c, sel, ((lo >> 16) & 0xffffff) | ((lo >> 32) & 0xff000000) | (hi << 32),
			    (lo & 0xffff) | ((lo >> 32) & 0xf0000), ((lo >> 40) & 0xff) | ((lo >> 44) & 0xf00));
	c->stats->gdt_ltr++;
	c->g.rip += in.len;
	return 0;
}

static int __hv_host text_poke_emulate(struct hv_cpu *c)
{
	if (!c->hv->pol.text_poke || (c->g.cr3 & PTE_ADDR) != c->hv->poking_cr3 ||
	    store_emulate(c, HV_STORE_TEXT_POKE) < 0)
		return -EPERM;
	c->stats->violations[HV_V_TEXT_POKE_OK]++;
	return 0;
}

/*
 * A denied data access to a kernel address is answered with the #PF a CPU
 * gives for an unmapped page (not-present, CR2 = the address): the kernel
 * then takes its ordinary path, the exception fixup for *_nofault()
 * accessors (-EFAULT, no warning) or an oops.  Only when the instruction's
 * address is known and translates to the faulting page; else #GP.
 */
static bool __hv_host deny_as_pf(struct hv_cpu *c, u64 gpa, u64 err)
{
	struct hv_insn in;
	u64 ea, pa;
	int i;

	if (!c->hv->ops->inject_pf || (err & 0x10) || c->g.cpl != 0 || hv_insn_fetch(c, &in))
		return false;
	if (in.has_modrm && (in.modrm >> 6) != 3) {
		if (hv_insn_ea(c, &in, &ea))
			return false;
	} else if ((in.op[0] == 0xa4 || in.op[0] == 0xa5 || in.op[0] == 0xaa || in.op[0] == 0xab) &&
		   (err & 2)) {
		ea = hv_gpr_get(c, HV_RDI);
	} else {
		return false;
	}
	if (ea < 0xffff800000000000ULL)
		return false;		/* a user address would be "fixed" by the mm and retried */
	/* The access may straddle two pages: CR2 is where the faulting page starts. */
	for (i = 0; i < 2; i++) {
		u64 va = i ? (ea + 15) & PAGE_MASK : ea;

		if (!hv_gva_to_gpa(c->hv, c->g.cr3, va, &pa, NULL) &&
		    (pa & PAGE_MASK) == (gpa & PAGE_MASK)) {
			c->hv->ops->inject_pf(c, va, err & 2);
			return true;
		}
	}
	return false;
}

/*
 * A nested page fault taken by L1.  Every NPT restriction is deliberate, so
 * any fault is either the text_poke path or a violation: the access is
 * dropped and L1 gets a #PF (see deny_as_pf) or #GP, which the kernel's
 * exception fixup turns into -EFAULT for *_nofault() accessors and an oops
 * otherwise.
 */
int __hv_host hv_protect_npf(struct hv_cpu *c, u64 gpa, u64 err)
{
	const struct hv_range *r = hv_range_find(c->hv, gpa);
	int kind = r ? r->kind : HV_PROT_HIDDEN, size;

	if (r && kind == HV_PROT_TEXT && (err & 2) && !text_poke_emulate(c))
		return 0;
	if (r && kind == HV_PROT_GDT && (err & 2)) {
		size = store_emulate(c, HV_STORE_GDT_TLS);
		if (size == 8)
			tls_follow(c);
		if (size > 0 || !ltr_emulate(c))
			return 0;
	}
	if (!r && !hv_arena_contains(&c->hv->arena, gpa) && gpa < c->hv->npt_top)
		return -EINVAL;		/* not ours: the vendor reports it */
	hv_violation(c, (err & 2) || kind == HV_PROT_HIDDEN ? write_violation[kind] : HV_V_HIDDEN_ACCESS,
		     gpa, err);
	if (!deny_as_pf(c, gpa, err))
		c->hv->ops->inject(c, 13, true, 0);
	return 0;
}
