// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The allow lists. They are deliberately short: a VMM thread that an escaping
 * guest takes over should find no way to open files, make sockets, start
 * programs or map executable memory. ioctl is limited to the command numbers
 * each role uses, mmap and mprotect never get PROT_EXEC, and clone only ever
 * creates threads (and only in the control thread, at start).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

/* System calls every VMM thread makes: memory, locks, signals, exit. */
static const int common_calls[] = {
	SCMP_SYS(futex), SCMP_SYS(madvise), SCMP_SYS(munmap), SCMP_SYS(brk),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(write), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(tgkill),
	SCMP_SYS(clock_gettime), SCMP_SYS(restart_syscall),
};

/* ASan's runtime tears down each thread's alternate signal stack behind the
 * program's back. Allowed in sanitizer builds only, which are test builds. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
static const int sanitizer_calls[] = { SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield) };
#endif

static const int vcpu_calls[] = {
	SCMP_SYS(rt_sigtimedwait), /* draining the kick signal */
};

static const int event_calls[] = {
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(ppoll), SCMP_SYS(poll),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl), SCMP_SYS(getrandom),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(close), SCMP_SYS(timerfd_settime),
	SCMP_SYS(io_uring_enter), /* the restricted disk ring (io_engine.c) */
	SCMP_SYS(sendmsg), /* vhost-user: eventfds to virtiofsd (fs.c), connected sockets only */
};

static const int io_calls[] = {
	SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(io_uring_enter),
};

static const int control_calls[] = {
	SCMP_SYS(read), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(ppoll), SCMP_SYS(poll),
	SCMP_SYS(close), SCMP_SYS(wait4), SCMP_SYS(rt_sigtimedwait), SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(setrlimit),
	SCMP_SYS(prlimit64),
	SCMP_SYS(getrusage), /* the VMM's peak RSS, for the result */
	/* a snapshot's files, which the library opened (vstate/snapshot.c) */
	SCMP_SYS(pwrite64), SCMP_SYS(ftruncate),
	SCMP_SYS(pread64), /* the guest's kernel, for its identity in the state file */
};

/* ioctl commands per role, matched exactly on the second argument. */
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS, KVM_IRQ_LINE,
};
static const unsigned long event_ioctls[] = { KVM_IRQ_LINE };
/* The control thread reads a paused VM's state for a snapshot: reads only. */
static const unsigned long control_ioctls[] = {
	KVM_SET_SIGNAL_MASK, KVM_GET_MSR_INDEX_LIST, KVM_GET_REGS, KVM_GET_SREGS,
	KVM_GET_XSAVE, KVM_GET_XCRS, KVM_GET_LAPIC, KVM_GET_MP_STATE, KVM_GET_VCPU_EVENTS,
	KVM_GET_MSRS, KVM_GET_IRQCHIP, KVM_GET_PIT2, KVM_GET_CLOCK,
};

struct role_list {
	const char *name;
	const int *calls;
	unsigned int nr_calls;
	const unsigned long *ioctls;
	unsigned int nr_ioctls;
	bool mmap;        /* may map memory (never executable) */
	bool clone_thread;
	bool send;        /* sendto, to the connected peer only (socket sinks) */
};

#define LIST(a) a, sizeof(a) / sizeof((a)[0])

static const struct role_list roles[VMM_THREAD_ROLES] = {
	[VMM_THREAD_VCPU] = { "vcpu", LIST(vcpu_calls), LIST(vcpu_ioctls), false, false },
	[VMM_THREAD_EVENT] = { "event", LIST(event_calls), LIST(event_ioctls), true, false, true },
	[VMM_THREAD_IO] = { "io", LIST(io_calls), NULL, 0, true, false },
	[VMM_THREAD_CONTROL] = { "control", LIST(control_calls), LIST(control_ioctls), true, true },
	[VMM_THREAD_WATCHDOG] = { "watchdog", NULL, 0, NULL, 0, false, false },
};

const char *seccomp_role_name(enum vmm_thread_role role)
{
	return (unsigned int)role < VMM_THREAD_ROLES ? roles[role].name : "unknown";
}

int seccomp_allowed_count(enum vmm_thread_role role)
{
	const struct role_list *r;
	int n;

	if ((unsigned int)role >= VMM_THREAD_ROLES)
		return -EINVAL;
	r = &roles[role];
	n = (int)(sizeof(common_calls) / sizeof(common_calls[0]) + r->nr_calls) + 1 /* tkill */;
	n += r->nr_ioctls ? 1 : 0;
	n += r->mmap ? 2 : 0; /* mmap, mprotect */
	n += r->clone_thread ? 2 : 0; /* clone, clone3 */
	n += r->send ? 1 : 0;
	return n;
}

static int add_all(scmp_filter_ctx ctx, const int *calls, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
		if (ret && ret != -EEXIST)
			return ret;
	}
	return 0;
}

/* The filter of @role, as libseccomp builds it; *ctx is released by the caller. */
static int build_filter(enum vmm_thread_role role, scmp_filter_ctx *out)
{
	const struct role_list *r = &roles[role];
	scmp_filter_ctx ctx;
	int ret;

	/* TRAP, not KILL: the reporter names the call before the process dies. */
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	*out = ctx;
	ret = add_all(ctx, common_calls, sizeof(common_calls) / sizeof(common_calls[0]));
	if (!ret)
		ret = add_all(ctx, r->calls, r->nr_calls);
#ifdef SANITIZER_BUILD
	if (!ret)
		ret = add_all(ctx, sanitizer_calls, sizeof(sanitizer_calls) / sizeof(sanitizer_calls[0]));
#endif
	for (unsigned int i = 0; !ret && i < r->nr_ioctls; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_EQ, r->ioctls[i]));
	bool want_mmap = r->mmap;
#ifdef SANITIZER_BUILD
	want_mmap = true; /* ASan allocates shadow and stacks in every thread */
#endif
	if (!ret && want_mmap) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
					       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	}
	/* Guest output to a socket sink is sent with MSG_DONTWAIT (sink.c);
	 * a destination address would reach past the sink, so none is allowed. */
	if (!ret && r->send)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 2,
				       SCMP_A4(SCMP_CMP_EQ, 0), SCMP_A5(SCMP_CMP_EQ, 0));
	if (!ret && r->clone_thread) {
		/* Threads only: a new process would escape the per-thread lists. */
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
		/* clone3 passes its flags in memory, which seccomp cannot read:
		 * make it fail with ENOSYS so glibc falls back to clone. */
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	}
	/* The reporter's way out: seccomp itself kills the process. A signal
	 * would not do, since the VMM is PID 1 of its namespace and the
	 * kernel drops default-action signals sent to it from inside. */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(tkill), 0);
	return ret;
}

/*
 * Every role's filter, compiled ahead by seccomp_prepare() in a warm pool's
 * process while it waits for its configuration: installing one is then a
 * single system call on the thread's start path. A filter that could not be
 * compiled keeps its error, which seccomp_install() returns for that role,
 * so the thread fails closed where it would have failed before. Written
 * before any thread exists, read-only afterwards.
 */
static struct {
	struct sock_filter *insns;
	unsigned short len;
	int err;
} compiled[VMM_THREAD_ROLES];
static bool compiled_ahead;

/* libseccomp 2.5 exports to a descriptor only: a memfd, read back. */
static int export_filter(scmp_filter_ctx ctx, struct sock_filter **insns, unsigned short *len)
{
	int fd = memfd_create("alcatraz-seccomp", MFD_CLOEXEC);
	off_t size;
	int ret;

	if (fd < 0)
		return -errno;
	ret = seccomp_export_bpf(ctx, fd);
	if (!ret && (size = lseek(fd, 0, SEEK_END)) < 0)
		ret = -errno;
	if (!ret && (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
		     size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS))
		ret = -E2BIG;
	if (!ret && !(*insns = malloc((size_t)size)))
		ret = -ENOMEM;
	if (!ret && pread(fd, *insns, (size_t)size, 0) != (ssize_t)size) {
		ret = errno ? -errno : -EIO;
		free(*insns);
		*insns = NULL;
	}
	if (!ret)
		*len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	close(fd);
	return ret;
}

void seccomp_prepare(void)
{
	if (compiled_ahead)
		return;
	for (int role = 0; role < VMM_THREAD_ROLES; role++) {
		scmp_filter_ctx ctx = NULL;
		int ret = build_filter(role, &ctx);

		errno = 0;
		if (!ret)
			ret = export_filter(ctx, &compiled[role].insns, &compiled[role].len);
		if (ctx)
			seccomp_release(ctx);
		compiled[role].err = ret;
	}
	compiled_ahead = true;
}

/* The precompiled program, as libseccomp's load would install it: a filter
 * needs no_new_privs (or CAP_SYS_ADMIN). */
static int load_compiled(enum vmm_thread_role role)
{
	struct sock_fprog prog = { .len = compiled[role].len, .filter = compiled[role].insns };

	if (compiled[role].err)
		return compiled[role].err;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? -errno : 0;
}

int seccomp_install(enum vmm_thread_role role)
{
	scmp_filter_ctx ctx = NULL;
	int ret;

	if ((unsigned int)role >= VMM_THREAD_ROLES)
		return -EINVAL;
	if (compiled_ahead)
		return load_compiled(role);
	/* A VMM started for one VM builds its thread's filter here. */
	ret = build_filter(role, &ctx);
	if (!ret)
		ret = seccomp_load(ctx);
	if (ctx)
		seccomp_release(ctx);
	return ret;
}

const char *seccomp_syscall_name(int nr)
{
	static __thread char buf[32];
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

	if (!name) {
		snprintf(buf, sizeof(buf), "syscall %d", nr);
		return buf;
	}
	snprintf(buf, sizeof(buf), "%s", name);
	free(name);
	return buf;
}

static int violation_fd = -1;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[32];
	int nr = si->si_syscall, n = 0;
	char digits[12];
	int d = 0;

	/* Async-signal-safe formatting: "SANDBOX <nr>\n". */
	memcpy(msg, "SANDBOX ", 8);
	n = 8;
	if (nr < 0)
		nr = 0;
	do {
		digits[d++] = (char)('0' + nr % 10);
		nr /= 10;
	} while (nr && d < (int)sizeof(digits));
	while (d)
		msg[n++] = digits[--d];
	msg[n++] = '\n';
	if (violation_fd >= 0)
		(void)!write(violation_fd, msg, (size_t)n);
	/* tkill is the one call every filter answers with KILL_PROCESS. */
	syscall(SYS_tkill, 0, SIGSYS);
	syscall(SYS_exit_group, 128 + SIGSYS); /* only reached without a filter */
}

int sandbox_report_violations(int fd)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigfillset(&sa.sa_mask);
	violation_fd = fd;
	return sigaction(SIGSYS, &sa, NULL) < 0 ? -errno : 0;
}
