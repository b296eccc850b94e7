// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * exec --process FILE [--detach] [--pid-file FILE] ID: a further process in
 * the container's VM. The process that waits for it (this one, or with
 * --detach a child whose pid goes to --pid-file) sends the supervisor the
 * process.json and its own fds 0-2, lives as long as the guest's process,
 * forwards the signals it gets and exits with its status. SIGKILL cannot be
 * forwarded: the supervisor sees the connection end and kills the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci.h"

struct exec_opts {
	const char *process, *pid_file, *console_socket, *id;
	bool detach, tty;
};

static int exec_args(int argc, char **argv, struct exec_opts *o)
{
	bool missing = false;
	const char *v;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if ((v = oci_opt_value(argc, argv, &i, "process", "p", &missing)))
			o->process = v;
		else if ((v = oci_opt_value(argc, argv, &i, "pid-file", NULL, &missing)))
			o->pid_file = v;
		else if ((v = oci_opt_value(argc, argv, &i, "console-socket", NULL, &missing)))
			o->console_socket = v;
		else if (missing)
			return oci_error("option %s needs a value", argv[i]);
		else if (!strcmp(argv[i], "--detach") || !strcmp(argv[i], "-d"))
			o->detach = true;
		else if (!strcmp(argv[i], "--tty") || !strcmp(argv[i], "-t"))
			o->tty = true;
		else
			return oci_error("exec: unknown option %s", argv[i]);
	}
	if (i >= argc)
		return oci_error("exec needs a container id (exec --process FILE ID)");
	o->id = argv[i];
	if (!o->process)
		return oci_error("exec needs --process FILE (a command after the id is not "
				 "supported yet)");
	if (i + 1 != argc)
		return oci_error("exec: unexpected argument '%.64s' after the id", argv[i + 1]);
	return 0;
}

/* Signals for the guest's process, read from a signalfd. */
static int block_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

	return oci_signalfd(sigs, sizeof(sigs) / sizeof(sigs[0]));
}

/* Waits for "exit N" and forwards signals: the guest process's status. */
static int wait_exit(int sock, int sfd)
{
	struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
	struct signalfd_siginfo si;
	char buf[128];
	int code;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return oci_error("exec: poll: %s", strerror(errno)), 125;
		}
		while (p[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			snprintf(buf, sizeof(buf), "signal %u", si.ssi_signo);
			oci_send(sock, buf, strlen(buf), NULL, 0);
		}
		if (!p[0].revents)
			continue;
		ssize_t n = oci_recv(sock, buf, sizeof(buf), NULL, NULL);
		if (n == -EAGAIN)
			continue; /* the receive timeout: a long-running process */
		if (n > 0 && sscanf(buf, "exit %d", &code) == 1 && code >= 0 && code <= 255)
			return code;
		oci_error("exec: the container's supervisor went away");
		return 125;
	}
}

/* Sends the request; 0 once the process runs, else the status. */
static int send_exec(int dirfd, const char *json, size_t len, const struct exec_opts *o)
{
	int fds[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO }, master = -1, slave = -1;
	char *msg = malloc(len + 6), reply[1024];
	const char *id = o->id;
	int sock = oci_connect(dirfd), ret;
	ssize_t n;

	if (sock < 0) {
		free(msg);
		return oci_error("cannot exec in a stopped container: %s", id);
	}
	if (!msg) {
		close(sock);
		return oci_error("out of memory");
	}
	if (o->console_socket && (ret = oci_console_open(&master, &slave))) {
		free(msg);
		close(sock);
		return oci_error("cannot allocate a terminal: %s", strerror(-ret));
	}
	if (slave >= 0)
		fds[0] = fds[1] = fds[2] = slave;
	memcpy(msg, "exec\n", 5);
	memcpy(msg + 5, json, len + 1);
	ret = oci_send(sock, msg, len + 5, fds, 3);
	free(msg);
	if (slave >= 0)
		close(slave);
	n = ret ? ret : oci_recv(sock, reply, sizeof(reply), NULL, NULL);
	if (n > 0 && !strncmp(reply, "ok", 2) && master >= 0 &&
	    (ret = oci_console_send(o->console_socket, master))) {
		/* Without its terminal's master the process is the shim's no more. */
		close(master);
		close(sock);
		return oci_error("--console-socket %s: %s", o->console_socket, strerror(-ret));
	}
	if (master >= 0)
		close(master);
	if (n <= 0) {
		close(sock);
		return oci_error("exec in %s: %s", id, n ? strerror((int)-n) : "no reply");
	}
	if (strncmp(reply, "ok", 2)) {
		close(sock);
		return oci_error("exec in %s: %s", id, !strncmp(reply, "err ", 4) ? reply + 4 : reply);
	}
	/* The guest has our stdio now: hold no copy that would keep a pipe open. */
	oci_stdio_to_null();
	oci_log_quiet_stderr();
	return -sock; /* negative: the connected socket, negated */
}

int oci_cmd_exec(const struct oci_globals *g, int argc, char **argv)
{
	struct exec_opts o = { 0 };
	struct oci_process proc;
	char *json, err[512];
	size_t len;
	int ret, dirfd, sfd, ready[2];
	pid_t pid;

	if ((ret = exec_args(argc, argv, &o)))
		return ret;
	if (oci_id_check(o.id))
		return oci_error("invalid container id '%.64s'", o.id);
	ret = oci_read_file(o.process, OCI_MAX_PROCESS_BYTES, &json, &len);
	if (ret)
		return oci_error("--process %s: %s", o.process,
				 ret == -EFBIG ? "larger than 128 KiB" : strerror(-ret));
	/* Refused here already, with the same words the supervisor would use. */
	if (oci_process_parse(json, len, &proc, err, sizeof(err))) {
		free(json);
		return oci_error("%s", err);
	}
	/* runc's words; -t is what process.json's terminal says already. */
	if (proc.terminal && !o.console_socket) {
		oci_process_free(&proc);
		free(json);
		return oci_error("cannot allocate tty if runc will detach without setting console "
				 "socket");
	}
	if (!proc.terminal && o.console_socket) {
		oci_process_free(&proc);
		free(json);
		return oci_error("cannot use console socket if runc will not detach or allocate tty");
	}
	oci_process_free(&proc);
	dirfd = oci_state_dir_open(g->root, o.id);
	if (dirfd < 0) {
		free(json);
		return oci_error("container %s does not exist", o.id);
	}
	sfd = block_signals();
	if (!o.detach) {
		if (o.pid_file && (ret = oci_write_pid_file(o.pid_file, getpid())))
			return oci_error("--pid-file %s: %s", o.pid_file, strerror(-ret));
		ret = send_exec(dirfd, json, len, &o);
		free(json);
		return ret >= 0 ? ret : wait_exit(-ret, sfd);
	}
	if (pipe2(ready, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		return oci_error("exec: %s", strerror(errno));
	if (pid == 0) {
		char ok = 1;
		close(ready[0]);
		ret = send_exec(dirfd, json, len, &o);
		if (ret >= 0)
			_exit(ret ? 1 : 0);
		if (write(ready[1], &ok, 1) != 1)
			_exit(125);
		close(ready[1]);
		_exit(wait_exit(-ret, sfd));
	}
	close(ready[1]);
	free(json);
	char c;
	ssize_t n;
	while ((n = read(ready[0], &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1) {
		int status;
		waitpid(pid, &status, 0);
		return 1; /* the child said why */
	}
	if (o.pid_file && (ret = oci_write_pid_file(o.pid_file, pid))) {
		kill(pid, SIGKILL);
		return oci_error("--pid-file %s: %s", o.pid_file, strerror(-ret));
	}
	return 0;
}
