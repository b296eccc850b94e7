/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hyper-box: vendor-neutral core.
 *
 * The running kernel is demoted to a guest ("L1") on every CPU; the module's
 * state lives in "arena" memory that the nested page table (NPT/EPT) does not
 * map, so L1 can neither read nor write it.  Code that runs in the host
 * ("Ring -1") is marked __hv_host and may only touch arena memory, its own
 * read-only text/rodata, the kernel's (read-only) text, and guest memory
 * through hv_gmem_*().
 */
#ifndef HYPERBOX_H
#define HYPERBOX_H

#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/cpumask.h>
#include <linux/cache.h>

#define HV_NAME "hyperbox"

/* Host-side code: never traced, never probed. */
#define __hv_host notrace __attribute__((__no_stack_protector__))

/* DR6 and DR7 with no status bit and nothing enabled (their fixed-1 bits). */
#define HV_DR6_FIXED	0xffff0ff0ULL
#define HV_DR7_FIXED	0x400ULL

struct hv;
struct hv_cpu;
struct hv_mon;

/* Guest general registers saved by the entry asm (RAX/RSP live in the VMCB/VMCS). */
struct hv_regs {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rdi, rsi, rbp, rdx, rcx, rbx;
};

/* Register numbers as encoded in ModRM/REX. */
enum { HV_RAX, HV_RCX, HV_RDX, HV_RBX, HV_RSP, HV_RBP, HV_RSI, HV_RDI,
       HV_R8, HV_R9, HV_R10, HV_R11, HV_R12, HV_R13, HV_R14, HV_R15 };

/*
 * The guest state that vendor-neutral host code (decoder, protection policy)
 * reads and writes.  The vendor loads it at each exit and stores rip/rsp/rax
 * back before re-entry.
 */
struct hv_guest {
	u64 rip, rsp, rax, rflags;
	u64 cr0, cr3, cr4, efer;
	int cpl;
	struct hv_regs *regs;
};

/* ---- arena: hidden memory ---- */
#define HV_ARENA_ORDER	9		/* 2 MiB: one large NPT entry each */
#define HV_ARENA_MAX	32
struct hv_arena {
	unsigned int nr;
	u64 pa[HV_ARENA_MAX];
	void *va[HV_ARENA_MAX];
	size_t used;			/* in the last block */
};
void *hv_arena_alloc(struct hv_arena *a, size_t size, u64 *pa);
void hv_arena_free_all(struct hv_arena *a);
bool hv_arena_contains(const struct hv_arena *a, u64 pa);

/* ---- protected physical ranges ---- */
enum hv_prot_kind {
	HV_PROT_HIDDEN,		/* Hyper-box memory: not mapped at all */
	HV_PROT_TEXT,		/* kernel text: read/execute; text_poke path */
	HV_PROT_RODATA,
	HV_PROT_EXTABLE,
	HV_PROT_IDT,
	HV_PROT_GDT,
	HV_PROT_MODULE,		/* Hyper-box's own text/rodata, executed by L1 */
	HV_PROT_STATS,		/* counters page: L1 reads, host writes */
	HV_PROT_NR
};
extern const char *const hv_prot_names[HV_PROT_NR];

struct hv_range {
	u64 start, end;		/* physical, [start, end) page aligned */
	u8 kind;
};
#define HV_MAX_RANGES 256

/* ---- counters and log shared read-only with L1 ---- */
enum hv_violation {
	HV_V_TEXT_WRITE, HV_V_RODATA_WRITE, HV_V_EXTABLE_WRITE, HV_V_IDT_WRITE,
	HV_V_GDT_WRITE, HV_V_MODULE_WRITE, HV_V_STATS_WRITE, HV_V_HIDDEN_ACCESS,
	HV_V_CR0_WP, HV_V_CR4_SMEP, HV_V_CR4_SMAP, HV_V_EFER_SVME, HV_V_SYSCALL_MSR,
	HV_V_HSAVE_PA, HV_V_SVM_INSN, HV_V_NESTED_HIDDEN, HV_V_NESTED_PROTECTED,
	HV_V_NESTED_VMCB, HV_V_L1_TR_LDTR, HV_V_TEXT_POKE_OK, HV_V_NR
};
extern const char *const hv_violation_names[HV_V_NR];

#define HV_NR_EXIT_IDX 48
struct hv_cpu_stats {
	u64 exits[HV_NR_EXIT_IDX];
	u64 violations[HV_V_NR];
	u64 l2_runs, shadow_fills, shadow_resets;
	u64 svmcs_loads;		/* VT-x: a VMCS12 loaded into the shadow VMCS */
	u64 shadow_ahead;		/* shadow entries filled ahead of a fault */
	/* L1's stores to its locked GDT that the host carried out (protect.c) */
	u64 gdt_tss_type;		/* the TSS descriptor's busy bit cleared (kvm_amd's reload_tss) */
	u64 gdt_ltr;			/* LTR of the kernel's TSS, which sets the busy bit */
	u64 gdt_tls;			/* a TLS descriptor (load_TLS at a context switch) */
	u64 gdt_tls_follow;		/* of those, written in an earlier store's exit */
} ____cacheline_aligned;

struct hv_log_entry {
	u64 seq;		/* written last; 0 = empty */
	u32 cpu, what;
	u64 rip, addr, value;
};
#define HV_LOG_SIZE 64
struct hv_shared {
	u64 log_head;
	struct hv_log_entry log[HV_LOG_SIZE];
	struct hv_cpu_stats cpu[];
};

/* ---- policy (module parameters, copied into the arena at load) ---- */
struct hv_policy {
	bool protect_kernel, lock_tables, pin_cr, pin_msrs, nested, text_poke;
	bool allow_unload;
};

/* ---- vendor interface ---- */
struct hv_vendor_ops {
	const char *name;
	/* Once, before anything else: one clear line and -errno if unusable. */
	int (*probe)(void);
	/* Before launch: the vendor's per-CPU state (embedding hv_cpu), from the arena. */
	struct hv_cpu *(*cpu_setup)(struct hv *hv, int cpu);
	/* On c's CPU, IRQs off: enter Ring -1, return 0 as the demoted guest. */
	int (*launch)(struct hv_cpu *c);
	/* On the CPU, IRQs off, as guest: leave Ring -1 for good. */
	int (*devirt)(void);
	/* Host: make the next entry flush guest TLB entries derived from the NPT. */
	void (*flush_npt)(struct hv_cpu *c);
	/* Host: queue an exception for the guest. */
	void (*inject)(struct hv_cpu *c, u8 vector, bool has_err, u32 err);
	/* Host, optional: queue a #PF with this CR2 (a denied store then faults as on a CPU). */
	void (*inject_pf)(struct hv_cpu *c, u64 cr2, u32 err);
	/* Host: guest GDT base, and load TR as LTR would (for the LTR path). */
	u64 (*gdt_base)(struct hv_cpu *c);
	void (*load_tr)(struct hv_cpu *c, u16 sel, u64 base, u32 limit, u16 attrib);
	/* Host, optional: the guest's DR7 as the CPU applies it (with DR0-3 as they are). */
	u64 (*dr7)(struct hv_cpu *c);
	const char *const *exit_names;		/* indexed like hv_cpu_stats.exits */
	/* ORed into every present leaf of L1's NPT/EPT (EPT: memory type); 0 for NPT. */
	u64 npt_leaf_bits;
	/* The same for leaves above RAM and 4 GiB, device memory only (EPT: uncacheable). */
	u64 npt_mmio_bits;
	/* Optional: the nested table takes 1 GiB leaves (default: CPUID Page1GB, as NPT). */
	bool (*npt_1g)(void);
	/* L1's hypercall instruction: VMCALL (VT-x) instead of VMMCALL (AMD-V). */
	bool hc_vmcall;
};
extern const struct hv_vendor_ops hv_svm_ops;
extern const struct hv_vendor_ops hv_vmx_ops;

/* Generic per-CPU state: first member of the vendor's per-CPU struct. */
struct hv_cpu {
	struct hv *hv;
	struct hv_cpu_stats *stats;		/* in hv->shared (read-only to L1) */
	struct hv_guest g;
	int cpu;
	bool launched;
	u64 host_stack_top;
	u64 gdt_pa;				/* this CPU's GDT page */
};

struct hv {
	const struct hv_vendor_ops *ops;
	struct hv_policy pol;
	struct hv_arena arena;
	/* nested page table for L1 (identity) */
	u64 npt_root_pa;
	u64 *npt_root;
	u64 npt_top;				/* RAM part (2 MiB leaves); device memory above */
	/* private host page table */
	u64 host_cr3;
	/* protected ranges, sorted by start */
	unsigned int nr_ranges;
	struct hv_range ranges[HV_MAX_RANGES];
	/* pinned values, captured at launch */
	u64 cr0_pinned, cr4_pinned;
	u64 star, lstar, cstar, sfmask;
	u64 poking_cr3;				/* text_poke's temporary mm */
	u64 text_start, text_end;		/* kernel text, virtual: where text_poke runs */
	/* shared read-only pages */
	struct hv_shared *shared;
	u64 shared_pa;
	size_t shared_size;
	struct hv_cpu *cpus[NR_CPUS];
	struct hv_mon *mon;			/* escape monitor (monitor.c); NULL when off */
};

/* arena-allocated global state; the only pointer L1 can see is in module data */
extern struct hv *hv_global;

/* npt.c */
int hv_npt_build(struct hv *hv, u64 top, u64 phys_top);
int hv_npt_protect(struct hv *hv, u64 pa, u64 len, int perm);
u64 *hv_npt_pte(struct hv *hv, u64 pa, bool *large);
#define HV_NPT_NONE	0
#define HV_NPT_RO	1
#define HV_NPT_RW	3

/* hostpt.c */
int hv_hostpt_build(struct hv *hv);

/* protect.c */
int hv_ranges_add(struct hv *hv, u64 start, u64 end, int kind);
int hv_protect_collect(struct hv *hv);
int hv_protect_apply(struct hv *hv);
const struct hv_range *hv_range_find(const struct hv *hv, u64 pa);
int hv_protect_npf(struct hv_cpu *c, u64 gpa, u64 err);
void hv_violation(struct hv_cpu *c, enum hv_violation v, u64 addr, u64 value);

/* gmem.c: guest memory as seen by the host; identity NPT means gpa == hpa */
void *hv_gmem_map(struct hv *hv, u64 gpa, size_t len, bool write);
int hv_gmem_read(struct hv *hv, u64 gpa, void *dst, size_t len);
int hv_gmem_write(struct hv *hv, u64 gpa, const void *src, size_t len);
int hv_gva_to_gpa(struct hv *hv, u64 cr3, u64 gva, u64 *gpa, bool *writable);
int hv_gva_read(struct hv *hv, u64 cr3, u64 gva, void *dst, size_t len);

/* decode.c */
struct hv_insn {
	u8 bytes[15];
	int len;		/* total length */
	int nprefix;
	bool rex_w, rex_r, rex_x, rex_b, opsize, rep;
	u8 op[3];		/* opcode bytes after prefixes */
	int oplen;
	u8 modrm;
	bool has_modrm;
	int modrm_off;
};
int hv_insn_fetch(struct hv_cpu *c, struct hv_insn *in);
u64 hv_gpr_get(struct hv_cpu *c, int n);
void hv_gpr_set(struct hv_cpu *c, int n, u64 v);
int hv_insn_ea(struct hv_cpu *c, const struct hv_insn *in, u64 *ea);
/* The GPR numbers in ModRM's reg and rm fields, with REX.R and REX.B. */
int hv_insn_reg(const struct hv_insn *in);
int hv_insn_rm(const struct hv_insn *in);

/* symbols.c */
unsigned long hv_sym(const char *name);
int hv_symbols_init(void);

/* stats / log */
void hv_log(struct hv_cpu *c, u32 what, u64 rip, u64 addr, u64 value);
void hv_log_drain_start(void);
void hv_log_drain_stop(void);

/* core.c */
bool hv_cpu_is_launched(int cpu);

/* sysfs.c */
int hv_sysfs_init(struct hv *hv);
void hv_sysfs_exit(void);

/* hypercalls: RAX = HV_HC_MAGIC, RBX = function */
#define HV_HC_MAGIC	0x48594258424f5831ULL	/* "HYBXBOX1" */
#define HV_HC_PING	1
#define HV_HC_DEVIRT	2

#endif
