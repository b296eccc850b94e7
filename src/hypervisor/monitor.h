/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hyper-box escape monitor: vendor-neutral interface.
 *
 * The monitor watches four rare kernel paths with hardware instruction
 * breakpoints (commit_creds, kernel_clone, cap_capable,
 * call_usermodehelper_exec) and refuses the 32-bit system call entries
 * (int 0x80, and the 32-bit SYSCALL or SYSENTER as the vendor has them).
 * It never adds an exit to an ordinary system call.  See README.md, "Escape monitor".
 *
 * Its state lives in the arena (struct hv_mon, host only); its counters and
 * log live in one page L1 may read but not write (struct hv_mon_shared).
 */
#ifndef HV_MONITOR_H
#define HV_MONITOR_H

#include "hyperbox.h"

/* Hypercalls (RAX = HV_HC_MAGIC, RBX = function), CPL 0 only. */
#define HV_HC_MON_REGISTER	0x4d01	/* RCX = task_struct of the VMM's group leader */

/* The watched paths, one debug register each. */
enum hv_mon_bp { HV_BP_COMMIT_CREDS, HV_BP_KERNEL_CLONE, HV_BP_CAP_CAPABLE, HV_BP_UMH, HV_BP_NR };

/* Acts the monitor decides on; counted and logged. */
enum hv_mon_act {
	HV_ACT_SPAWN,		/* a registered VMM created a process */
	HV_ACT_EXEC,		/* a registered VMM executed a program */
	HV_ACT_CRED_GAIN,	/* a registered VMM gained credentials */
	HV_ACT_CRED_PATH,	/* commit_creds outside the legitimate paths */
	HV_ACT_CRED_TAMPER,	/* credentials changed without commit_creds */
	HV_ACT_UMH,		/* usermode helper from a registered VMM's kernel context */
	HV_ACT_INT80,		/* 32-bit system call through int 0x80 */
	HV_ACT_SYSCALL32,	/* 32-bit system call through SYSCALL (CSTAR) */
	HV_ACT_SYSENTER,	/* 32-bit system call through SYSENTER (VT-x) */
	HV_ACT_REGISTER,	/* a VMM was registered */
	HV_ACT_NR
};
extern const char *const hv_mon_act_names[HV_ACT_NR];

enum hv_mon_mode { HV_MON_OFF, HV_MON_LOG, HV_MON_ENFORCE };

struct hv_mon_log_entry {
	u64 seq;		/* written last; 0 = empty */
	u32 cpu, act;
	u32 pid, tgid;		/* as the kernel numbers them (init namespace) */
	u32 uid, euid;		/* real credentials at the time */
	u32 enforced, pad;
	char comm[16];
	u64 ev1, ev2;		/* evidence: act-specific (see monitor_dev.c) */
};
#define HV_MON_LOG_SIZE 32

/* L1-readable, host-written (HV_PROT_STATS). */
struct hv_mon_shared {
	u64 acts[HV_ACT_NR];		/* decisions, per act */
	u64 bp_hits[HV_BP_NR];		/* breakpoint exits, per path */
	u64 checks, int80_passed, db_reflected, registered_live;
	u64 int_refetched;		/* INT n exits whose instruction had changed */
	u64 log_head;
	struct hv_mon_log_entry log[HV_MON_LOG_SIZE];
};

/* monitor.c: L1 side, before launch */
int hv_monitor_prepare(struct hv *hv);
extern int hv_mon_mode_param;
extern bool hv_mon_compat32_param;
extern unsigned int hv_mon_watch_param;

/*
 * The debug registers, raw: the paravirt wrappers are L1 code paths, and
 * QEMU needs the real instruction.
 */
#define HV_DR_GET(n, v)	asm volatile("mov %%db" #n ", %0" : "=r"(v))
#define HV_DR_SET(n, v)	asm volatile("mov %0, %%db" #n : : "r"((u64)(v)))

/* monitor.c: host side, called by the vendor's exit handlers */
u64 hv_mon_bp_addr(const struct hv *hv, int idx);
/* DR7 that arms the watched breakpoints (local, execute, length 1). */
u64 hv_mon_dr7(const struct hv *hv);
/* DR0-3 = the watched addresses. */
void hv_mon_load_bps(const struct hv *hv);
/* At launch, on the CPU: L1's DR0-3 and DR7 into its virtual copy, then the breakpoints into DR0-3. */
void hv_mon_take_drs(struct hv_cpu *c);
bool hv_mon_int80_enabled(const struct hv *hv);
/* A breakpoint of ours hit: 0 = RIP set by the monitor, 1 = resume with RF. */
int hv_mon_breakpoint(struct hv_cpu *c, int idx);
/* int 0x80 at CPL 3: true if it must be refused. */
bool hv_mon_int80(struct hv_cpu *c);
/* 32-bit SYSCALL arrived at hv_mon_compat_entry: true if it must be refused. */
bool hv_mon_syscall32(struct hv_cpu *c);
/* SYSENTER arrived at hv_mon_sysenter_entry: true if it must be refused. */
bool hv_mon_sysenter(struct hv_cpu *c);
u64 hv_mon_cstar(const struct hv *hv, bool refused);
u64 hv_mon_hypercall(struct hv_cpu *c);
u64 *hv_mon_vdr(struct hv_cpu *c, int dr);	/* L1's virtual DR0-3 (0-3) and DR7 (7) */
void hv_mon_count_reflected(struct hv_cpu *c);
void hv_mon_count_refetch(struct hv_cpu *c);

/* monitor_svm.c: AMD-V glue (hooks in svm.c and svm_exit.c) */
struct svm_cpu;
struct kobject;
void svm_mon_vmcb_setup(struct svm_cpu *sc);
void svm_mon_launch_failed(void);
void svm_mon_leave(struct svm_cpu *sc);
int svm_mon_exit_db(struct svm_cpu *sc);
int svm_mon_exit_dr(struct svm_cpu *sc);
int svm_mon_exit_swint(struct svm_cpu *sc);
bool svm_mon_compat_syscall(struct svm_cpu *sc);

/* monitor_vmx.c: VT-x glue (hooks in vmx.c, vmx_exit.c and vmx_nested.c) */
struct vmx_cpu;
void vmx_mon_vmcs_setup(struct vmx_cpu *vc);
void vmx_mon_launch_failed(struct vmx_cpu *vc);
void vmx_mon_leave(struct vmx_cpu *vc);
void vmx_mon_l2_enter(struct vmx_cpu *vc);
void vmx_mon_l2_refused(struct vmx_cpu *vc);
u64 vmx_mon_l1_dr7(struct vmx_cpu *vc);
u64 vmx_mon_dr7_for_l2(struct vmx_cpu *vc, u64 vmcs01_dr7);
int vmx_mon_exit_exception(struct vmx_cpu *vc);
int vmx_mon_exit_dr(struct vmx_cpu *vc);
bool vmx_mon_sysenter(struct vmx_cpu *vc);
/* GUEST_SYSENTER_EIP for L1 when L1's host state says host_eip (VMCS12, or L1's WRMSR). */
u64 vmx_mon_l1_sysenter_eip(struct vmx_cpu *vc, u64 host_eip);

/* monitor_dev.c: L1 side: /dev/hyperbox, sysfs, log, refusal helpers */
int hv_monitor_l1_init(struct kobject *parent, bool hc_vmcall);
void hv_monitor_l1_exit(void);
long hv_mon_refuse(long act);
long hv_mon_refuse_kill(long act);
void hv_mon_compat_entry(void);	/* monitor_stub.S */
void hv_mon_sysenter_entry(void);	/* monitor_stub.S */
struct hv_mon_shared *hv_mon_shared_l1(void);

#endif
