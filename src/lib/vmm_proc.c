// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Starting an alcatraz-vmm process (struct vmm_proc, pool.h): clone3 with
 * CLONE_PIDFD and CLONE_NEWPID (and CLONE_INTO_CGROUP), exec, and its
 * HELLO checked; for one VM (supervisor.c) or a warm pool (pool.c). Only
 * async-signal-safe calls run between clone3 and exec. Also the pidfd
 * calls both use.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <linux/sched.h>

#include "lib.h"
#include "pool.h"
#include "vmm_protocol.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
/* Descriptors are moved above this before clone3, so that placing the
 * socket at VMM_PROTO_SOCK_FD cannot overwrite one still needed. */
#define SPAWN_FD_FLOOR 10
#define VMM_ENV_MAX 16

int vmm_pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int vmm_pidfd_reap(int pidfd)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | __WALL) < 0 && errno == EINTR)
		;
	return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

/* The environment alcatraz-vmm gets: the sanitizers' settings (test builds
 * of the library's users) and, in test builds, the test hooks' variables.
 * Nothing else of the caller's environment. */
static void vmm_env(char **env, char *buf, size_t len)
{
	static const char *const pass[] = {
		"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "ALCATRAZ_TRACE_CREATE",
#ifdef ALCATRAZ_TEST_HOOKS
		"ALCATRAZ_TEST_VIOLATE", "ALCATRAZ_TEST_PROBE_FS", "ALCATRAZ_TEST_PRESTART_FAIL",
		"ALCATRAZ_TEST_CONFIG_DIE", "ALCATRAZ_TEST_VCPU_START_DELAY_MS",
		"ALCATRAZ_TEST_IGNORE_TIMEOUT",
#endif
	};
	size_t used = 0;
	unsigned int n = 0;

	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]) && n < VMM_ENV_MAX - 1; i++) {
		const char *v = getenv(pass[i]);
		int w;
		if (!v)
			continue;
		w = snprintf(buf + used, len - used, "%s=%s", pass[i], v);
		if (w < 0 || (size_t)w >= len - used)
			break;
		env[n++] = buf + used;
		used += (size_t)w + 1;
	}
	env[n] = NULL;
}

/* In the child between clone3 and exec: async-signal-safe calls only. */
static void __attribute__((noreturn)) exec_vmm(const char *path, bool pool, bool irqchip,
					       const int *fds, char **env)
{
	char *const argv[] = { (char *)"alcatraz-vmm", pool ? (char *)VMM_ARG_POOL : NULL,
			       pool && irqchip ? (char *)VMM_ARG_POOL_IRQCHIP : NULL, NULL };
	int sock = fds[0], null_fd = fds[1], err_fd = fds[2], kvm_fd = fds[3];

	if (dup2(sock, VMM_PROTO_SOCK_FD) < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 ||
	    dup2(err_fd, 2) < 0 || (kvm_fd >= 0 && dup2(kvm_fd, VMM_PROTO_KVM_FD) < 0))
		_exit(127);
	close_range(kvm_fd >= 0 ? VMM_PROTO_KVM_FD + 1 : VMM_PROTO_SOCK_FD + 1, ~0U, 0);
	execve(path, argv, env);
	vmm_msg_send(VMM_PROTO_SOCK_FD, VMM_MSG_HELLO, -errno, NULL, 0, NULL, 0);
	_exit(127);
}

/* fd moved to SPAWN_FD_FLOOR or above (closed), or -1. */
static int fd_above_floor(int fd)
{
	int high;

	if (fd < 0 || fd >= SPAWN_FD_FLOOR)
		return fd;
	high = fcntl(fd, F_DUPFD_CLOEXEC, SPAWN_FD_FLOOR);
	close(fd);
	return high;
}

/* clone3 into a new PID namespace (and the cgroup, when cg_fd >= 0). A
 * pool's process also gets /dev/kvm (VMM_PROTO_KVM_FD) to make its VM while
 * it waits (with the irqchip when @irqchip); without it (not openable now)
 * it makes it after CONFIG. */
static int spawn(struct vmm_proc *p, const char *path, bool pool, bool irqchip, int cg_fd,
		 int log_fd)
{
	char envbuf[4096], *env[VMM_ENV_MAX];
	int sv[2], fds[4] = { -1, -1, -1, -1 }, ret = 0;
	struct clone_args ca;
	int pidfd = -1;
	pid_t pid;

	vmm_env(env, envbuf, sizeof(envbuf));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	p->sock = sv[0];
	fds[0] = fcntl(sv[1], F_DUPFD_CLOEXEC, SPAWN_FD_FLOOR);
	close(sv[1]);
	fds[1] = fd_above_floor(open("/dev/null", O_RDWR | O_CLOEXEC));
	if (pool)
		fds[3] = fd_above_floor(open("/dev/kvm", O_RDWR | O_CLOEXEC));
#if defined(__SANITIZE_ADDRESS__)
	/* Sanitizer builds (tests): the VMM's reports go where ours do. */
	fds[2] = fcntl(2, F_DUPFD_CLOEXEC, SPAWN_FD_FLOOR);
#else
	/* A stray line of the VMM goes to the VM's log, never to the caller's stderr. */
	fds[2] = fcntl(log_fd >= 0 ? log_fd : fds[1], F_DUPFD_CLOEXEC, SPAWN_FD_FLOOR);
#endif
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0) {
		ret = -errno;
		goto out;
	}
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_PIDFD | CLONE_NEWPID | (cg_fd >= 0 ? CLONE_INTO_CGROUP : 0);
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	ca.exit_signal = 0;
	ca.cgroup = cg_fd >= 0 ? (uint64_t)cg_fd : 0;
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		exec_vmm(path, pool, irqchip, fds, env);
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	p->pid = pid;
	p->pidfd = pidfd;
out:
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ret;
}

/* The VMM's first words: it runs and speaks our protocol. */
static int check_hello(int sock, int log_fd, const char *path)
{
	struct vmm_msg_buf m;
	struct vmm_hello h;
	int ret = vmm_msg_recv(sock, &m, NULL, 0, NULL);

	if (ret == 0 && m.hdr.type == VMM_MSG_HELLO && m.hdr.err) {
		lib_log(log_fd, "alcatraz: error: cannot execute alcatraz-vmm '%s': %s\n", path,
			strerror(-m.hdr.err));
		return m.hdr.err;
	}
	if (ret == 0 && m.hdr.type == VMM_MSG_HELLO && m.hdr.len >= sizeof(h)) {
		memcpy(&h, m.payload, sizeof(h));
		h.vmm_version[sizeof(h.vmm_version) - 1] = '\0';
		if (m.hdr.version == VMM_PROTO_VERSION && h.proto_version == VMM_PROTO_VERSION)
			return 0;
		lib_log(log_fd, "alcatraz: error: alcatraz-vmm '%s' (version %s) speaks protocol "
			"%u; this library (version %s) needs protocol %u\n", path, h.vmm_version,
			h.proto_version, ALCATRAZ_VERSION_STRING, VMM_PROTO_VERSION);
		return -EPROTO;
	}
	lib_log(log_fd, "alcatraz: error: '%s' is not an alcatraz-vmm: %s\n", path,
		ret == -EPIPE ? "it exited without a word" : "it sent no valid greeting");
	return ret == -EPIPE ? -ENOEXEC : -EPROTO;
}

int vmm_proc_spawn(const char *path, bool pool, bool irqchip, int cg_fd, int log_fd,
		   struct vmm_proc *p)
{
	int ret;

	p->pidfd = p->sock = -1;
	p->cg.path[0] = '\0';
	p->cg.claim = VM_CGROUP_CLAIM_NORMAL;
	ret = spawn(p, path, pool, irqchip, cg_fd, log_fd);
	if (ret)
		vmm_proc_discard(p);
	return ret;
}

int vmm_proc_greeted(const struct vmm_proc *p, const char *path, int log_fd)
{
	return check_hello(p->sock, log_fd, path);
}

int vmm_proc_start(const char *path, int cg_fd, int log_fd, struct vmm_proc *p)
{
	int ret = vmm_proc_spawn(path, false, false, cg_fd, log_fd, p);

	if (!ret && (ret = vmm_proc_greeted(p, path, log_fd)))
		vmm_proc_discard(p);
	return ret;
}

int vmm_proc_start_in(const char *path, const struct vm_cgroup *cg, int log_fd,
		      struct vmm_proc *p)
{
	int cg_fd = -1, ret;

	if (cg->path[0] && (cg_fd = vm_cgroup_open(cg)) < 0) {
		/* Never outside it: the VM's limits are there. */
		lib_log(log_fd, "alcatraz: error: cgroup %s: %s\n", cg->path, strerror(-cg_fd));
		return -ALCATRAZ_E_SANDBOX;
	}
	ret = vmm_proc_start(path, cg_fd, log_fd, p);
	if (cg_fd >= 0)
		close(cg_fd);
	return ret;
}

void vmm_proc_discard(struct vmm_proc *p)
{
	if (p->pidfd >= 0) {
		/* A pool's process at the lowest CPU claim would die only on
		 * CPU time no VM wants: the normal claim first. */
		(void)vm_cgroup_normal_claim(&p->cg);
		vmm_pidfd_signal(p->pidfd, SIGKILL);
		(void)vmm_pidfd_reap(p->pidfd);
		close(p->pidfd);
	}
	if (p->sock >= 0)
		close(p->sock);
	p->pidfd = p->sock = -1;
	vm_cgroup_remove(&p->cg);
}
