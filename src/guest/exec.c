// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The child side of the fork: everything between fork and execve.  Errors
 * travel back to init over a close-on-exec pipe, because the child's exit
 * status is the command's and cannot tell init's failures apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "init.h"

/*
 * execvp(3) with the *command's* PATH rather than init's, reporting the
 * errno a shell would base 126/127 on: EACCES if any candidate was found
 * but not executable, else ENOENT.
 */
int exec_search(char **argv, char **envp)
{
	const char *file = argv[0], *path = DEFAULT_PATH;
	bool eacces = false;
	char buf[PATH_MAX];

	if (!*file)
		return ENOENT;
	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return errno;
	}
	for (char **e = envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	for (const char *p = path;; p++) {
		const char *colon = strchrnul(p, ':');
		size_t dl = (size_t)(colon - p);
		int n;

		/* An empty element means the current directory. */
		n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)dl, p, dl ? "/" : "", file);
		if (n > 0 && (size_t)n < sizeof(buf)) {
			execve(buf, argv, envp);
			switch (errno) {
			case EACCES:
				eacces = true;
				break;
			case ENOENT:
			case ENOTDIR:
			case ENAMETOOLONG:
			case ELOOP:
			case ESTALE:
				break;
			default:
				return errno;
			}
		}
		p = colon;
		if (!*p)
			break;
	}
	return eacces ? EACCES : ENOENT;
}

void child_fail(int errfd, enum child_stage stage, int err)
{
	int msg[2] = { stage, err };

	if (write(errfd, msg, sizeof(msg)) < 0) {
		/* the parent will see a bare exit status */
	}
	_exit(127);
}

/*
 * In the child: become a session leader, wire up stdio and exec.
 * Pipe mode: stdin is `in_fd` (the relay pipe), stdout/stderr the console,
 * opened afresh (blocking, and no controlling tty: see control_proto.h).
 * TTY mode: `in_fd` is a pty slave that becomes the controlling terminal
 * and all of stdio; init copies between its master and the console.
 */
__attribute__((noreturn))
void child_run(struct command *cmd, int errfd, int in_fd, const char *stderr_port)
{
	bool tty = cmd->stdio & ALCATRAZ_CTL_STDIO_TTY;
	sigset_t none;
	int out, errout;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (setsid() < 0)
		child_fail(errfd, STAGE_SETUP, errno);
	if (tty) {
		if (ioctl(in_fd, TIOCSCTTY, 0) < 0)
			child_fail(errfd, STAGE_SETUP, errno);
		out = in_fd;
	} else {
		out = open(g.console, O_RDWR | O_NOCTTY);
		if (out < 0)
			child_fail(errfd, STAGE_SETUP, errno);
	}
	errout = out;
	if (stderr_port) {
		errout = open(stderr_port, O_WRONLY | O_NOCTTY);
		if (errout < 0)
			errout = out;
	}
	if (dup2(in_fd, 0) < 0 || dup2(out, 1) < 0 || dup2(errout, 2) < 0)
		child_fail(errfd, STAGE_SETUP, errno);
	if (errout > 2 && errout != out)
		close(errout);
	if (out > 2 && out != in_fd)
		close(out);
	if (in_fd > 2)
		close(in_fd);
	if (cmd->workdir && chdir(cmd->workdir) < 0)
		child_fail(errfd, STAGE_SETUP, errno);
	child_fail(errfd, STAGE_EXEC, exec_search(cmd->argv, cmd->envp));
	__builtin_unreachable();
}
