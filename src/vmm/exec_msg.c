// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VMM's side of the EXEC messages (src/protocol/vmm_protocol.h): the
 * library's requests to run further commands in the guest, checked as
 * hostile input, and their results back. Runs on the jailed control thread,
 * whose seccomp list allows read, recvmsg, sendmsg and close but no look at
 * a descriptor: the library says what each output descriptor is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_decode.h"
#include "exec.h"
#include "exec_msg.h"

/* Reads the command's memfd from its start (the library rewound it), at
 * most VMM_EXEC_MAX_BYTES: a larger one is refused, not cut. */
static int read_command(int fd, uint8_t **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap), *grown;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap >= VMM_EXEC_MAX_BYTES) {
				free(buf);
				return -E2BIG;
			}
			grown = realloc(buf, cap * 2);
			if (!grown) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;
			free(buf);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

static bool class_ok(uint8_t class)
{
	return class >= VMM_SINK_FILE && class < VMM_SINK_CLASS_END;
}

/* The request's header and descriptors: fds[0] the command, then stdin,
 * stdout, stderr as flagged. -EPROTO when they do not agree. */
static int check_request(const struct vmm_msg_buf *m, unsigned int nfds,
			 struct vmm_exec_req *req)
{
	unsigned int want = 1;

	if (m->hdr.len != sizeof(*req))
		return -EPROTO;
	memcpy(req, m->payload, sizeof(*req));
	if (req->flags & ~VMM_EXEC_FLAGS || req->out_tty > 1 || req->err_tty > 1)
		return -EPROTO;
	if ((req->flags & VMM_EXEC_HAS_STDOUT) && !class_ok(req->out_class))
		return -EPROTO;
	if ((req->flags & VMM_EXEC_HAS_STDERR) && !class_ok(req->err_class))
		return -EPROTO;
	want += __builtin_popcount(req->flags);
	return nfds == want ? 0 : -EPROTO;
}

/* Takes the descriptors (closed on every path) and starts the exec. */
static int start_exec(struct vm *vm, const struct vmm_exec_req *req, int *fds,
		      uint32_t *id, char *why, size_t why_len)
{
	struct vm_exec_spec spec = { .in_fd = -1, .out_fd = -1, .err_fd = -1, .classified = true,
				     .out_class = req->out_class, .err_class = req->err_class,
				     .out_tty = req->out_tty, .err_tty = req->err_tty };
	struct vm_command cmd;
	uint8_t *blob = NULL;
	size_t len = 0;
	unsigned int next = 1;
	int ret;

	if (req->flags & VMM_EXEC_HAS_STDIN)
		spec.in_fd = fds[next++];
	if (req->flags & VMM_EXEC_HAS_STDOUT)
		spec.out_fd = fds[next++];
	if (req->flags & VMM_EXEC_HAS_STDERR)
		spec.err_fd = fds[next++];
	ret = read_command(fds[0], &blob, &len);
	close(fds[0]);
	if (!ret)
		ret = vm_command_decode(blob, len, &cmd, why, why_len);
	free(blob);
	if (ret) {
		int io[3] = { spec.in_fd, spec.out_fd, spec.err_fd };
		for (unsigned int i = 0; i < 3; i++)
			if (io[i] >= 0)
				close(io[i]);
		return ret == -ENOMEM || ret == -E2BIG ? ret : -EINVAL;
	}
	spec.argv = cmd.argv;
	spec.envp = cmd.envp;
	spec.workdir = cmd.workdir;
	ret = vm_exec_start(vm, &spec, id); /* takes the stdio descriptors */
	vm_command_free(&cmd);
	return ret;
}

int exec_msg_decode_resize(const struct vmm_msg_buf *m, unsigned int nfds,
			   struct vmm_exec_resize *r)
{
	if (m->hdr.type != VMM_MSG_EXEC_RESIZE || nfds || m->hdr.len != sizeof(*r))
		return -EPROTO;
	memcpy(r, m->payload, sizeof(*r));
	return r->rows && r->cols ? 0 : -EPROTO;
}

static int refuse(int *fds, unsigned int nfds)
{
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
	return -EPROTO;
}

int exec_msg_receive(struct vm *vm, int sock, const struct vmm_msg_buf *m, int *fds,
		     unsigned int nfds)
{
	if (m->hdr.type == VMM_MSG_EXEC_SIGNAL) {
		struct vmm_exec_signal sig;

		if (nfds || m->hdr.len != sizeof(sig))
			return refuse(fds, nfds);
		memcpy(&sig, m->payload, sizeof(sig));
		/* An exec that just ended is no error: the signal had no one. */
		(void)!vm_exec_signal(vm, sig.id, sig.signo > 64 ? 0 : (int)sig.signo);
		return 0;
	}
	if (m->hdr.type == VMM_MSG_EXEC_RESIZE) {
		struct vmm_exec_resize r;

		if (exec_msg_decode_resize(m, nfds, &r))
			return refuse(fds, nfds);
		/* An exec that ended, or a guest that cannot resize: no one to tell. */
		(void)!vm_exec_resize(vm, r.id, r.rows, r.cols);
		return 0;
	}
	if (m->hdr.type != VMM_MSG_EXEC)
		return refuse(fds, nfds);

	struct vmm_exec_req req;
	char why[200] = "";
	uint32_t id = 0;
	int ret = check_request(m, nfds, &req);

	if (ret)
		return refuse(fds, nfds);
	ret = start_exec(vm, &req, fds, &id, why, sizeof(why));
	if (ret)
		vm_log(vm, LOG_INFO, "exec refused: %s%s%s", strerror(-ret), why[0] ? ": " : "",
		       why);
	return vmm_msg_send(sock, VMM_MSG_EXEC_STARTED, ret, ret ? NULL : &id,
			    ret ? 0 : sizeof(id), NULL, 0) == -EPIPE ? -EPIPE : 0;
}

void exec_msg_send_done(struct vm *vm, int sock)
{
	struct vm_exec_result res;

	while (vm_exec_reap(vm, &res) > 0) {
		struct vmm_exec_done d = { .id = res.id, .exit_code = res.exit_code,
					   .kind = res.kind, .value = res.value,
					   .error = res.error };
		vmm_msg_send(sock, VMM_MSG_EXEC_DONE, 0, &d, sizeof(d), NULL, 0);
	}
}
