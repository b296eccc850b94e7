// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A container's supervisor: the process create forks and whose pid goes
 * to --pid-file. It lives exactly as long as the container's process and
 * exits with its status (128+n for signal n), which is what the shim waits
 * for; fds 0-2 it inherited from create are the container's stdio.
 *
 * The VM boots at create, with a main command that only waits (the static
 * alcatraz-oci-pause, shared read-only at /.alcatraz-oci: an image need not
 * hold a shell). start runs the container's process as an exec of that
 * VM, so that kill reaches its process group with any signal
 * (alcatraz_vm_exec_kill); SIGKILL ends the VM. Further execs run beside
 * it, each answered on its own connection by a thread of its own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#include "oci.h"
#include "oci_paths.h"

#define MAX_EXECS 16
#define EXEC_POLL_MS 100
#define REQUEST_TIMEOUT_S 2
#define FREEZE_WAIT_MS 10000

enum status { ST_CREATED, ST_RUNNING, ST_STOPPED, ST_PAUSED };
static const char *const status_names[] = { "created", "running", "stopped", "paused" };

/* An exec's connection, owned by its thread; the table keeps it for kill --all. */
struct exec_slot {
	int idx;
	uint32_t id; /* UINT32_MAX until it runs */
	int conn, fds[3];
	char json[];
};

static struct {
	struct alcatraz_vm *vm;
	struct oci_spec *spec;
	pthread_mutex_t lock;
	pthread_cond_t execs_done;
	enum status status;
	uint32_t main_id;
	int main_code;     /* -1 until the main process ended */
	bool main_lost;    /* the VM ended before the main process reported */
	int kill_sig;      /* the signal our kill ended the VM with, or 0 */
	int event[2];      /* the main waiter's "ended" */
	int tty_fd;        /* the terminal's slave, or -1: fds 0-2 */
	char cgroup[OCI_MAX_PATH]; /* the VMM's cgroup directory, or "" */
	int vmm_pid;               /* the VMM's pid here, or 0 */
	struct exec_slot *execs[MAX_EXECS];
	int nexecs;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER, .execs_done = PTHREAD_COND_INITIALIZER,
	.main_code = -1, .event = { -1, -1 }, .tty_fd = -1 };

int oci_helper_dir(char *buf, size_t len)
{
	const char *env = secure_getenv("ALCATRAZ_OCI_HELPER_DIR");
	char pause[OCI_MAX_PATH + 64];

	snprintf(buf, len, "%s", env && *env ? env : OCI_HELPER_DIR);
	snprintf(pause, sizeof(pause), "%s/" OCI_PAUSE_NAME, buf);
	return access(pause, X_OK) < 0 ? -errno : 0;
}

static void reply(int conn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(int conn, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(msg))
		n = sizeof(msg) - 1;
	oci_send(conn, msg, (size_t)n, NULL, 0);
}

/* ---- the VMM's process and cgroup: pause, resume, ps, update ---- */

/* The VMM's pid (its pidfd's fdinfo) and the cgroup of its own the
 * library puts it in (/proc/PID/cgroup). */
static void find_cgroup(void)
{
	char path[64], line[OCI_MAX_PATH];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", alcatraz_vm_fd(S.vm));
	if ((f = fopen(path, "re"))) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Pid: %d", &pid) == 1)
				break;
		fclose(f);
	}
	if (pid <= 0)
		return;
	S.vmm_pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if ((f = fopen(path, "re"))) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "0::/", 4)) {
				line[strcspn(line, "\n")] = '\0';
				/* the root cgroup is everyone's: never freeze it */
				if (strcmp(line + 3, "/") &&
				    strlen(line + 3) < sizeof(S.cgroup) - sizeof(OCI_CGROUP2_MOUNT))
					snprintf(S.cgroup, sizeof(S.cgroup), "%s%.*s", OCI_CGROUP2_MOUNT,
						 (int)(sizeof(S.cgroup) - sizeof(OCI_CGROUP2_MOUNT)),
						 line + 3);
			}
		fclose(f);
	}
}

/* True when every thread of the VMM is (stop) or is not. */
static bool all_threads(bool stopped)
{
	char path[64], buf[512];
	struct dirent *d;
	DIR *dir;
	bool all = true;

	snprintf(path, sizeof(path), "/proc/%d/task", S.vmm_pid);
	if (!(dir = opendir(path)))
		return false;
	while (all && (d = readdir(dir))) {
		char *st;
		ssize_t n;
		int fd;
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", S.vmm_pid, d->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue; /* a thread that ended */
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		/* "TID (COMM) STATE ...": COMM may hold anything, the last ')' ends it */
		if (!(st = strrchr(buf, ')')) || !st[1] || !st[2])
			continue;
		all = (st[2] == 'T' || st[2] == 't') == stopped;
	}
	closedir(dir);
	return all;
}

/*
 * pause stops the VMM, every vCPU and device thread, with SIGSTOP, and
 * resume continues it. Not the cgroup freezer runc uses: KVM's
 * kvm-nx-lpage-recovery kernel thread is put in the cgroup of the process
 * that made the VM, and a kernel thread never freezes, so the VMM's cgroup
 * never reports frozen (Linux 6.1). The signal goes through the pidfd, so
 * it reaches this VMM or nothing.
 */
static int freeze(bool on)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };

	if (S.vmm_pid <= 0)
		return -ENOTSUP;
	if (syscall(SYS_pidfd_send_signal, alcatraz_vm_fd(S.vm), on ? SIGSTOP : SIGCONT, NULL,
		    0) < 0)
		return -errno;
	for (int i = 0; i < FREEZE_WAIT_MS / 10; i++) {
		if (all_threads(on))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

static void do_pause(int conn, bool pause)
{
	int ret;

	pthread_mutex_lock(&S.lock);
	enum status st = S.status;
	if (pause ? st != ST_RUNNING : st != ST_PAUSED) {
		pthread_mutex_unlock(&S.lock);
		return reply(conn, "err %s", pause ? "container not running" : "container not paused");
	}
	ret = freeze(pause);
	if (!ret)
		S.status = pause ? ST_PAUSED : ST_RUNNING;
	else if (pause)
		freeze(false);
	pthread_mutex_unlock(&S.lock);
	if (ret == -ENOTSUP)
		return reply(conn, "err the VMM's process is not known");
	if (ret)
		return reply(conn, "err %s: %s", pause ? "pause" : "resume", strerror(-ret));
	oci_info("container %s", pause ? "paused" : "resumed");
	reply(conn, "ok");
}

/* The status the pid-file process exits with, once the VM has ended. */
static int end_code(void)
{
	struct alcatraz_result res;

	if (S.main_code >= 0)
		return S.main_code;
	if (S.kill_sig)
		return 128 + S.kill_sig;
	if (alcatraz_vm_wait(S.vm, 0) == 0 && alcatraz_vm_result(S.vm, &res) == 0) {
		oci_error("the VM ended before the container's process: %s%s%s",
			  alcatraz_exit_kind_name(res.kind), res.message[0] ? ": " : "", res.message);
		return res.kind == ALCATRAZ_EXIT_KILLED ? 137 : 125;
	}
	return 125;
}

static void __attribute__((noreturn)) finish(int dirfd)
{
	int code;

	pthread_mutex_lock(&S.lock);
	S.status = ST_STOPPED;
	pthread_mutex_unlock(&S.lock);
	alcatraz_vm_kill(S.vm);
	alcatraz_vm_wait(S.vm, -1);
	code = end_code();
	/* Every exec sees the VM gone (-ESRCH) and reports; then the handle
	 * has no other user. */
	pthread_mutex_lock(&S.lock);
	while (S.nexecs)
		pthread_cond_wait(&S.execs_done, &S.lock);
	pthread_mutex_unlock(&S.lock);
	alcatraz_vm_destroy(S.vm);
	unlinkat(dirfd, OCI_SOCK_NAME, 0);
	oci_info("container stopped: status %d", code);
	_exit(code);
}

/* ---- terminals ---- */

/*
 * A terminal's later size (the shim's ResizePty, Docker's window change:
 * TIOCSWINSZ on the master it got) is read from the slave every
 * EXEC_POLL_MS while the process runs, and a new one goes to the guest.
 * Polled rather than waited for as SIGWINCH: the kernel sends that only to
 * the foreground process group of the session whose controlling terminal
 * the pty is, a session has one, and this process serves the container's
 * terminal and every exec's; it would take a process per terminal, where
 * the threads that wait for the processes already wake that often.
 */
struct tty_watch {
	int fd;                   /* the slave (ours), or -1 */
	unsigned int rows, cols;  /* what the guest has */
};

static void tty_watch_check(struct tty_watch *w, uint32_t id)
{
	struct winsize ws;

	if (w->fd < 0 || ioctl(w->fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col ||
	    (ws.ws_row == w->rows && ws.ws_col == w->cols))
		return;
	/* Tried once per size: a process that ended has no terminal to resize. */
	w->rows = ws.ws_row;
	w->cols = ws.ws_col;
	int ret = alcatraz_vm_exec_resize(S.vm, id, w->rows, w->cols);
	if (ret && ret != -ESRCH)
		oci_warn("terminal size %ux%u: %s", w->rows, w->cols, alcatraz_strerror(ret));
}

/* alcatraz_vm_exec_wait, with the terminal's size watched meanwhile. */
static int wait_watching(uint32_t id, struct tty_watch *w, int *code)
{
	int ret;

	if (w->fd < 0)
		return alcatraz_vm_exec_wait(S.vm, id, -1, code);
	while ((ret = alcatraz_vm_exec_wait(S.vm, id, EXEC_POLL_MS, code)) == -ETIMEDOUT)
		tty_watch_check(w, id);
	return ret;
}

/* ---- the container's process ---- */

static void *main_waiter(void *arg)
{
	struct tty_watch w = { .fd = S.tty_fd, .rows = S.spec->process.rows,
			       .cols = S.spec->process.cols };
	int code = 0, ret = wait_watching(S.main_id, &w, &code);
	char c = 1;

	pthread_mutex_lock(&S.lock);
	if (ret == 0)
		S.main_code = code;
	else
		S.main_lost = true;
	pthread_mutex_unlock(&S.lock);
	if (write(S.event[1], &c, 1) < 0)
		oci_warn("waking the supervisor: %s", strerror(errno));
	return arg;
}

static int start_main(char *err, size_t len)
{
	const struct oci_process *p = &S.spec->process;
	char **argv = oci_launch_argv(p, S.spec->hostname);
	struct alcatraz_exec ex = {
		.argv = (const char *const *)argv, .envp = (const char *const *)p->env,
		.workdir = p->cwd, .in_fd = S.tty_fd >= 0 ? S.tty_fd : STDIN_FILENO,
		.out_fd = S.tty_fd >= 0 ? S.tty_fd : STDOUT_FILENO,
		.err_fd = S.tty_fd >= 0 ? S.tty_fd : STDERR_FILENO,
	};
	pthread_t th;
	int ret = argv ? alcatraz_vm_exec(S.vm, &ex, &S.main_id) : -ENOMEM;

	if (argv != p->args)
		free(argv);
	if (ret) {
		snprintf(err, len, "cannot start the container's process: %s", alcatraz_strerror(ret));
		return ret;
	}
	if ((ret = pthread_create(&th, NULL, main_waiter, NULL))) {
		snprintf(err, len, "cannot wait for the container's process: %s", strerror(ret));
		alcatraz_vm_kill(S.vm);
		return -ret;
	}
	pthread_detach(th);
	return 0;
}

/* Signals that do nothing to a process that is not running yet. */
static bool harmless(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

static void do_kill(int conn, int sig, bool all)
{
	pthread_mutex_lock(&S.lock);
	enum status st = S.status;
	if (st == ST_STOPPED) {
		pthread_mutex_unlock(&S.lock);
		return reply(conn, "err container not running");
	}
	if (sig == SIGKILL || (st == ST_CREATED && !harmless(sig))) {
		/* The VM is the container: its end is the process's. */
		S.kill_sig = sig;
		pthread_mutex_unlock(&S.lock);
		alcatraz_vm_kill(S.vm);
		/* A stopped VMM reads no request: SIGKILL is what ends it. */
		if (st == ST_PAUSED)
			syscall(SYS_pidfd_send_signal, alcatraz_vm_fd(S.vm), SIGKILL, NULL, 0);
		return reply(conn, "ok");
	}
	if (st == ST_CREATED) {
		pthread_mutex_unlock(&S.lock);
		return reply(conn, "ok");
	}
	if (st == ST_PAUSED) {
		/* A frozen VMM answers nothing but SIGKILL. */
		pthread_mutex_unlock(&S.lock);
		return reply(conn, "err container paused: only KILL reaches it until it is resumed");
	}
	int ret = alcatraz_vm_exec_kill(S.vm, S.main_id, sig);
	if (all)
		for (int i = 0; i < MAX_EXECS; i++)
			if (S.execs[i] && S.execs[i]->id != UINT32_MAX)
				alcatraz_vm_exec_kill(S.vm, S.execs[i]->id, sig);
	pthread_mutex_unlock(&S.lock);
	if (ret == -ESRCH)
		return reply(conn, "err no such process");
	if (ret)
		return reply(conn, "err kill: %s", alcatraz_strerror(ret));
	reply(conn, "ok");
}

static void do_start(int conn)
{
	char err[256];

	pthread_mutex_lock(&S.lock);
	enum status st = S.status;
	pthread_mutex_unlock(&S.lock);
	if (st == ST_RUNNING || st == ST_PAUSED)
		return reply(conn, "err cannot start an already running container");
	if (st == ST_STOPPED)
		return reply(conn, "err cannot start a container that has stopped");
	if (start_main(err, sizeof(err)))
		return reply(conn, "err %s", err);
	pthread_mutex_lock(&S.lock);
	S.status = ST_RUNNING;
	pthread_mutex_unlock(&S.lock);
	oci_info("container started");
	reply(conn, "ok");
}

/* ---- execs ---- */

static void exec_end(struct exec_slot *e)
{
	close(e->conn);
	pthread_mutex_lock(&S.lock);
	S.execs[e->idx] = NULL;
	if (--S.nexecs == 0)
		pthread_cond_broadcast(&S.execs_done);
	pthread_mutex_unlock(&S.lock);
	free(e);
}

/* The client's "signal N" messages; its end (a SIGKILLed exec process) kills. */
static void exec_forward(struct exec_slot *e, bool *eof)
{
	struct pollfd pfd = { .fd = e->conn, .events = POLLIN };
	char buf[64];
	ssize_t n;

	while (!*eof && poll(&pfd, 1, 0) == 1) {
		n = oci_recv(e->conn, buf, sizeof(buf), NULL, NULL);
		if (n <= 0) {
			*eof = true;
			alcatraz_vm_exec_kill(S.vm, e->id, SIGKILL);
			return;
		}
		int sig = strncmp(buf, "signal ", 7) ? -1 : oci_signal_parse(buf + 7);
		if (sig > 0)
			alcatraz_vm_exec_kill(S.vm, e->id, sig);
	}
}

static void *exec_thread(void *arg)
{
	struct exec_slot *e = arg;
	struct oci_process proc;
	struct tty_watch w = { .fd = -1 };
	char err[512];
	bool eof = false;
	uint32_t id;
	int code = 0, ret;

	if (oci_process_parse(e->json, strlen(e->json), &proc, err, sizeof(err))) {
		for (int i = 0; i < 3; i++)
			close(e->fds[i]);
		reply(e->conn, "err %s", err);
		goto out;
	}
	/* The hostname is the VM's, set once by the container's process. */
	char **argv = oci_launch_argv(&proc, NULL);
	struct alcatraz_exec ex = {
		.argv = (const char *const *)argv, .envp = (const char *const *)proc.env,
		.workdir = proc.cwd, .in_fd = e->fds[0], .out_fd = e->fds[1], .err_fd = e->fds[2],
	};
	/* A terminal's slave is kept to read its size from. */
	if (proc.terminal && isatty(e->fds[0])) {
		w = (struct tty_watch){ .fd = fcntl(e->fds[0], F_DUPFD_CLOEXEC, 3),
					.rows = proc.rows, .cols = proc.cols };
	}
	ret = argv ? alcatraz_vm_exec(S.vm, &ex, &id) : -ENOMEM;
	if (argv != proc.args)
		free(argv);
	for (int i = 0; i < 3; i++)
		close(e->fds[i]);
	oci_process_free(&proc);
	if (ret) {
		reply(e->conn, "err cannot exec: %s", alcatraz_strerror(ret));
		goto out;
	}
	pthread_mutex_lock(&S.lock);
	e->id = id;
	pthread_mutex_unlock(&S.lock);
	reply(e->conn, "ok %u", id);
	while ((ret = alcatraz_vm_exec_wait(S.vm, id, EXEC_POLL_MS, &code)) == -ETIMEDOUT) {
		exec_forward(e, &eof);
		tty_watch_check(&w, id);
	}
	if (ret)
		code = ret == -ESRCH ? 137 : 125;
	reply(e->conn, "exit %d", code);
out:
	if (w.fd >= 0)
		close(w.fd);
	exec_end(e);
	return NULL;
}

/* Takes conn and fds whatever happens. */
static void do_exec(int conn, const char *json, const int *fds)
{
	size_t len = strlen(json);
	struct exec_slot *e = malloc(sizeof(*e) + len + 1);
	pthread_t th;
	int slot = -1;

	pthread_mutex_lock(&S.lock);
	enum status st = S.status;
	if (e && st != ST_STOPPED && st != ST_PAUSED)
		for (int i = 0; i < MAX_EXECS && slot < 0; i++)
			if (!S.execs[i])
				slot = i;
	if (slot >= 0) {
		*e = (struct exec_slot){ .idx = slot, .id = UINT32_MAX, .conn = conn };
		memcpy(e->fds, fds, sizeof(e->fds));
		memcpy(e->json, json, len + 1);
		S.execs[slot] = e;
		S.nexecs++;
	}
	pthread_mutex_unlock(&S.lock);
	if (slot >= 0 && pthread_create(&th, NULL, exec_thread, e) == 0) {
		pthread_detach(th);
		return;
	}
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	if (st == ST_STOPPED)
		reply(conn, "err cannot exec in a stopped container");
	else if (st == ST_PAUSED)
		reply(conn, "err cannot exec in a paused state");
	else if (slot < 0 && e)
		reply(conn, "err %d execs run already", MAX_EXECS);
	else
		reply(conn, "err cannot exec: out of resources");
	if (slot >= 0) {
		exec_end(e); /* closes conn */
		return;
	}
	free(e);
	close(conn);
}

/* ---- requests ---- */

static bool peer_allowed(int conn)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	return cr.uid == 0 || cr.uid == getuid();
}

static void handle(int lsock)
{
	struct timeval tv = { .tv_sec = REQUEST_TIMEOUT_S };
	static char buf[OCI_MSG_MAX];
	int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC), fds[3], nfds = 0, sig;
	ssize_t n;

	if (conn < 0)
		return;
	/* A client that connects and says nothing must not stall the others. */
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!peer_allowed(conn)) {
		close(conn);
		return;
	}
	n = oci_recv(conn, buf, sizeof(buf), fds, &nfds);
	if (n > 0 && !strncmp(buf, "exec\n", 5) && nfds == 3)
		return do_exec(conn, buf + 5, fds);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (n <= 0)
		;
	else if (!strcmp(buf, "state"))
		reply(conn, "ok %s", status_names[S.status]);
	else if (!strcmp(buf, "start"))
		do_start(conn);
	else if (!strcmp(buf, "pause") || !strcmp(buf, "resume"))
		do_pause(conn, !strcmp(buf, "pause"));
	else if (!strcmp(buf, "cgroup"))
		S.cgroup[0] ? reply(conn, "ok %s", S.cgroup)
			    : reply(conn, "err the VM has no cgroup of its own");
	else if (!strncmp(buf, "kill ", 5) && (sig = oci_signal_parse(buf + 5)) > 0)
		do_kill(conn, sig, false);
	else if (!strncmp(buf, "killall ", 8) && (sig = oci_signal_parse(buf + 8)) > 0)
		do_kill(conn, sig, true);
	else
		reply(conn, "err malformed request");
	close(conn);
}

static int listen_on(int dirfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (s < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" OCI_SOCK_NAME, dirfd);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 16) < 0) {
		int err = -errno;
		close(s);
		return err;
	}
	return s;
}

/* Signals sent to the pid-file process go to the container's process. */
static int forward_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

	return oci_signalfd(sigs, sizeof(sigs) / sizeof(sigs[0]));
}

static void on_signal(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		pthread_mutex_lock(&S.lock);
		if (S.status == ST_RUNNING)
			alcatraz_vm_exec_kill(S.vm, S.main_id, (int)si.ssi_signo);
		else if (S.status == ST_CREATED) {
			S.kill_sig = (int)si.ssi_signo;
			alcatraz_vm_kill(S.vm);
		}
		pthread_mutex_unlock(&S.lock);
	}
}

static void __attribute__((noreturn)) serve(int dirfd, int lsock, int sfd)
{
	struct pollfd p[4] = {
		{ .fd = lsock, .events = POLLIN }, { .fd = S.event[0], .events = POLLIN },
		{ .fd = alcatraz_vm_fd(S.vm), .events = POLLIN }, { .fd = sfd, .events = POLLIN },
	};

	for (;;) {
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			oci_error("supervisor: poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents)
			break; /* the container's process ended */
		if (p[2].revents) {
			/* The VM ended: once started, the waiter reports it too. */
			pthread_mutex_lock(&S.lock);
			bool started = S.status == ST_RUNNING || S.status == ST_PAUSED;
			pthread_mutex_unlock(&S.lock);
			if (!started)
				break;
			p[2].fd = -1;
		}
		if (p[3].revents)
			on_signal(sfd);
		if (p[0].revents)
			handle(lsock);
	}
	close(lsock);
	finish(dirfd);
}

/*
 * The network namespace config.json asks for, entered before this process
 * has a thread or a child, so that passt (started by the library for the
 * VM) and everything else it starts are born in it: the namespace of the
 * entry's path, or, for an entry without one, a new, empty namespace as
 * runc would make (so that a container joining /proc/PID/ns/net of this
 * pid-file process gets no more network than under runc). Without root an
 * empty one cannot be made, nor this process's namespace joined by others.
 */
static int join_netns(const struct oci_spec *spec, int netns_fd, char *err, size_t len)
{
	if (netns_fd >= 0) {
		int ret = setns(netns_fd, CLONE_NEWNET);
		int e = errno;
		close(netns_fd);
		if (ret < 0) {
			snprintf(err, len, "cannot join the network namespace %s: %s",
				 spec->netns_path, strerror(e));
			return -e;
		}
		return 0;
	}
	if (spec->netns_new && unshare(CLONE_NEWNET) < 0 && !(errno == EPERM && geteuid() != 0)) {
		int e = errno;
		snprintf(err, len, "cannot make a network namespace: %s", strerror(e));
		return -e;
	}
	return 0;
}

void oci_supervise(struct oci_spec *spec, int dirfd, int ready_fd, int files_fd, int tty_fd,
		   int netns_fd)
{
	char err[512];
	int lsock, sfd;

	S.spec = spec;
	S.tty_fd = tty_fd;
	/* With a terminal the process's stdio is the pty: fds 0-2 are create's
	 * own, which the shim may read to their end (go-runc waits for that
	 * when it captures create's output), so this process keeps none. */
	if (tty_fd >= 0)
		oci_stdio_to_null();
	oci_log_quiet_stderr();
	signal(SIGPIPE, SIG_IGN);
	if (chdir("/") < 0)
		oci_warn("chdir /: %s", strerror(errno));
	if (join_netns(spec, netns_fd, err, sizeof(err))) {
		dprintf(ready_fd, "err %s", err);
		_exit(125);
	}
	if (pipe2(S.event, O_CLOEXEC) < 0 || (sfd = forward_signals()) < 0) {
		dprintf(ready_fd, "err supervisor: %s", strerror(errno));
		_exit(125);
	}
	if (oci_vm_boot(spec, dirfd, &S.vm, err, sizeof(err))) {
		dprintf(ready_fd, "err %s", err);
		_exit(125);
	}
	find_cgroup();
	if (oci_vm_install_files(S.vm, spec, files_fd, err, sizeof(err))) {
		dprintf(ready_fd, "err %s", err);
		alcatraz_vm_destroy(S.vm);
		_exit(125);
	}
	if (files_fd >= 0)
		close(files_fd);
	lsock = listen_on(dirfd);
	if (lsock < 0) {
		dprintf(ready_fd, "err cannot listen in the state directory: %s", strerror(-lsock));
		alcatraz_vm_destroy(S.vm);
		_exit(125);
	}
	if (write(ready_fd, "ok", 2) != 2) {
		/* create is gone: nobody knows of this container. */
		alcatraz_vm_destroy(S.vm);
		unlinkat(dirfd, OCI_SOCK_NAME, 0);
		_exit(125);
	}
	close(ready_fd);
	oci_info("container created: VM booting");
	serve(dirfd, lsock, sfd);
}
