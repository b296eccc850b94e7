// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hyper-box escape monitor: vendor-neutral core.
 *
 * Cost model.  No ordinary system call exits.  Four hardware instruction
 * breakpoints sit on paths that are rare next to system calls:
 *
 *   commit_creds               every legitimate credential change
 *   kernel_clone               fork/vfork/clone (process and thread creation)
 *   cap_capable                every capability check (privilege use)
 *   call_usermodehelper_exec   kernel-started user processes
 *
 * At each hit the host identifies the current task from the per-CPU
 * current_task slot and checks it: registered VMMs may not spawn, exec or
 * gain credentials, and every task's credentials must be the ones it last
 * committed (or, first seen, the ones it inherited).  The 32-bit entries
 * are refused where no 64-bit program pays for it (the INTn intercept or a
 * DPL-0 gate for int 0x80, a stub behind CSTAR or SYSENTER_EIP).
 *
 * Everything the host reads of L1 (task_struct, cred, stacks) is data a
 * compromised kernel could forge; the monitor's own state (which tasks are
 * registered, the last committed credentials of each task) is in the
 * arena, which L1 cannot reach.
 */
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/string.h>
#include <linux/user_namespace.h>
#include <asm/current.h>
#include <asm/msr.h>
#include <asm/ptrace.h>
#include <asm/segment.h>
#include <asm/unistd.h>
#include "monitor.h"

const char *const hv_mon_act_names[HV_ACT_NR] = {
	"spawn", "exec", "cred_gain", "cred_path", "cred_tamper", "umh", "int80", "syscall32",
	"sysenter", "register",
};

static const char *const hv_bp_syms[HV_BP_NR] = {
	"commit_creds", "kernel_clone", "cap_capable", "call_usermodehelper_exec",
};

/*
 * Legitimate callers of commit_creds, part 1: functions that call it in
 * the middle of their body (so the return address on the stack is theirs).
 * Names missing from a kernel (LSMs not built) are skipped.
 */
static const char *const hv_mon_legit_callers[] = {
	"begin_new_exec",		/* execve: the new program's credentials (setuid, file caps) */
	"call_usermodehelper_exec_async", /* a usermode helper takes its configured credentials */
	"ksys_unshare",			/* unshare(CLONE_NEWUSER...): credentials in the new namespace */
	"commit_nsset",			/* setns(): credentials of the joined user namespace */
	"__sys_setfsuid", "__sys_setfsgid", /* setfsuid/setfsgid commit mid-function */
	"__x64_sys_setfsuid", "__x64_sys_setfsgid", "__ia32_sys_setfsuid", "__ia32_sys_setfsgid",
	"key_change_session_keyring",	/* KEYCTL_SESSION_TO_PARENT, applied by task work */
	"join_session_keyring", "keyctl_set_reqkey_keyring", "keyctl_change_reqkey_auth",
	"install_thread_keyring", "install_process_keyring", "install_session_keyring",
	"selinux_setprocattr",		/* writes to /proc/self/attr (SELinux) */
	"aa_replace_current_label", "aa_set_current_hat", "aa_restore_previous_label", /* AppArmor */
	"smack_setprocattr",
	"__do_sys_landlock_restrict_self", "__x64_sys_landlock_restrict_self",
	"cap_task_prctl",		/* prctl(PR_SET_KEEPCAPS, PR_CAP_AMBIENT, PR_SET_SECUREBITS) */
};

/*
 * Part 2: system calls whose purpose is to change credentials.  Most of
 * them end in "return commit_creds(new)", a tail call, so the return
 * address is the system call dispatcher's; the number in pt_regs->orig_ax
 * says which call it is.
 */
static const u16 hv_mon_cred_syscalls64[] = {
	__NR_setuid, __NR_setgid, __NR_setreuid, __NR_setregid, __NR_setresuid, __NR_setresgid,
	__NR_setfsuid, __NR_setfsgid, __NR_setgroups,	/* the setuid family */
	__NR_capset,					/* capset(2) */
	__NR_execve, __NR_execveat,			/* exec: setuid and file-capability binaries */
	__NR_prctl,					/* keepcaps, ambient caps, securebits */
	__NR_unshare, __NR_setns,			/* user namespaces */
	__NR_keyctl, __NR_add_key, __NR_request_key,	/* keyrings live in the credentials */
	446,						/* landlock_restrict_self */
};
/* The same calls through the 32-bit entry (when it is not refused). */
static const u16 hv_mon_cred_syscalls32[] = {
	23, 46, 70, 71, 81, 138, 139, 164, 170,		/* setuid .. setresgid (16-bit ids) */
	203, 204, 206, 208, 210, 213, 214, 215, 216,	/* setreuid32 .. setfsgid32 */
	185, 11, 358, 172, 310, 346, 286, 287, 288, 446,
};

#define HV_MON_LEGIT_MAX	ARRAY_SIZE(hv_mon_legit_callers)
#define HV_MON_REG_MAX		64
#define HV_MON_TAB_BITS		12
#define HV_MON_TAB		(1 << HV_MON_TAB_BITS)
#define HV_MON_PROBE		8

/* The credential fields the monitor compares: immutable once committed. */
struct hv_mon_snap {
	u32 ids[8];		/* uid gid suid sgid euid egid fsuid fsgid */
	u64 cap_perm, cap_eff;
	u64 user_ns;
};
enum { ID_UID, ID_GID, ID_SUID, ID_SGID, ID_EUID, ID_EGID, ID_FSUID, ID_FSGID };

/* Last committed credentials of a task, keyed by (task_struct, start_time). */
struct hv_mon_entry {
	u64 task, start, cred;
	struct hv_mon_snap snap;
};

struct hv_mon_cpu {
	u64 vdr[4], vdr7;	/* L1's own debug registers, virtualised */
	u64 cur_pa;		/* physical address of this CPU's current_task */
};

struct hv_mon {
	int mode;
	bool compat32;
	u64 bp[HV_BP_NR];
	u64 refuse, refuse_kill;	/* L1 functions the refused paths return through */
	u64 exec_start, exec_end;	/* begin_new_exec: every exec commits here */
	u64 cstar, compat_entry;	/* the kernel's 32-bit SYSCALL entry, and ours */
	u64 page_offset, init_user_ns;
	struct { u64 start, end; } legit[HV_MON_LEGIT_MAX];
	unsigned int nlegit;
	u32 lock;
	struct { u64 task, start; } reg[HV_MON_REG_MAX];
	struct hv_mon_shared *sh;
	struct hv_mon_cpu *cpu;
	struct hv_mon_entry *tab;
};

/* ---- L1 side, before launch ---- */

int hv_monitor_prepare(struct hv *hv)
{
	unsigned long (*lookup)(const char *) = (void *)hv_sym("kallsyms_lookup_name");
	int (*size_of)(unsigned long, unsigned long *, unsigned long *) =
		(void *)hv_sym("kallsyms_lookup_size_offset");
	struct hv_mon *m;
	unsigned long size, off, a;
	unsigned int i;
	int cpu, ret;

	BUILD_BUG_ON(offsetof(struct cred, fsgid) - offsetof(struct cred, uid) != 7 * 4);
	BUILD_BUG_ON(sizeof(kernel_cap_t) != 8);
	if (hv_mon_mode_param == HV_MON_OFF)
		return 0;
	if (!lookup || !size_of)
		return -ENOENT;
	m = hv_arena_alloc(&hv->arena, sizeof(*m), NULL);
	if (!m)
		return -ENOMEM;
	m->cpu = hv_arena_alloc(&hv->arena, nr_cpu_ids * sizeof(*m->cpu), NULL);
	m->tab = hv_arena_alloc(&hv->arena, HV_MON_TAB * sizeof(*m->tab), NULL);
	if (!m->cpu || !m->tab)
		return -ENOMEM;
	m->mode = hv_mon_mode_param;
	m->compat32 = hv_mon_compat32_param;
	for (i = 0; i < HV_BP_NR; i++) {
		if (!(hv_mon_watch_param & (1U << i)))
			continue;	/* left unwatched: address 0 never matches, DR7 leaves it off */
		m->bp[i] = hv_sym(hv_bp_syms[i]);
		if (!m->bp[i])
			return -ENOENT;
	}
	m->refuse = (u64)hv_mon_refuse;
	m->refuse_kill = (u64)hv_mon_refuse_kill;
	rdmsrl(MSR_CSTAR, m->cstar);
	m->compat_entry = (u64)hv_mon_compat_entry;
	m->page_offset = PAGE_OFFSET;
	m->init_user_ns = (u64)&init_user_ns;
	for (i = 0; i < ARRAY_SIZE(hv_mon_legit_callers); i++) {
		a = lookup(hv_mon_legit_callers[i]);
		if (a && size_of(a, &size, &off) && !off) {
			if (!i) {
				m->exec_start = a;
				m->exec_end = a + size;
			}
			m->legit[m->nlegit].start = a;
			m->legit[m->nlegit++].end = a + size;
		}
	}
	for_each_possible_cpu(cpu)
		m->cpu[cpu].cur_pa = slow_virt_to_phys(per_cpu_ptr(&current_task, cpu));
	/* Counters and log: read-only to L1, like the core's counters page. */
	if (!m->exec_start) {
		pr_err(HV_NAME ": refusing to load: monitor: begin_new_exec not found\n");
		return -ENOENT;
	}
	m->sh = hv_mon_shared_l1();
	if (!m->sh)
		return -ENOMEM;
	ret = hv_ranges_add(hv, __pa(m->sh), __pa(m->sh) + PAGE_ALIGN(sizeof(*m->sh)), HV_PROT_STATS);
	if (ret)
		return ret;
	hv->mon = m;
	pr_info(HV_NAME ": monitor: %s, watching %#x, 32-bit entries %s, %u legitimate commit_creds callers found\n",
		m->mode == HV_MON_ENFORCE ? "enforcing" : "logging only", hv_mon_watch_param & 0xf,
		!m->compat32 ? "allowed" : m->mode == HV_MON_ENFORCE ? "refused" : "watched", m->nlegit);
	return 0;
}

/* ---- host side ---- */

static void __hv_host mon_lock(struct hv_mon *m)
{
	while (__atomic_exchange_n(&m->lock, 1, __ATOMIC_ACQUIRE))
		asm volatile("pause");
}

static void __hv_host mon_unlock(struct hv_mon *m)
{
	__atomic_store_n(&m->lock, 0, __ATOMIC_RELEASE);
}

/* L1 kernel memory by virtual address: direct map without trusting L1's tables. */
static int __hv_host mon_kread(struct hv_cpu *c, u64 va, void *dst, size_t len)
{
	u64 off = va - c->hv->mon->page_offset;

	if (va >= c->hv->mon->page_offset && off < c->hv->npt_top && len <= c->hv->npt_top - off)
		return hv_gmem_read(c->hv, off, dst, len);
	return hv_gva_read(c->hv, c->g.cr3, va, dst, len);
}

static int __hv_host mon_kwrite(struct hv_cpu *c, u64 va, const void *src, size_t len)
{
	u64 gpa;

	if ((va & ~PAGE_MASK) + len > PAGE_SIZE || hv_gva_to_gpa(c->hv, c->g.cr3, va, &gpa, NULL))
		return -EFAULT;
	return hv_gmem_write(c->hv, gpa, src, len);
}

#define TF(t, f) ((t) + offsetof(struct task_struct, f))

static int __hv_host mon_read_snap(struct hv_cpu *c, u64 cred, struct hv_mon_snap *s)
{
	memset(s, 0, sizeof(*s));
	if (mon_kread(c, cred + offsetof(struct cred, uid), s->ids, sizeof(s->ids)) ||
	    mon_kread(c, cred + offsetof(struct cred, cap_permitted), &s->cap_perm, 8) ||
	    mon_kread(c, cred + offsetof(struct cred, cap_effective), &s->cap_eff, 8) ||
	    mon_kread(c, cred + offsetof(struct cred, user_ns), &s->user_ns, 8))
		return -EFAULT;
	return 0;
}

struct mon_task {
	u64 task, start, leader, real_cred, cred;
	struct hv_mon_snap s;
};

static int __hv_host mon_read_task(struct hv_cpu *c, u64 task, struct mon_task *t)
{
	t->task = task;
	if (!task || mon_kread(c, TF(task, start_time), &t->start, 8) ||
	    mon_kread(c, TF(task, group_leader), &t->leader, 8) ||
	    mon_kread(c, TF(task, real_cred), &t->real_cred, 8) ||
	    mon_kread(c, TF(task, cred), &t->cred, 8))
		return -EFAULT;
	return mon_read_snap(c, t->real_cred, &t->s);
}

static u64 __hv_host mon_current(struct hv_cpu *c)
{
	u64 task = 0;

	hv_gmem_read(c->hv, c->hv->mon->cpu[c->cpu].cur_pa, &task, 8);
	return task;
}

/* Root in any of the ids that grant it, or capabilities over the host's user namespace. */
static bool __hv_host mon_privileged(const struct hv_mon *m, const struct hv_mon_snap *s)
{
	return !s->ids[ID_UID] || !s->ids[ID_SUID] || !s->ids[ID_EUID] || !s->ids[ID_FSUID] ||
	       (s->user_ns == m->init_user_ns && (s->cap_perm | s->cap_eff));
}

static bool __hv_host mon_gains(const struct hv_mon *m, const struct hv_mon_snap *o,
				const struct hv_mon_snap *n)
{
	static const int root_ids[] = { ID_UID, ID_SUID, ID_EUID, ID_FSUID };
	u64 ocaps = o->user_ns == m->init_user_ns ? o->cap_perm | o->cap_eff : 0;
	u64 ncaps = n->user_ns == m->init_user_ns ? n->cap_perm | n->cap_eff : 0;
	bool oroot = false, nroot = false;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(root_ids); i++) {
		oroot |= !o->ids[root_ids[i]];
		nroot |= !n->ids[root_ids[i]];
	}
	return (nroot && !oroot) || (ncaps & ~ocaps);
}

static struct hv_mon_entry *__hv_host mon_tab_slot(struct hv_mon *m, u64 task, u64 start, bool insert,
						   struct hv_cpu *c)
{
	unsigned int h = (u32)((task >> 6) * 0x9e3779b97f4a7c15ULL >> 32) & (HV_MON_TAB - 1);
	struct hv_mon_entry *free = NULL;
	unsigned int i;
	u64 now;

	for (i = 0; i < HV_MON_PROBE; i++) {
		struct hv_mon_entry *e = &m->tab[(h + i) & (HV_MON_TAB - 1)];

		if (e->task == task && e->start == start)
			return e;
		if (!insert || free)
			continue;
		/* Empty, or its task is gone (the task_struct was freed or reused). */
		if (!e->task || mon_kread(c, TF(e->task, start_time), &now, 8) || now != e->start)
			free = e;
	}
	if (!insert)
		return NULL;
	return free ? free : &m->tab[h];	/* full: forget the oldest guess */
}

static void __hv_host mon_record(struct hv_cpu *c, u64 task, u64 start, u64 cred,
				 const struct hv_mon_snap *s)
{
	struct hv_mon *m = c->hv->mon;
	struct hv_mon_entry *e;

	mon_lock(m);
	e = mon_tab_slot(m, task, start, true, c);
	e->task = task;
	e->start = start;
	e->cred = cred;
	e->snap = *s;
	mon_unlock(m);
}

/*
 * Are the task's credentials the ones it last committed?  A task never seen
 * before got them at fork: a thread from its group leader, a process from
 * its parent; holding privilege its parent lacks without a commit is the
 * mark of an overwrite.  *old receives the last committed state.
 */
static bool __hv_host mon_tampered(struct hv_cpu *c, const struct mon_task *t, u64 *ev1, u64 *ev2,
				   struct hv_mon_entry *old)
{
	struct hv_mon *m = c->hv->mon;
	struct hv_mon_entry *e;
	struct hv_mon_snap rs;
	bool seen, bad = false;
	u64 ref, ref_cred;

	c->hv->mon->sh->checks++;
	mon_lock(m);
	e = mon_tab_slot(m, t->task, t->start, false, c);
	seen = e;
	if (e) {
		*old = *e;
		if (e->cred != t->real_cred) {
			bad = true;
			*ev1 = e->cred;
			*ev2 = t->real_cred;
		} else if (memcmp(&e->snap, &t->s, sizeof(t->s))) {
			bad = true;
			*ev1 = ((u64)e->snap.ids[ID_EUID] << 32) | e->snap.ids[ID_UID];
			*ev2 = ((u64)t->s.ids[ID_EUID] << 32) | t->s.ids[ID_UID];
		}
	}
	mon_unlock(m);
	if (seen)
		return bad;
	if (mon_privileged(m, &t->s)) {
		if (t->leader != t->task)
			ref = t->leader;
		else if (mon_kread(c, TF(t->task, real_parent), &ref, 8))
			return false;
		if (!mon_kread(c, TF(ref, real_cred), &ref_cred, 8) && ref_cred != t->real_cred &&
		    !mon_read_snap(c, ref_cred, &rs) && !mon_privileged(m, &rs)) {
			old->cred = 0;
			*ev1 = ((u64)rs.ids[ID_EUID] << 32) | rs.ids[ID_UID];
			*ev2 = ((u64)t->s.ids[ID_EUID] << 32) | t->s.ids[ID_UID];
			return true;
		}
	}
	mon_record(c, t->task, t->start, t->real_cred, &t->s);
	return false;
}

/* Put back the last committed credentials (pointer, or the fields in place). */
static void __hv_host mon_revert(struct hv_cpu *c, const struct mon_task *t, const struct hv_mon_entry *old)
{
	if (!old->cred)
		return;		/* never committed under our eyes: nothing to put back */
	if (old->cred != t->real_cred) {
		/* The old object is still alive: the overwrite dropped none of its references. */
		mon_kwrite(c, TF(t->task, real_cred), &old->cred, 8);
		mon_kwrite(c, TF(t->task, cred), &old->cred, 8);
		return;
	}
	mon_kwrite(c, old->cred + offsetof(struct cred, uid), old->snap.ids, sizeof(old->snap.ids));
	mon_kwrite(c, old->cred + offsetof(struct cred, cap_permitted), &old->snap.cap_perm, 8);
	mon_kwrite(c, old->cred + offsetof(struct cred, cap_effective), &old->snap.cap_eff, 8);
}

static bool __hv_host mon_registered(struct hv_cpu *c, const struct mon_task *t)
{
	struct hv_mon *m = c->hv->mon;
	u64 start;
	int i;

	if (mon_kread(c, TF(t->leader, start_time), &start, 8))
		return false;
	for (i = 0; i < HV_MON_REG_MAX; i++)
		if (READ_ONCE(m->reg[i].task) == t->leader && READ_ONCE(m->reg[i].start) == start)
			return true;
	return false;
}

static bool __hv_host in_list(const u16 *l, unsigned int n, u64 nr)
{
	while (n--)
		if (l[n] == nr)
			return true;
	return false;
}

/* Is this commit_creds call one of the legitimate paths?  *nr gets the system call. */
static bool __hv_host mon_path_ok(struct hv_cpu *c, const struct mon_task *t, u64 ret, u64 *nr)
{
	struct hv_mon *m = c->hv->mon;
	u64 stack, orig_ax, cs;
	unsigned int i;

	*nr = -1;
	for (i = 0; i < m->nlegit; i++)
		if (ret >= m->legit[i].start && ret < m->legit[i].end)
			return true;
	if (mon_kread(c, TF(t->task, stack), &stack, 8))
		return false;
	stack += THREAD_SIZE - sizeof(struct pt_regs);
	if (mon_kread(c, stack + offsetof(struct pt_regs, orig_ax), &orig_ax, 8) ||
	    mon_kread(c, stack + offsetof(struct pt_regs, cs), &cs, 8) || (cs & 3) != 3)
		return false;
	*nr = orig_ax;
	if (cs == __USER_CS)
		return in_list(hv_mon_cred_syscalls64, ARRAY_SIZE(hv_mon_cred_syscalls64),
			       orig_ax & ~__X32_SYSCALL_BIT);
	return cs == __USER32_CS &&
	       in_list(hv_mon_cred_syscalls32, ARRAY_SIZE(hv_mon_cred_syscalls32), orig_ax);
}

static void __hv_host mon_log(struct hv_cpu *c, int act, const struct mon_task *t, bool enforced,
			      u64 ev1, u64 ev2)
{
	struct hv_mon_shared *sh = c->hv->mon->sh;
	u64 seq = __atomic_fetch_add(&sh->log_head, 1, __ATOMIC_RELAXED) + 1;
	struct hv_mon_log_entry *e = &sh->log[seq % HV_MON_LOG_SIZE];

	__atomic_fetch_add(&sh->acts[act], 1, __ATOMIC_RELAXED);
	WRITE_ONCE(e->seq, 0);
	barrier();
	e->cpu = c->cpu;
	e->act = act;
	e->enforced = enforced;
	e->pid = e->tgid = 0;
	memset(e->comm, 0, sizeof(e->comm));
	mon_kread(c, TF(t->task, pid), &e->pid, 4);
	mon_kread(c, TF(t->task, tgid), &e->tgid, 4);
	mon_kread(c, TF(t->task, comm), e->comm, sizeof(e->comm) - 1);
	e->uid = t->s.ids[ID_UID];
	e->euid = t->s.ids[ID_EUID];
	e->ev1 = ev1;
	e->ev2 = ev2;
	barrier();
	WRITE_ONCE(e->seq, seq);
}

/*
 * Continue into the function past its first instruction when that is the
 * ftrace site (a 5-byte NOP, or the call when tracing is on) or ENDBR64:
 * neither does anything the function needs.  Otherwise RF does it.
 */
static int __hv_host mon_resume(struct hv_cpu *c)
{
	static const u8 nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	static const u8 endbr[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	u8 b[9];

	if (hv_gva_read(c->hv, c->g.cr3, c->g.rip, b, sizeof(b)))
		return 1;
	if (!memcmp(b, endbr, 4)) {
		c->g.rip += 4;
		memmove(b, b + 4, 5);
	}
	if (!memcmp(b, nop5, 5) || b[0] == 0xe8) {
		c->g.rip += 5;
		return 0;
	}
	return 1;
}

u64 __hv_host hv_mon_bp_addr(const struct hv *hv, int idx)
{
	return hv->mon ? hv->mon->bp[idx] : 0;
}

u64 __hv_host hv_mon_dr7(const struct hv *hv)
{
	u64 v = HV_DR7_FIXED;
	int i;

	for (i = 0; i < HV_BP_NR; i++)
		if (hv_mon_bp_addr(hv, i))
			v |= 1ULL << (i * 2);	/* Ln: local enable, execute, length 1 */
	return v;
}

void __hv_host hv_mon_load_bps(const struct hv *hv)
{
	HV_DR_SET(0, hv_mon_bp_addr(hv, 0));
	HV_DR_SET(1, hv_mon_bp_addr(hv, 1));
	HV_DR_SET(2, hv_mon_bp_addr(hv, 2));
	HV_DR_SET(3, hv_mon_bp_addr(hv, 3));
}

void hv_mon_take_drs(struct hv_cpu *c)
{
	u64 *vdr = hv_mon_vdr(c, 0);

	/* L1 keeps what it had, virtually. */
	HV_DR_GET(0, vdr[0]);
	HV_DR_GET(1, vdr[1]);
	HV_DR_GET(2, vdr[2]);
	HV_DR_GET(3, vdr[3]);
	HV_DR_GET(7, *hv_mon_vdr(c, 7));
	hv_mon_load_bps(c->hv);
}

bool hv_mon_int80_enabled(const struct hv *hv)
{
	return hv->mon && hv->mon->compat32;
}

u64 *__hv_host hv_mon_vdr(struct hv_cpu *c, int dr)
{
	struct hv_mon_cpu *mc = &c->hv->mon->cpu[c->cpu];

	return dr < 4 ? &mc->vdr[dr] : &mc->vdr7;
}

void __hv_host hv_mon_count_reflected(struct hv_cpu *c)
{
	c->hv->mon->sh->db_reflected++;
}

void __hv_host hv_mon_count_refetch(struct hv_cpu *c)
{
	c->hv->mon->sh->int_refetched++;
}

int __hv_host hv_mon_breakpoint(struct hv_cpu *c, int idx)
{
	struct hv_mon *m = c->hv->mon;
	struct hv_mon_entry old = {};
	struct hv_mon_snap ns;
	struct mon_task t;
	u64 ev1 = 0, ev2 = 0, arg = c->g.regs->rdi, ret = 0, flags = 0;
	int act = -1;
	bool reg, path;

	__atomic_fetch_add(&m->sh->bp_hits[idx], 1, __ATOMIC_RELAXED);
	if (c->g.cpl != 0 || mon_read_task(c, mon_current(c), &t))
		return mon_resume(c);
	reg = mon_registered(c, &t);
	if (mon_tampered(c, &t, &ev1, &ev2, &old)) {
		act = HV_ACT_CRED_TAMPER;
	} else if (idx == HV_BP_COMMIT_CREDS) {
		if (mon_read_snap(c, arg, &ns) || mon_kread(c, c->g.rsp, &ret, 8))
			return mon_resume(c);
		path = mon_path_ok(c, &t, ret, &ev2);
		if (reg && ret >= m->exec_start && ret < m->exec_end) {
			act = HV_ACT_EXEC;
			ev1 = ret;
		} else if (reg && mon_gains(m, &t.s, &ns)) {
			act = HV_ACT_CRED_GAIN;
			ev1 = ((u64)ns.ids[ID_EUID] << 32) | ns.ids[ID_UID];
		} else if (!path) {
			act = HV_ACT_CRED_PATH;
			ev1 = ret;
		}
		if (act < 0)
			mon_record(c, t.task, t.start, arg, &ns);
	} else if (idx == HV_BP_KERNEL_CLONE) {
		if (reg && !mon_kread(c, arg, &flags, 8) && !(flags & CLONE_THREAD)) {
			act = HV_ACT_SPAWN;
			ev1 = flags;
		}
	} else if (idx == HV_BP_UMH && reg) {
		act = HV_ACT_UMH;
		ev1 = arg;
	}
	if (act < 0)
		return mon_resume(c);
	mon_log(c, act, &t, m->mode == HV_MON_ENFORCE, ev1, ev2);
	if (m->mode != HV_MON_ENFORCE) {
		if (act == HV_ACT_CRED_TAMPER)	/* logged once: the new state becomes the baseline */
			mon_record(c, t.task, t.start, t.real_cred, &t.s);
		return mon_resume(c);
	}
	if (act == HV_ACT_CRED_TAMPER)
		mon_revert(c, &t, &old);
	/* The function is not run: it "returns" -EPERM through a helper in L1. */
	c->g.regs->rdi = act;
	c->g.rip = act == HV_ACT_UMH ? m->refuse : m->refuse_kill;
	return 0;
}

bool __hv_host hv_mon_int80(struct hv_cpu *c)
{
	struct hv_mon *m = c->hv->mon;
	struct mon_task t = {};

	if (!m || !m->compat32)
		return false;
	t.task = mon_current(c);
	mon_read_task(c, t.task, &t);
	mon_log(c, HV_ACT_INT80, &t, m->mode == HV_MON_ENFORCE, c->g.rax, c->g.rip);
	return m->mode == HV_MON_ENFORCE;
}

static bool __hv_host mon_compat_call(struct hv_cpu *c, int act, u64 ev2)
{
	struct hv_mon *m = c->hv->mon;
	struct mon_task t = {};

	t.task = mon_current(c);
	mon_read_task(c, t.task, &t);
	mon_log(c, act, &t, m->mode == HV_MON_ENFORCE, c->g.rax, ev2);
	return m->mode == HV_MON_ENFORCE;
}

/* Evidence: the call number, and where SYSRET would return (RCX). */
bool __hv_host hv_mon_syscall32(struct hv_cpu *c)
{
	return mon_compat_call(c, HV_ACT_SYSCALL32, c->g.regs->rcx);
}

/* Evidence: the call number, and the caller's stack (EBP: SYSENTER saves no return address). */
bool __hv_host hv_mon_sysenter(struct hv_cpu *c)
{
	return mon_compat_call(c, HV_ACT_SYSENTER, c->g.regs->rbp);
}

/* CSTAR for L1: ours while 32-bit calls are refused, else (and on leaving) the kernel's. */
u64 __hv_host hv_mon_cstar(const struct hv *hv, bool refused)
{
	return refused ? hv->mon->compat_entry : hv->mon->cstar;
}

/* HV_HC_MON_REGISTER: the L1 side checked the caller (monitor_dev.c); CPL 0 only. */
u64 __hv_host hv_mon_hypercall(struct hv_cpu *c)
{
	struct hv_mon *m = c->hv->mon;
	struct mon_task t = {};
	u64 now, live = 0;
	int i, slot = -1;

	if (c->g.regs->rbx != HV_HC_MON_REGISTER)
		return -ENOSYS;
	if (!m)
		return -ENODEV;
	if (c->g.cpl != 0)
		return -EPERM;
	if (mon_read_task(c, c->g.regs->rcx, &t) || t.leader != t.task)
		return -EINVAL;
	mon_lock(m);
	for (i = 0; i < HV_MON_REG_MAX; i++) {
		bool dead = !m->reg[i].task || mon_kread(c, TF(m->reg[i].task, start_time), &now, 8) ||
			    now != m->reg[i].start;

		if (m->reg[i].task == t.task && m->reg[i].start == t.start)
			slot = i;
		else if (dead && slot < 0)
			slot = i;
		else if (!dead)
			live++;
	}
	if (slot >= 0) {
		WRITE_ONCE(m->reg[slot].task, 0);
		WRITE_ONCE(m->reg[slot].start, t.start);
		WRITE_ONCE(m->reg[slot].task, t.task);
		live++;
	}
	m->sh->registered_live = live;
	mon_unlock(m);
	if (slot < 0)
		return -ENOSPC;
	mon_log(c, HV_ACT_REGISTER, &t, m->mode == HV_MON_ENFORCE, t.task, t.start);
	return 0;
}
