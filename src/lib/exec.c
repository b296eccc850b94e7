// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Execs, the library's side: checks the caller's request, looks at its
 * output descriptors here (the jailed VMM may not: proto_sink_classify),
 * writes the command into a sealed memfd and hands it all to the VMM.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "supervisor.h"
#include "vmm_protocol.h"

#define EXEC_MAX_SIGNO 64

static int check_exec(const struct alcatraz_exec *ex)
{
	if (!ex || !ex->argv || !ex->argv[0] || !ex->argv[0][0] || ex->flags)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(ex->reserved) / sizeof(ex->reserved[0]); i++)
		if (ex->reserved[i])
			return -EINVAL;
	if (ex->workdir && ex->workdir[0] != '/')
		return -EINVAL;
	for (const char *const *e = ex->envp; e && *e; e++)
		if (!strchr(*e, '=') || **e == '=')
			return -EINVAL;
	return 0;
}

struct exec_fds {
	int fd[4];           /* the command's memfd, then stdin, stdout, stderr */
	unsigned int n;
};

static int add_dup(struct exec_fds *f, int fd)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	if (copy < 0)
		return -errno;
	f->fd[f->n++] = copy;
	return 0;
}

/* An output descriptor as the VMM will write it: its class, and the
 * non-blocking reopen of a pipe or terminal (else a duplicate). */
static int add_output(struct exec_fds *f, int fd, uint8_t *class, uint8_t *tty)
{
	bool is_tty;
	int own;

	*class = (uint8_t)proto_sink_classify(fd, &is_tty, &own);
	*tty = is_tty;
	if (own < 0)
		return add_dup(f, fd);
	f->fd[f->n++] = own;
	return 0;
}

static int collect_fds(const struct alcatraz_exec *ex, struct vmm_exec_req *req,
		       struct exec_fds *f)
{
	int ret = command_encode(ex->argv, ex->envp, ex->workdir, &f->fd[0]);

	if (ret)
		return ret;
	f->n = 1;
	if (ex->in_fd >= 0) {
		req->flags |= VMM_EXEC_HAS_STDIN;
		ret = add_dup(f, ex->in_fd);
	}
	if (!ret && ex->out_fd >= 0) {
		req->flags |= VMM_EXEC_HAS_STDOUT;
		ret = add_output(f, ex->out_fd, &req->out_class, &req->out_tty);
	}
	if (!ret && ex->err_fd >= 0) {
		req->flags |= VMM_EXEC_HAS_STDERR;
		ret = add_output(f, ex->err_fd, &req->err_class, &req->err_tty);
	}
	return ret;
}

int alcatraz_vm_exec(struct alcatraz_vm *vm, const struct alcatraz_exec *exec, uint32_t *id)
{
	struct vmm_exec_req req = { 0 };
	struct exec_fds f = { .n = 0 };
	int ret;

	if (!vm || !id)
		return -EINVAL;
	ret = check_exec(exec);
	if (!ret)
		ret = collect_fds(exec, &req, &f);
	if (!ret)
		ret = jailed_exec_start(vm_jailed(vm), &req, f.fd, f.n, id);
	for (unsigned int i = 0; i < f.n; i++)
		close(f.fd[i]);
	return ret;
}

int alcatraz_vm_exec_wait(struct alcatraz_vm *vm, uint32_t id, int timeout_ms, int *exit_code)
{
	struct vmm_exec_done d;
	int ret;

	if (!vm || !exit_code)
		return -EINVAL;
	ret = jailed_exec_wait(vm_jailed(vm), id, timeout_ms, &d);
	if (ret)
		return ret;
	if (d.error)
		return d.error;
	*exit_code = d.exit_code;
	return 0;
}

int alcatraz_vm_exec_kill(struct alcatraz_vm *vm, uint32_t id, int signo)
{
	if (!vm || signo < 1 || signo > EXEC_MAX_SIGNO)
		return -EINVAL;
	return jailed_exec_signal(vm_jailed(vm), id, signo);
}

int alcatraz_vm_exec_resize(struct alcatraz_vm *vm, uint32_t id, unsigned int rows,
			    unsigned int cols)
{
	if (!vm || rows < 1 || rows > UINT16_MAX || cols < 1 || cols > UINT16_MAX)
		return -EINVAL;
	return jailed_exec_resize(vm_jailed(vm), id, (uint16_t)rows, (uint16_t)cols);
}
