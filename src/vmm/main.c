// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alcatraz-vmm: one VM per process, started by libalcatraz (clone3 into a
 * new PID namespace, then exec of this program), never by hand. It speaks
 * src/protocol/vmm_protocol.h on descriptor VMM_PROTO_SOCK_FD:
 *
 *   HELLO -> CONFIG (validated, descriptors) -> enter the jail, build the
 *   VM -> CREATED -> START -> STARTED -> serve KILL and EXEC -> RESULT, exit.
 *
 * The process is a fresh exec: nothing of the embedding program's memory
 * is in it. It opens no host file: /dev/kvm, the images, disks and stdio
 * arrive as descriptors. Every thread carries its own seccomp list.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_decode.h"
#include "exec.h"
#include "exec_msg.h"
#include "hyperbox_register.h"
#include "jail.h"
#include "prestart.h"
#include "sandbox.h"
#include "sink.h"
#include "vmm.h"
#include "vmm_protocol.h"
#include "vmm_test_hooks.h"

#ifndef ALCATRAZ_VERSION_STRING
#define ALCATRAZ_VERSION_STRING "unknown"
#endif

#define SOCK VMM_PROTO_SOCK_FD

/* A warm pool's process (argv "--pool") makes its namespaces before its
 * configuration is known: this is how that went. */
static struct {
	bool done;
	int err;
	char why[200];
} early_unshare;

/*
 * A warm pool's process also makes its VM while it waits (KVM_CREATE_VM on
 * the /dev/kvm it was started with, VMM_PROTO_KVM_FD), and vCPU 0 of it.
 * KVM takes the irqchip and PIT only before the first vCPU, so the process
 * makes them first when the library guesses (VMM_ARG_POOL_IRQCHIP, from
 * its last configuration) that the VM will want them. RAM, devices, the
 * CPUID and the other vCPUs follow CONFIG as for any VM. A configuration
 * the guess does not fit (vm_ahead_fits), one without the sandbox (the
 * library never sends one to a pool's process) or with another /dev/kvm
 * than the pool's gets a VM made after CONFIG instead, as does a process
 * whose VM could not be made ahead. The Hyper-box registration comes
 * first: the kernel refuses it once a VM exists. Its log lines wait in a
 * pipe for the VM's log.
 */
static struct {
	bool registered;
	int said;           /* read end of the registration's log lines, or -1 */
	struct vm_ahead vm; /* vm_fd -1 when none was made */
	int err;            /* why none was made */
} ahead = { .said = -1, .vm = { .kvm_fd = -1, .vm_fd = -1, .vcpu0_fd = -1 } };

static void make_vm_ahead(bool irqchip)
{
	struct stat st;
	int p[2];

	if (fstat(VMM_PROTO_KVM_FD, &st) < 0) {
		ahead.err = -errno;
		return;
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0) {
		hyperbox_register_self(p[1]);
		close(p[1]);
		ahead.said = p[0];
	} else {
		hyperbox_register_self(-1);
	}
	ahead.registered = true;
	ahead.err = kvm_create_vm_ahead(VMM_PROTO_KVM_FD, irqchip, &ahead.vm);
}

/* The registration's lines, now that the VM's log is known. */
static void replay_registration(int log_fd)
{
	char buf[1024];
	ssize_t n;

	if (ahead.said < 0)
		return;
	n = read(ahead.said, buf, sizeof(buf));
	if (n > 0)
		proto_log_line(log_fd, "%.*s", (int)n, buf);
	close(ahead.said);
	ahead.said = -1;
}

static bool same_device(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && S_ISCHR(sa.st_mode) &&
	       S_ISCHR(sb.st_mode) && sa.st_rdev == sb.st_rdev;
}

/* The VM made ahead when it serves vc (then its descriptors are the VM's),
 * else the VM is made now; says which in the VM's log. */
static int vm_create_pooled(struct vm_config *vc, struct vm **vm)
{
	const char *why = NULL;

	if (ahead.vm.vm_fd < 0)
		why = strerror(-ahead.err);
	else if (!vc->seccomp)
		why = "a configuration without the sandbox";
	else if (!same_device(vc->kvm_fd, ahead.vm.kvm_fd))
		why = "the configuration's /dev/kvm is not the pool's";
	else if (!vm_ahead_fits(&ahead.vm, vc))
		why = ahead.vm.irqchip ? "it was made with an irqchip" : "it was made without an "
									  "irqchip";
	if (!why) {
		proto_log_line(vc->log_fd, "alcatraz: debug: pool: the VM was made before its "
			       "configuration%s\n", ahead.vm.vcpu0_fd >= 0 ? ", with vcpu0" : "");
		return vm_create_on(vc, &ahead.vm, vm);
	}
	proto_log_line(vc->log_fd, "alcatraz: debug: pool: no VM made ahead for this one (%s): "
		       "made now\n", why);
	kvm_ahead_release(&ahead.vm);
	return vm_create(vc, vm);
}

static void say_created(int err, const char *why)
{
	vmm_msg_send(SOCK, VMM_MSG_CREATED, err, why, why ? (uint32_t)strlen(why) : 0, NULL, 0);
}

static int send_hello(void)
{
	struct vmm_hello h = { .proto_version = VMM_PROTO_VERSION, .pid = (uint32_t)getpid() };

	snprintf(h.vmm_version, sizeof(h.vmm_version), "%s", ALCATRAZ_VERSION_STRING);
	return vmm_msg_send(SOCK, VMM_MSG_HELLO, 0, &h, sizeof(h), NULL, 0);
}

/* Waits for CONFIG and decodes it; on failure tells the library why. */
static int receive_config(struct vm_config *vc)
{
	struct vmm_msg_buf m;
	int fds[VMM_MSG_MAX_FDS];
	unsigned int nfds = 0;
	char why[200] = "";
	uint8_t *blob = NULL;
	size_t len = 0;
	int ret;

	ret = vmm_msg_recv(SOCK, &m, fds, VMM_MSG_MAX_FDS, &nfds);
	if (ret == -EPIPE)
		return ret; /* the library went away (a pool process never used) */
	if (ret || m.hdr.type != VMM_MSG_CONFIG || nfds == 0) {
		for (unsigned int i = 0; i < nfds; i++)
			close(fds[i]);
		say_created(-EPROTO, "alcatraz-vmm: expected a configuration message");
		return -EPROTO;
	}
	/* Bounded before it is read (read_whole_fd checks the size first). */
	uint64_t blob_len = 0;
	ret = read_whole_fd(fds[0], VMM_CONFIG_MAX_BYTES, &blob, &blob_len);
	len = (size_t)blob_len;
	if (!ret && len == 0) {
		free(blob);
		ret = -EINVAL;
	}
	close(fds[0]);
	if (ret) {
		for (unsigned int i = 1; i < nfds; i++)
			close(fds[i]);
		snprintf(why, sizeof(why), "alcatraz-vmm: unreadable configuration: %s",
			 strerror(-ret));
		say_created(ret == -ENOMEM ? ret : -EINVAL, why);
		return ret;
	}
	ret = vm_config_decode(blob, len, fds, nfds, vc, why, sizeof(why));
	free(blob);
	if (ret) {
		char line[260];
		snprintf(line, sizeof(line), "alcatraz-vmm: configuration refused: %s", why);
		say_created(ret, line);
	}
	return ret;
}

/* Builds the VM inside the jail. 0, or the VM is not created and the
 * library has been told why. */
static int create_vm(struct vm_config *vc, bool pool, struct vm **vm)
{
	char why[200];
	int ret;

	if (vc->seccomp) {
		/* Before the VM exists: Hyper-box refuses registration later. */
		if (!ahead.registered)
			hyperbox_register_self(vc->log_fd);
		vmm_trace_step("hyperbox register");
		if (early_unshare.done) {
			ret = early_unshare.err;
			snprintf(why, sizeof(why), "%s", early_unshare.why);
		} else {
			ret = jail_unshare(why, sizeof(why));
		}
		/* Before the device thread starts: it inherits the emptied
		 * bounding set and no_new_privs (a failure is jail_enter's). */
		if (!ret)
			(void)jail_prepare();
		if (!ret)
			ret = prestart_check(why, sizeof(why));
		if (ret) {
			vm_config_release(vc);
			say_created(-ALCATRAZ_E_SANDBOX, why);
			return ret;
		}
	}
	vmm_trace_step("unshare");
	ret = pool ? vm_create_pooled(vc, vm) : vm_create(vc, vm);
	vmm_trace_step("vm_create");
	/* vm_create() copied these four; the rest belongs to the VM now. */
	free(vc->image_path);
	free(vc->kernel_path);
	free(vc->initrd_path);
	free(vc->cmdline);
	if (ret) {
		say_created(ret, NULL);
		return ret;
	}
	if (!vc->seccomp)
		return 0;
	ret = sandbox_report_violations(SOCK);
	if (!ret)
		ret = jail_enter(why, sizeof(why));
	else
		snprintf(why, sizeof(why), "installing the SIGSYS reporter: %s", strerror(-ret));
	if (ret) {
		say_created(-ALCATRAZ_E_SANDBOX, why);
		return ret;
	}
	vmm_trace_step("jail_enter");
	return 0;
}

static int start_vm(struct vm *vm)
{
	vmm_trace_step("START received");
	int ret = vm_start(vm);

	vmm_trace_step("vm_start");
	if (!ret && vm->cfg.seccomp) {
		ret = jail_forbid_new_tasks();
		if (!ret)
			ret = seccomp_install(VMM_THREAD_CONTROL);
		if (ret)
			vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, -ALCATRAZ_E_SANDBOX,
			       "cannot confine the VMM's control thread: %s", strerror(-ret));
	}
	vmm_trace_step("control confined");
	return ret;
}

/* SNAPSHOT: the two files the library opened; the VM goes on after it. */
static int serve_snapshot(struct vm *vm, const struct vmm_msg_buf *m, int *fds,
			  unsigned int nfds)
{
	char why[200] = "";
	int ret;

	if (nfds != 2 || m->hdr.len) {
		for (unsigned int i = 0; i < nfds; i++)
			close(fds[i]);
		return -EPROTO;
	}
	ret = vm_snapshot(vm, fds[0], fds[1], why, sizeof(why));
	close(fds[0]);
	close(fds[1]);
	if (ret)
		vm_log(vm, LOG_INFO, "snapshot refused: %s", why);
	return vmm_msg_send(SOCK, VMM_MSG_SNAPSHOT_DONE, ret, ret ? why : NULL,
			    ret ? (uint32_t)strlen(why) : 0, NULL, 0) == -EPIPE ? -EPIPE : 0;
}

/* One message from the library while the VM runs: false when the VM must
 * be killed (KILL, a closed socket, a broken protocol). */
static bool serve_message(struct vm *vm)
{
	struct vmm_msg_buf m;
	int fds[VMM_EXEC_MAX_FDS];
	unsigned int nfds = 0;
	int ret = vmm_msg_recv(SOCK, &m, fds, VMM_EXEC_MAX_FDS, &nfds);

	if (ret || m.hdr.type == VMM_MSG_KILL) {
		for (unsigned int i = 0; i < nfds; i++)
			close(fds[i]);
		return false;
	}
	if (m.hdr.type == VMM_MSG_SNAPSHOT)
		return serve_snapshot(vm, &m, fds, nfds) == 0;
	return exec_msg_receive(vm, SOCK, &m, fds, nfds) == 0;
}

/* Serves KILL and execs until the VM ends: sleeps on the socket, the VM's
 * end event and the execs' results together. Once the VM has ended (the
 * event stays readable), its output may still be on its way to the sinks:
 * waits for that in short steps, still serving KILL between them. A closed
 * socket kills the VM. */
static void serve(struct vm *vm)
{
	for (bool ended = false;;) {
		struct pollfd p[3] = { { .fd = SOCK, .events = POLLIN },
				       { .fd = vm->end_fd, .events = POLLIN },
				       { .fd = vm_exec_fd(vm), .events = POLLIN } };

		exec_msg_send_done(vm, SOCK);
		if (vm_wait(vm, ended ? 100 : 0) == 0)
			return;
		int r = poll(p, 3, ended || vm->end_fd < 0 ? 5 : -1);
		if (r > 0 && (p[1].revents & POLLIN))
			ended = true;
		if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !serve_message(vm))
			vm_kill(vm);
	}
}

static void send_result(struct vm *vm)
{
	struct alcatraz_result res;
	struct rusage ru;

	pthread_mutex_lock(&vm->lock);
	res = vm->result;
	pthread_mutex_unlock(&vm->lock);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		res.usage.vmm_peak_rss_bytes = (uint64_t)ru.ru_maxrss * 1024;
	vmm_msg_send(SOCK, VMM_MSG_RESULT, 0, &res, sizeof(res), NULL, 0);
}

static int usage(void)
{
	fprintf(stderr, "alcatraz-vmm: the VMM process of libalcatraz; it is started by the "
			"library (descriptor %d is its socket), not by hand\n", SOCK);
	return 2;
}

int main(int argc, char **argv)
{
	struct vm_config vc;
	struct vm *vm = NULL;
	struct vmm_msg_buf m;
	struct stat st;
	int ret;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("alcatraz-vmm %s (protocol %d)\n", ALCATRAZ_VERSION_STRING, VMM_PROTO_VERSION);
		return 0;
	}
	bool pool = (argc == 2 || argc == 3) && !strcmp(argv[1], VMM_ARG_POOL);
	bool irqchip = pool && argc == 3 && !strcmp(argv[2], VMM_ARG_POOL_IRQCHIP);
	vmm_trace_init();
	if ((argc != 1 && !pool) || (pool && argc == 3 && !irqchip) || fstat(SOCK, &st) < 0 ||
	    !S_ISSOCK(st.st_mode))
		return usage();
	/* Every thread inherits it: a sink whose reader went away is an
	 * error to its writer, never a signal. */
	sink_thread_block_sigpipe();
	if (send_hello() < 0)
		return 1;
	if (pool) {
		/* Namespaces only: nothing of a VM exists yet. A failure is
		 * reported to a sandboxed configuration as unshare's own. */
		early_unshare.err = jail_unshare(early_unshare.why, sizeof(early_unshare.why));
		early_unshare.done = true;
		/* What of the jail needs no configuration, done while nothing
		 * waits for this process (a pool's process is only ever handed
		 * to a sandboxed configuration; a failure is reported to it by
		 * jail_enter and seccomp_install, where it was before). */
		seccomp_prepare();
		bool prepared = jail_prepare() == 0;
		make_vm_ahead(irqchip);
		/* The threads every sandboxed VM starts, started now and parked,
		 * each confined as it would be (prestart.c): only once what they
		 * inherit is final, and never after a failed jail step (that VM
		 * is refused anyway). A thread that failed its confinement
		 * refuses the configuration (prestart_check). */
		if (!early_unshare.err && prepared)
			prestart_threads();
	}
	if (receive_config(&vc))
		return 1;
	test_hook_after_config();
	vmm_trace_mode(!vc.seccomp ? "open" : pool ? "pool" : "exec");
	vmm_trace_step("CONFIG received");
#ifndef __SANITIZE_ADDRESS__
	/* Born before its VM was known, a pool process's stderr is /dev/null:
	 * a stray line goes to the VM's log, as a fresh VMM's does. */
	if (pool && vc.log_fd >= 0)
		dup2(vc.log_fd, 2);
#endif
	replay_registration(vc.log_fd);
	if (create_vm(&vc, pool, &vm))
		return 1;
	test_hook_in_jail(vm);
	say_created(0, NULL);
	vmm_trace_step("CREATED sent");

	/* START, or the library closing the socket / sending KILL first. */
	if (vmm_msg_recv(SOCK, &m, NULL, 0, NULL) != 0 || m.hdr.type != VMM_MSG_START)
		_exit(0);
	ret = start_vm(vm);
	vmm_msg_send(SOCK, VMM_MSG_STARTED, ret, NULL, 0, NULL, 0);
	test_hook_after_start(vm);
	serve(vm);
	vm_wait(vm, -1);
	exec_msg_send_done(vm, SOCK);
	send_result(vm);
	/* The jail forbids nothing that exit needs; freeing the VM would only
	 * cost time the library is waiting for. */
	_exit(0);
}
