// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The jailed VMM process and its supervisor. Layout:
 *
 *   caller (libalcatraz) --socket-- VMM process (PID 1 of a new PID namespace)
 *        \-- reaper: the forked child that created the PID namespace; it
 *            only waits for the VMM and exits
 *
 * The VMM opens what it needs (/dev/kvm, images, disks), then enters the
 * jail, then runs the guest. Every VMM thread carries its own seccomp list.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "hyperbox_register.h"
#include "cgroup.h"
#include "jail.h"
#include "sandbox.h"
#include "sink.h"
#include "supervisor.h"
#include "vmm.h"

enum msg_type { MSG_CREATED = 1, MSG_START, MSG_STARTED, MSG_KILL, MSG_RESULT, MSG_GO };

struct msg {
	uint32_t type;
	int32_t err;
	char text[256];
	struct alcatraz_result res;
};

struct jailed_vm {
	pid_t pid;      /* the reaper */
	int sock;
	bool started, ended;
	struct vm_cgroup cgroup;
	struct alcatraz_result res;
	int violation;  /* syscall number reported by the VMM's SIGSYS handler, or -1 */
};

static int send_msg(int sock, uint32_t type, int err, const char *text,
		    const struct alcatraz_result *res)
{
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.err = err;
	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	if (res)
		m.res = *res;
	return send(sock, &m, sizeof(m), MSG_NOSIGNAL) == sizeof(m) ? 0 : -EPIPE;
}

#ifdef ALCATRAZ_TEST_HOOKS
#include <fcntl.h>
#include <sys/stat.h>
/* Test builds only: misbehave on purpose once the guest runs, so tests can
 * check that the sandbox stops each act. Never compiled into releases. */
static void test_hook_after_start(struct vm *vm)
{
	const char *act = getenv("ALCATRAZ_TEST_VIOLATE");
	if (!act)
		return;
	usleep(20000);
	if (!strcmp(act, "execve"))
		execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
	else if (!strcmp(act, "socket"))
		(void)!socket(AF_INET, SOCK_STREAM, 0);
	else if (!strcmp(act, "open"))
		(void)!open("/etc/passwd", O_RDONLY);
	else if (!strcmp(act, "fork"))
		(void)!fork();
}

static void test_hook_in_jail(struct vm *vm)
{
	struct stat st;
	if (!getenv("ALCATRAZ_TEST_PROBE_FS"))
		return;
	vm_log(vm, LOG_ERR, "jail probe: /etc/passwd %s, /dev/kvm %s, /proc %s",
	       stat("/etc/passwd", &st) ? strerror(errno) : "VISIBLE",
	       stat("/dev/kvm", &st) ? strerror(errno) : "VISIBLE",
	       stat("/proc/self", &st) ? strerror(errno) : "VISIBLE");
}
#else
static void test_hook_after_start(struct vm *vm) { }
static void test_hook_in_jail(struct vm *vm) { }
#endif

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The VMM process starts as a copy of the embedding program: close every
 * descriptor it inherited except the few the VM was given, so a compromised
 * VMM cannot write to the program's sockets or files. */
static void close_inherited_fds(const struct vm_config *vc, int sock)
{
	int keep[] = { 0, 1, 2, sock, vc->serial_fd, vc->log_fd, vc->stdin_fd, vc->stdout_fd };
	unsigned int n = sizeof(keep) / sizeof(keep[0]);
	int next = 0;

	qsort(keep, n, sizeof(keep[0]), cmp_int);
	for (unsigned int i = 0; i < n; i++) {
		if (keep[i] < next)
			continue; /* -1 entries and duplicates */
		if (keep[i] > next)
			close_range((unsigned int)next, (unsigned int)keep[i] - 1, 0);
		next = keep[i] + 1;
	}
	close_range((unsigned int)next, ~0U, 0);
}

/* The VMM process. Never returns. */
static void __attribute__((noreturn)) vmm_main(const struct vm_config *vc, int sock)
{
	struct vm *vm = NULL;
	char why[200];
	struct msg m;
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Every thread of this process inherits it: a sink whose reader went
	 * away is an error to its writer, never a signal. */
	sink_thread_block_sigpipe();
	hyperbox_register_self(vc->log_fd); /* before the VM exists: Hyper-box refuses it later */
	close_inherited_fds(vc, sock);
	ret = jail_unshare(why, sizeof(why));
	if (ret) {
		send_msg(sock, MSG_CREATED, -ALCATRAZ_E_SANDBOX, why, NULL);
		_exit(1);
	}
	ret = vm_create(vc, &vm);
	if (ret) {
		send_msg(sock, MSG_CREATED, ret, NULL, NULL);
		_exit(1);
	}
	ret = sandbox_report_violations(sock);
	if (!ret)
		ret = jail_enter(why, sizeof(why));
	else
		snprintf(why, sizeof(why), "installing the SIGSYS reporter: %s", strerror(-ret));
	if (ret) {
		send_msg(sock, MSG_CREATED, -ALCATRAZ_E_SANDBOX, why, NULL);
		_exit(1);
	}
	test_hook_in_jail(vm);
	send_msg(sock, MSG_CREATED, 0, NULL, NULL);

	/* Wait for START (or KILL before it). */
	if (recv(sock, &m, sizeof(m), 0) != sizeof(m) || m.type != MSG_START)
		_exit(0);
	ret = vm_start(vm);
	if (!ret) {
		ret = jail_forbid_new_tasks();
		if (!ret)
			ret = seccomp_install(VMM_THREAD_CONTROL);
		if (ret) {
			vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, -ALCATRAZ_E_SANDBOX,
			       "cannot confine the VMM's control thread: %s", strerror(-ret));
		}
	}
	send_msg(sock, MSG_STARTED, ret, NULL, NULL);
	test_hook_after_start(vm);

	/* Serve KILL until the VM ends: sleep on the socket and the VM's end
	 * event together. Once the VM has ended (the event stays readable),
	 * its output may still be on its way to the sinks: wait for that in
	 * short steps, still serving KILL between them. */
	for (bool ended = false;;) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN },
				       { .fd = vm->end_fd, .events = POLLIN } };
		if (vm_wait(vm, ended ? 100 : 0) == 0)
			break;
		int r = poll(p, vm->end_fd >= 0 ? 2 : 1, ended || vm->end_fd < 0 ? 5 : -1);
		if (r > 0 && (p[1].revents & POLLIN))
			ended = true;
		if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (recv(sock, &m, sizeof(m), 0) != sizeof(m) || m.type == MSG_KILL)
				vm_kill(vm);
		}
	}
	vm_wait(vm, -1);
	pthread_mutex_lock(&vm->lock);
	struct alcatraz_result res = vm->result;
	pthread_mutex_unlock(&vm->lock);
	send_msg(sock, MSG_RESULT, 0, NULL, &res);
	_exit(0);
}

/* The reaper: PID 1's parent. It holds no secrets and only waits. */
static void __attribute__((noreturn)) reaper_main(const struct vm_config *vc, int sock)
{
	int status;
	pid_t vmm;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Wait until the library has put us in our cgroup, so the VMM is born
	 * inside it. */
	struct msg go;
	if (recv(sock, &go, sizeof(go), 0) != sizeof(go) || go.type != MSG_GO)
		_exit(1);
	if (unshare(CLONE_NEWPID) < 0) {
		char why[128];
		snprintf(why, sizeof(why), "creating a PID namespace: %s", strerror(errno));
		send_msg(sock, MSG_CREATED, -ALCATRAZ_E_SANDBOX, why, NULL);
		_exit(1);
	}
	vmm = fork();
	if (vmm == 0)
		vmm_main(vc, sock);
	close(sock);
	if (vmm < 0)
		_exit(1);
	while (waitpid(vmm, &status, 0) < 0 && errno == EINTR)
		;
	_exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

static int recv_msg(struct jailed_vm *j, struct msg *m, int timeout_ms)
{
	struct pollfd p = { .fd = j->sock, .events = POLLIN };
	char buf[sizeof(*m)];
	ssize_t n;

	for (;;) {
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(j->sock, buf, sizeof(buf), 0);
		if (n == (ssize_t)sizeof(*m)) {
			memcpy(m, buf, sizeof(*m));
			return 0;
		}
		/* The SIGSYS reporter's line, then the socket closes. */
		if (n > 8 && !memcmp(buf, "SANDBOX ", 8)) {
			j->violation = atoi(buf + 8);
			continue;
		}
		return -EPIPE;
	}
}

/* The VMM process is gone without a result: say how it died. */
static void vmm_died(struct jailed_vm *j)
{
	int status = 0;

	if (j->pid > 0 && waitpid(j->pid, &status, 0) == j->pid)
		j->pid = -1;
	memset(&j->res, 0, sizeof(j->res));
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (j->violation >= 0 || code == 128 + SIGSYS) {
		j->res.kind = ALCATRAZ_EXIT_SANDBOX;
		j->res.error = -ALCATRAZ_E_SANDBOX;
		snprintf(j->res.message, sizeof(j->res.message),
			 "sandbox violation: the VMM attempted %s and was killed with SIGSYS",
			 j->violation >= 0 ? seccomp_syscall_name(j->violation) : "a forbidden system call");
	} else {
		j->res.kind = ALCATRAZ_EXIT_ERROR;
		j->res.error = -EPIPE;
		snprintf(j->res.message, sizeof(j->res.message),
			 "the VMM process ended unexpectedly (status %d)", code);
	}
	j->ended = true;
}

int jailed_create(const struct vm_config *vc, struct jailed_vm **out)
{
	struct jailed_vm *j = calloc(1, sizeof(*j));
	int sv[2];
	struct msg m;
	int ret;

	if (!j)
		return -ENOMEM;
	j->violation = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		free(j);
		return ret;
	}
	j->pid = fork();
	if (j->pid == 0) {
		close(sv[0]);
		reaper_main(vc, sv[1]);
	}
	close(sv[1]);
	if (j->pid < 0) {
		ret = -errno;
		close(sv[0]);
		free(j);
		return ret;
	}
	j->sock = sv[0];
	char why[300];
	if (vm_cgroup_create(&j->cgroup, j->pid, vc->mem_bytes, vc->vcpus, why, sizeof(why)) == 0) {
		sink_dprintf(vc->log_fd, "alcatraz: info: cgroup v2 limits applied: %s\n",
			     j->cgroup.path);
	} else {
		sink_dprintf(vc->log_fd, "alcatraz: info: cgroup v2 limits not applied: %s\n", why);
	}
	if (send_msg(j->sock, MSG_GO, 0, NULL, NULL) < 0) {
		jailed_destroy(j);
		return -EPIPE;
	}
	ret = recv_msg(j, &m, -1);
	if (ret == 0 && m.type == MSG_CREATED && m.err == 0) {
		*out = j;
		return 0;
	}
	if (ret == 0 && m.text[0])
		sink_dprintf(vc->log_fd, "alcatraz: error: sandbox: %s\n", m.text);
	ret = ret ? ret : (m.err ? m.err : -EPROTO);
	jailed_destroy(j);
	return ret;
}

int jailed_start(struct jailed_vm *j)
{
	struct msg m;
	int ret;

	if (j->started)
		return -EALREADY;
	j->started = true;
	if (send_msg(j->sock, MSG_START, 0, NULL, NULL) < 0 || recv_msg(j, &m, -1) < 0 ||
	    m.type != MSG_STARTED) {
		vmm_died(j);
		return 0; /* the VM has ended; its result says why */
	}
	ret = m.err;
	return ret;
}

int jailed_wait(struct jailed_vm *j, int timeout_ms)
{
	struct msg m;
	int ret;

	if (!j->started)
		return -EINVAL;
	if (j->ended)
		return 0;
	ret = recv_msg(j, &m, timeout_ms);
	if (ret == -ETIMEDOUT)
		return ret;
	if (ret == 0 && m.type == MSG_RESULT) {
		j->res = m.res;
		j->ended = true;
		return 0;
	}
	vmm_died(j);
	return 0;
}

int jailed_kill(struct jailed_vm *j)
{
	if (!j->ended && send_msg(j->sock, MSG_KILL, 0, NULL, NULL) < 0 && j->pid > 0)
		kill(j->pid, SIGKILL);
	return 0;
}

int jailed_result(struct jailed_vm *j, struct alcatraz_result *res)
{
	int ret = jailed_wait(j, 0);

	if (ret == -ETIMEDOUT || ret == -EINVAL)
		return -EBUSY;
	*res = j->res;
	return 0;
}

#ifdef ALCATRAZ_TEST_HOOKS
pid_t jailed_reaper_pid(struct jailed_vm *j);
pid_t jailed_reaper_pid(struct jailed_vm *j)
{
	return j->pid;
}
#endif

void jailed_destroy(struct jailed_vm *j)
{
	if (!j)
		return;
	if (j->started && !j->ended) {
		jailed_kill(j);
		if (jailed_wait(j, 2000) == -ETIMEDOUT && j->pid > 0)
			kill(j->pid, SIGKILL);
	}
	if (j->pid > 0) {
		/* The reaper's death takes the VMM (PID 1 of its namespace) along. */
		kill(j->pid, SIGKILL);
		while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	vm_cgroup_remove(&j->cgroup);
	close(j->sock);
	free(j);
}
