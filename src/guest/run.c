// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Running the command: stdio wiring, fork, and the loop that reaps every
 * process, forwards the host's records and drives the relays until the
 * command's own process has exited.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "init.h"

/* Translate a wait status into a STATUS record. */
static void status_of(int wst, uint32_t *kind, int32_t *value)
{
	if (WIFSIGNALED(wst)) {
		*kind = ALCATRAZ_CTL_ST_SIGNALED;
		*value = WTERMSIG(wst);
	} else {
		*kind = ALCATRAZ_CTL_ST_EXITED;
		*value = WEXITSTATUS(wst);
	}
}

/* A pty pair without glibc's grantpt (which may consult NSS). */
static int open_pty(int *master, int *slave)
{
	int unlock = 0;

	*master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (*master < 0)
		return -errno;
	if (ioctl(*master, TIOCSPTLCK, &unlock) < 0)
		goto fail;
	*slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		goto fail;
	return 0;
fail:
	unlock = -errno;
	close(*master);
	return unlock;
}

/*
 * Run the command and wait for it, reaping every other process on the
 * way.  Returns the STATUS kind/value.
 */
void run_command(struct command *cmd, uint32_t *kind, int32_t *value)
{
	bool tty = cmd->stdio & ALCATRAZ_CTL_STDIO_TTY;
	static char stderr_port[PATH_MAX];
	static struct pump in, out;
	const char *port = NULL;
	static struct ctl_in cin;
	int errpipe[2], child_in = -1, dest = -1, master = -1, cons, sfd = -1, msg[2], r;
	struct pump *pumps[2] = { &in, NULL };
	sigset_t mask;
	pid_t child;
	ssize_t n;
	bool alive = true;

	*kind = ALCATRAZ_CTL_ST_INIT_ERROR;
	*value = 0;
	cin.open = g.ctl >= 0;

	cons = open(g.console, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (cons < 0) {
		*value = errno;
		klog(3, "opening console %s: %s", g.console, strerror(errno));
		return;
	}
	if (isatty(cons)) {
		struct termios t;

		/* Byte-exact in both directions: no echo, no CR/LF rewriting,
		 * no signal characters.  In tty mode the pty does the cooking. */
		if (tcgetattr(cons, &t) == 0) {
			cfmakeraw(&t);
			t.c_cc[VMIN] = 1;
			t.c_cc[VTIME] = 0;
			tcsetattr(cons, TCSANOW, &t);
		}
	}
	if ((cmd->stdio & ALCATRAZ_CTL_STDIO_STDERR_PORT) &&
	    find_stderr_port(stderr_port, ANNOUNCED_WAIT_MS))
		port = stderr_port;

	if (tty) {
		r = open_pty(&master, &child_in);
		if (r) {
			*value = -r;
			klog(3, "allocating a pty: %s", strerror(-r));
			goto out;
		}
		dest = master;
		out = (struct pump){ .in = master, .out = cons, .reading = true };
		pumps[1] = &out;
	} else {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0) {
			*value = errno;
			goto out;
		}
		child_in = p[0];
		dest = p[1];
		fcntl(dest, F_SETFL, O_NONBLOCK);
	}
	in = (struct pump){ .in = cons, .out = dest, .reading = true, .close_out = !tty };
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		*value = errno;
		goto out;
	}

	dbg("starting %s (%zu args, %zu env) on %s, %s mode", cmd->argv[0], cmd->argc,
	    cmd->envc, g.console, tty ? "tty" : "pipe");
	send_event(ALCATRAZ_CTL_EV_CMD_START, now_ns());
	child = fork();
	if (child < 0) {
		*value = errno;
		close(errpipe[0]);
		close(errpipe[1]);
		goto out;
	}
	if (child == 0)
		child_run(cmd, errpipe[1], child_in, port);
	close(errpipe[1]);
	close(child_in);
	child_in = -1;

	/* EOF means execve succeeded (the pipe is close-on-exec). */
	do
		n = read(errpipe[0], msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n == (ssize_t)sizeof(msg)) {
		int wst;

		while (waitpid(child, &wst, 0) < 0 && errno == EINTR)
			;
		*kind = msg[0] == STAGE_EXEC ? ALCATRAZ_CTL_ST_EXEC_FAILED :
					       ALCATRAZ_CTL_ST_INIT_ERROR;
		*value = msg[1];
		klog(6, "%s %s: %s", msg[0] == STAGE_EXEC ? "exec" : "setting up",
		     cmd->argv[0], strerror(msg[1]));
		goto out;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		klog(3, "signalfd: %s", strerror(errno));
		*value = errno;
		goto out;
	}
	if (g.ctl >= 0)
		fcntl(g.ctl, F_SETFL, fcntl(g.ctl, F_GETFL) | O_NONBLOCK);

	while (alive) {
		struct pollfd pfd[6 + 3 * ALCATRAZ_CTL_MAX_EXECS];
		int np = 0, i_sig, i_ctl = -1, idx[2][2] = { { -1, -1 }, { -1, -1 } };

		pfd[np] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		i_sig = np++;
		if (cin.open) {
			pfd[np] = (struct pollfd){ .fd = g.ctl,
						   .events = POLLIN | (ctl_queue_pending() ? POLLOUT : 0) };
			i_ctl = np++;
		}
		for (int k = 0; k < 2; k++) {
			struct pump *p = pumps[k];

			if (!p)
				continue;
			if (p->reading && p->len == 0) {
				pfd[np] = (struct pollfd){ .fd = p->in, .events = POLLIN };
				idx[k][0] = np++;
			}
			if (p->out >= 0 && p->len > 0) {
				pfd[np] = (struct pollfd){ .fd = p->out, .events = POLLOUT };
				idx[k][1] = np++;
			}
		}
		np = execs_add_pollfds(pfd, np, (int)(sizeof(pfd) / sizeof(pfd[0])));
		if (poll(pfd, (nfds_t)np, execs_timeout_ms()) < 0) {
			if (errno == EINTR)
				continue;
			klog(3, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[i_sig].revents) {
			struct signalfd_siginfo si;
			int wst;
			pid_t pid;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			while ((pid = waitpid(-1, &wst, WNOHANG)) > 0) {
				dbg("reaped %d, status 0x%x", (int)pid, wst);
				if (pid == child) {
					status_of(wst, kind, value);
					alive = false;
				} else {
					(void)execs_reaped(pid, wst);
				}
			}
		}
		if (i_ctl >= 0 && (pfd[i_ctl].revents & ~POLLOUT))
			handle_post_end(&cin, &in, child, alive, master);
		execs_handle(pfd);
		ctl_queue_flush(false);
		for (int k = 0; k < 2; k++) {
			if (idx[k][0] >= 0 && pfd[idx[k][0]].revents)
				pump_read(pumps[k]);
			if (idx[k][1] >= 0 && pfd[idx[k][1]].revents)
				pump_write(pumps[k]);
		}
	}
	/*
	 * Whatever the command wrote to the pty before exiting is still in
	 * the pty; background processes may keep it open, so only take what
	 * is there now.
	 */
	if (tty)
		pump_drain(&out, 1000);
out:
	if (sfd >= 0)
		close(sfd);
	if (child_in >= 0)
		close(child_in);
	if (in.close_out)
		pump_done_out(&in);
	if (master >= 0)
		close(master);
	close(cons);
}
