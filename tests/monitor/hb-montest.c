// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hb-montest: the user-space half of the escape-monitor replays in the lab
 * (tests/monitor/monitor.sh).  One subcommand per act; exit 0 means the
 * subcommand saw what it was built to see, see each one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "../../src/hypervisor/monitor_abi.h"
#include "../../src/vmm/hyperbox_register.h"

static int drop_to(uid_t uid)
{
	gid_t g = uid;

	if (setgroups(1, &g) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid)) {
		perror("hb-montest: drop");
		return -1;
	}
	return 0;
}

/* cred MODE: drop to uid 1000, have the test module tamper, then try a privileged act. */
static int cmd_cred(const char *mode)
{
	char host[64] = "";
	int fd;

	if (drop_to(1000))
		return 2;
	fd = open("/proc/hb_montest", O_WRONLY);
	if (fd < 0) {
		perror("hb-montest: /proc/hb_montest");
		return 2;
	}
	if (write(fd, mode, strlen(mode)) < 0)
		printf("cred: the tampering write failed: %s\n", strerror(errno));
	close(fd);
	printf("cred: after %s: uid %d euid %d\n", mode, getuid(), geteuid());
	fflush(stdout);
	gethostname(host, sizeof(host));
	if (sethostname("pwned", 5) == 0) {
		printf("cred: PRIVILEGED ACT SUCCEEDED (hostname set)\n");
		sethostname(host, strlen(host));
		return 3;
	}
	printf("cred: privileged act refused (%s) but the task lives\n", strerror(errno));
	return 4;
}

/* A tiny real-mode guest (HLT) run once, so that "the guest started". */
static int run_guest(void)
{
	struct kvm_userspace_memory_region mr = { .slot = 0, .guest_phys_addr = 0, .memory_size = 0x10000 };
	struct kvm_sregs sr;
	struct kvm_regs r = { .rip = 0, .rflags = 2 };
	struct kvm_run *run;
	int kvm, vm, vcpu, ret;
	uint8_t *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return -errno;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	mem = mmap(NULL, mr.memory_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (vm < 0 || mem == MAP_FAILED)
		return -errno;
	mem[0] = 0xf4;		/* hlt */
	mr.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
		return -errno;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return -errno;
	run = mmap(NULL, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	sr.cs.base = 0;
	sr.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sr) < 0 || ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		return -errno;
	ret = ioctl(vcpu, KVM_RUN, 0);
	printf("vmm: KVM_RUN returned %d, exit reason %d\n", ret < 0 ? -errno : ret, run->exit_reason);
	fflush(stdout);
	return 0;
}

/* The VMM (PID 1 of its namespace): register, run the guest, then misbehave. */
static int vmm_child(const char *act, bool reg)
{
	int ret;

	if (!strcmp(act, "umh"))
		prctl(PR_SET_NAME, reg ? "hb-umh-vmm" : "hb-umh-ctl");
	if (reg && hyperbox_register_self(1) != 1)
		return 10;
	ret = run_guest();
	if (ret) {
		printf("vmm: guest setup failed: %s\n", strerror(-ret));
		return 11;
	}
	if (!strcmp(act, "fork-exec")) {
		pid_t p = fork();

		if (p == 0) {
			execl("/bin/sh", "sh", "-c", "echo 'vmm: SHELL RAN'; touch /tmp/vmm-shell-ran", (char *)NULL);
			_exit(127);
		}
		printf("vmm: fork returned %d (%s)\n", p, p < 0 ? strerror(errno) : "created");
		if (p > 0)
			waitpid(p, NULL, 0);
		return 12;
	}
	if (!strcmp(act, "exec")) {
		execl("/bin/sh", "sh", "-c", "echo 'vmm: SHELL RAN'; touch /tmp/vmm-shell-ran", (char *)NULL);
		printf("vmm: exec failed: %s\n", strerror(errno));
		return 13;
	}
	if (!strcmp(act, "setuid")) {
		/* A registered VMM that is not root must not become root. */
		printf("vmm: setuid(0) = %d\n", setuid(0));
		return 14;
	}
	usleep(300000);		/* umh / none: let the helper run, if it was started */
	return 0;
}

/* vmm ACT [noreg]: run a VMM in its own PID namespace; print how it ended. */
static int cmd_vmm(const char *act, bool reg)
{
	int status;
	pid_t p;

	if (unshare(CLONE_NEWPID)) {
		perror("hb-montest: unshare");
		return 2;
	}
	p = fork();
	if (p == 0)
		_exit(vmm_child(act, reg));
	if (p < 0 || waitpid(p, &status, 0) != p)
		return 2;
	if (WIFSIGNALED(status)) {
		printf("vmm: %s: VMM killed by signal %d\n", act, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	printf("vmm: %s: VMM exited with %d\n", act, WEXITSTATUS(status));
	return WEXITSTATUS(status);
}

static int try_register(void)
{
	struct hyperbox_register r = { .size = sizeof(r) };
	int fd = open(HYPERBOX_DEVICE, O_RDWR), ret;

	if (fd < 0)
		return -errno;
	ret = ioctl(fd, HYPERBOX_IOC_REGISTER_SELF, &r) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

static void *idle(void *a)
{
	pause();
	return a;
}

static int bad_child(const char *what)
{
	pthread_t t;

	if (!strcmp(what, "threaded"))
		pthread_create(&t, NULL, idle, NULL);
	if (!strcmp(what, "after-vm") && run_guest())
		return 20;
	return try_register() == -EPERM ? 0 : 21;
}

static bool is_intel(void)
{
	uint32_t a = 0, b, c, d;

	asm volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
	return b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e;	/* GenuineIntel */
}

/* register-bad: every forged or late registration is refused with EPERM. */
static int cmd_register_bad(void)
{
	uint64_t rax = 0x48594258424f5831ULL;
	int fail = 0, ret, status;
	pid_t p;

	ret = try_register();
	printf("register-bad: not PID 1 of its own namespace: %s\n", strerror(-ret));
	fail += ret != -EPERM;
	/*
	 * Straight to the host from user space: CPL 3 is refused there, with
	 * -EPERM on AMD-V and, on VT-x, the #UD (SIGILL) a CPU outside VMX
	 * gives, so that it is tried in a child.
	 */
	if (is_intel()) {
		p = fork();
		if (p == 0) {
			asm volatile("vmcall" : "+a"(rax) : "b"(0x4d01ULL), "c"(0ULL) : "memory");
			_exit(0);
		}
		waitpid(p, &status, 0);
		printf("register-bad: VMCALL from user space: %s\n",
		       WIFSIGNALED(status) && WTERMSIG(status) == SIGILL ? "#UD (SIGILL)" : "NOT refused");
		fail += !(WIFSIGNALED(status) && WTERMSIG(status) == SIGILL);
	} else {
		asm volatile("vmmcall" : "+a"(rax) : "b"(0x4d01ULL), "c"(0ULL) : "memory");
		printf("register-bad: VMMCALL from user space: %lld\n", (long long)rax);
		fail += (long long)rax != -EPERM;
	}
	/* PID 1 of its own namespace, but already multi-threaded. */
	if (unshare(CLONE_NEWPID))
		return 2;
	p = fork();
	if (p == 0)
		_exit(bad_child("threaded"));
	waitpid(p, &status, 0);
	printf("register-bad: threaded PID 1: %s\n", WIFEXITED(status) && !WEXITSTATUS(status) ?
	       "refused" : "NOT refused");
	fail += !(WIFEXITED(status) && !WEXITSTATUS(status));
	return fail ? 1 : 0;
}

static int cmd_register_bad_after_vm(void)
{
	int status;
	pid_t p;

	if (unshare(CLONE_NEWPID))
		return 2;
	p = fork();
	if (p == 0)
		_exit(bad_child("after-vm"));
	waitpid(p, &status, 0);
	printf("register-bad: after-vm: %s\n", WIFEXITED(status) && !WEXITSTATUS(status) ? "refused" : "NOT refused");
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : 1;
}

/* suid-check: run from a setuid-root copy by an unprivileged user. */
static int cmd_suid_check(void)
{
	char host[64] = "";

	if (geteuid() != 0)
		return 2;
	gethostname(host, sizeof(host));
	if (sethostname(host, strlen(host)) || setuid(0) || getuid() != 0)
		return 3;
	return 0;
}

/* su-like: root changes identity back and forth, then runs a program as a user. */
static int cmd_su_like(void)
{
	int status;
	pid_t p;

	if (setresuid(1000, 1000, 0) || getuid() != 1000 || setresuid(0, 0, 0) || getuid() != 0)
		return 3;
	p = fork();
	if (p == 0) {
		if (drop_to(1000))
			_exit(4);
		execl("/bin/sh", "sh", "-c", "test $(id -u) = 1000", (char *)NULL);
		_exit(5);
	}
	waitpid(p, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "cred"))
		return cmd_cred(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "vmm"))
		return cmd_vmm(argv[2], !(argc >= 4 && !strcmp(argv[3], "noreg")));
	if (argc >= 2 && !strcmp(argv[1], "register-bad"))
		return cmd_register_bad();
	if (argc >= 2 && !strcmp(argv[1], "register-bad-after-vm"))
		return cmd_register_bad_after_vm();
	if (argc >= 2 && !strcmp(argv[1], "suid-check"))
		return cmd_suid_check();
	if (argc >= 2 && !strcmp(argv[1], "su-like"))
		return cmd_su_like();
	if (argc >= 4 && !strcmp(argv[1], "runas")) {
		if (drop_to(atoi(argv[2])))
			return 2;
		execv(argv[3], argv + 3);
		return 127;
	}
	fprintf(stderr, "usage: hb-montest cred MODE | vmm ACT [noreg] | register-bad[-after-vm] | suid-check | su-like | runas UID PROG ARGS\n");
	return 2;
}
