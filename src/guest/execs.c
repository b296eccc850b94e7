// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Further commands ("execs", control_proto.h): each runs as a child of init
 * with pipes for its stdin, stdout and stderr, which init relays over the
 * control channel by id.  The windows of the protocol bound every buffer:
 * init reads a child's output only while the host has room for it, and
 * holds at most one window of a child's stdin.
 *
 * Records for the host go through a queue that the poll loop writes out
 * without blocking (the main loop must never stall on the host); finish()
 * flushes it before STATUS.
 *
 * Once a child has exited, init relays its output until both pipes reach
 * end of file, as a shell pipeline would; a background process that keeps
 * them open (and quiet) gets EXEC_DRAIN_MS before init reports the status
 * anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

#define EXEC_DRAIN_MS 2000

struct gexec {
	bool used;
	uint32_t id;
	pid_t pid;
	bool exited;
	int wst;
	uint64_t exit_ns;
	int in_w;              /* the child's stdin pipe, or -1 */
	bool in_eof;           /* the host's stdin ended */
	uint8_t *in_buf;       /* host bytes not yet in the pipe */
	size_t in_off, in_len;
	int out_r[2];          /* stdout, stderr pipes, -1 at their end */
	uint32_t unacked[2];   /* sent to the host, not acknowledged */
	int pfd_in, pfd_out[2];
};

static struct gexec ex[ALCATRAZ_CTL_MAX_EXECS];

/* ------------------------------------------------------ the host queue */

static uint8_t *q_buf;
static size_t q_off, q_len, q_cap;

static void queue_rec(uint32_t type, const uint32_t *words, unsigned int n, const void *data,
		      size_t dlen)
{
	size_t need = ALCATRAZ_CTL_HDR_SIZE + 4 * n + dlen;

	if (q_off && q_off == q_len)
		q_off = q_len = 0;
	if (q_len + need > q_cap) {
		size_t cap = q_cap ? q_cap : 65536;
		uint8_t *p;

		while (cap < q_len + need)
			cap *= 2;
		p = realloc(q_buf, cap);
		if (!p) {
			/* Bounded by the windows: only a machine out of memory
			 * gets here, and a torn stream would be worse. */
			klog(2, "out of memory for the control queue");
			abort();
		}
		q_buf = p;
		q_cap = cap;
	}
	alcatraz_ctl_put_hdr(q_buf + q_len, type, (uint32_t)(4 * n + dlen));
	q_len += ALCATRAZ_CTL_HDR_SIZE;
	for (unsigned int i = 0; i < n; i++, q_len += 4)
		alcatraz_ctl_put_le32(q_buf + q_len, words[i]);
	if (dlen)
		memcpy(q_buf + q_len, data, dlen);
	q_len += dlen;
}

void ctl_queue_record(uint32_t type, const void *payload, size_t len)
{
	queue_rec(type, NULL, 0, payload, len);
}

bool ctl_queue_pending(void)
{
	return q_len > q_off;
}

void ctl_queue_flush(bool block)
{
	while (g.ctl >= 0 && q_len > q_off) {
		ssize_t n = write(g.ctl, q_buf + q_off, q_len - q_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && block) {
			struct pollfd p = { .fd = g.ctl, .events = POLLOUT };

			poll(&p, 1, -1);
			continue;
		}
		if (n < 0) {
			if (errno != EAGAIN) {
				klog(4, "control channel write failed: %s", strerror(errno));
				q_off = q_len = 0;
			}
			return;
		}
		q_off += (size_t)n;
	}
}

/* ------------------------------------------------------------- records */

static void send_exec_status(struct gexec *e, uint32_t kind, int32_t value)
{
	uint32_t w[4] = { e->id, kind, (uint32_t)value, 0 };
	uint64_t t = now_ns();
	uint8_t ns[8];

	alcatraz_ctl_put_le64(ns, t);
	queue_rec(ALCATRAZ_CTL_EXEC_STATUS, w, 4, ns, sizeof(ns));
}

static void release(struct gexec *e)
{
	if (e->in_w >= 0)
		close(e->in_w);
	for (int k = 0; k < 2; k++)
		if (e->out_r[k] >= 0)
			close(e->out_r[k]);
	free(e->in_buf);
	memset(e, 0, sizeof(*e));
	e->in_w = e->out_r[0] = e->out_r[1] = -1;
}

static struct gexec *find(uint32_t id)
{
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++)
		if (ex[i].used && ex[i].id == id)
			return &ex[i];
	return NULL;
}

/* The child exited and its output is relayed (or given up on). */
static void maybe_finish(struct gexec *e)
{
	if (!e->exited || e->out_r[0] >= 0 || e->out_r[1] >= 0)
		return;
	if (WIFSIGNALED(e->wst))
		send_exec_status(e, ALCATRAZ_CTL_ST_SIGNALED, WTERMSIG(e->wst));
	else
		send_exec_status(e, ALCATRAZ_CTL_ST_EXITED, WEXITSTATUS(e->wst));
	dbg("exec %u done", e->id);
	release(e);
}

/* --------------------------------------------------------------- start */

struct exec_args {
	char **argv, **envp;
	const char *workdir;
};

/* Splits a checked EXEC payload into NULL-terminated vectors that point
 * into it (the strings are NUL-terminated in place). */
static int split(uint8_t *p, uint32_t len, struct exec_args *a, struct command *cmd)
{
	uint32_t argc = alcatraz_ctl_get_le32(p + 8), envc = alcatraz_ctl_get_le32(p + 12);
	char *s = (char *)p + ALCATRAZ_CTL_EXEC_HDR_LEN;

	for (uint32_t i = 0; i < argc; i++, s += strlen(s) + 1)
		if (strv_push(&cmd->argv, &cmd->argc, &cmd->argv_cap, s))
			return -ENOMEM;
	for (uint32_t i = 0; i < envc; i++, s += strlen(s) + 1)
		if (strv_push(&cmd->envp, &cmd->envc, &cmd->envp_cap, s))
			return -ENOMEM;
	if (command_add_default_path(cmd))
		return -ENOMEM;
	a->argv = cmd->argv;
	a->envp = cmd->envp;
	a->workdir = *s ? s : NULL;
	(void)len;
	return 0;
}

__attribute__((noreturn))
static void child(const struct exec_args *a, int errfd, int in, int out, int err)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (setsid() < 0)
		child_fail(errfd, STAGE_SETUP, errno);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		child_fail(errfd, STAGE_SETUP, errno);
	if (a->workdir && chdir(a->workdir) < 0)
		child_fail(errfd, STAGE_SETUP, errno);
	child_fail(errfd, STAGE_EXEC, exec_search(a->argv, a->envp));
	__builtin_unreachable();
}

/* Forks the child; its fds in e; kind/value set when it could not run. */
static void spawn(struct gexec *e, const struct exec_args *a, uint32_t *kind, int32_t *value)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, ep[2] = { -1, -1 };
	int msg[2];
	ssize_t n;

	*kind = 0;
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
	    pipe2(ep, O_CLOEXEC)) {
		*kind = ALCATRAZ_CTL_ST_INIT_ERROR;
		*value = errno;
		goto out;
	}
	e->pid = fork();
	if (e->pid < 0) {
		*kind = ALCATRAZ_CTL_ST_INIT_ERROR;
		*value = errno;
		goto out;
	}
	if (e->pid == 0)
		child(a, ep[1], in[0], out[1], err[1]);
	close(ep[1]);
	ep[1] = -1;
	do
		n = read(ep[0], msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(msg)) {
		while (waitpid(e->pid, NULL, 0) < 0 && errno == EINTR)
			;
		*kind = msg[0] == STAGE_EXEC ? ALCATRAZ_CTL_ST_EXEC_FAILED
					     : ALCATRAZ_CTL_ST_INIT_ERROR;
		*value = msg[1];
		goto out;
	}
	e->in_w = in[1];
	e->out_r[0] = out[0];
	e->out_r[1] = err[0];
	in[1] = out[0] = err[0] = -1;
	fcntl(e->in_w, F_SETFL, O_NONBLOCK);
	fcntl(e->out_r[0], F_SETFL, O_NONBLOCK);
	fcntl(e->out_r[1], F_SETFL, O_NONBLOCK);
out:
	for (int i = 0; i < 2; i++) {
		int *fds[] = { in, out, err, ep };

		for (int k = 0; k < 4; k++)
			if (fds[k][i] >= 0)
				close(fds[k][i]);
	}
}

static int exec_start(uint8_t *p, uint32_t len)
{
	uint32_t id = alcatraz_ctl_get_le32(p), w[2] = { id, 0 }, kind;
	struct exec_args a;
	struct command cmd = { 0 };
	struct gexec *e = NULL;
	uint8_t ns[8];
	int32_t value = 0;

	if (alcatraz_ctl_check_exec(p, len) || find(id))
		return -1;
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS && !e; i++)
		if (!ex[i].used)
			e = &ex[i];
	if (!e)
		return -1; /* the host keeps to the limit */
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->id = id;
	e->in_w = e->out_r[0] = e->out_r[1] = -1;
	e->in_buf = malloc(ALCATRAZ_CTL_EXEC_WINDOW);
	if (!e->in_buf) {
		kind = ALCATRAZ_CTL_ST_INIT_ERROR;
		value = ENOMEM;
	} else if (split(p, len, &a, &cmd)) {
		kind = ALCATRAZ_CTL_ST_INIT_ERROR;
		value = ENOMEM;
	} else {
		dbg("exec %u: %s (%zu args, %zu env)", id, a.argv[0], cmd.argc, cmd.envc);
		spawn(e, &a, &kind, &value);
	}
	free(cmd.argv);
	free(cmd.envp);
	w[1] = (uint32_t)(e->pid > 0 ? e->pid : 0);
	alcatraz_ctl_put_le64(ns, now_ns());
	queue_rec(ALCATRAZ_CTL_EXEC_START, w, 2, ns, sizeof(ns));
	if (kind) {
		klog(6, "exec %u: %s", id, strerror(value));
		send_exec_status(e, kind, value);
		release(e);
	}
	return 0;
}

/* ---------------------------------------------------------------- stdin */

static void stdin_ack(struct gexec *e, size_t n)
{
	uint32_t w[2] = { e->id, (uint32_t)n };

	if (n)
		queue_rec(ALCATRAZ_CTL_EXEC_STDIN_ACK, w, 2, NULL, 0);
}

static void stdin_close(struct gexec *e)
{
	if (e->in_w >= 0)
		close(e->in_w);
	e->in_w = -1;
}

static void stdin_write(struct gexec *e)
{
	ssize_t n = write(e->in_w, e->in_buf + e->in_off, e->in_len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		/* EPIPE: the child closed its stdin; what is left is dropped
		 * but acknowledged, so the host can finish sending. */
		stdin_close(e);
		n = (ssize_t)e->in_len;
	}
	e->in_off += (size_t)n;
	e->in_len -= (size_t)n;
	stdin_ack(e, (size_t)n);
	if (!e->in_len)
		e->in_off = 0;
	if (!e->in_len && e->in_eof)
		stdin_close(e);
}

static int exec_stdin(const uint8_t *p, uint32_t len)
{
	struct gexec *e = find(alcatraz_ctl_get_le32(p));
	size_t n = len - 4;

	if (!e)
		return 0; /* crossed its status on the wire */
	if (e->in_eof)
		return -1;
	if (n == 0) {
		e->in_eof = true;
		if (!e->in_len)
			stdin_close(e);
		return 0;
	}
	if (e->in_len + n > ALCATRAZ_CTL_EXEC_WINDOW)
		return -1;
	if (e->in_w < 0) {
		stdin_ack(e, n);
		return 0;
	}
	if (e->in_off + e->in_len + n > ALCATRAZ_CTL_EXEC_WINDOW) {
		memmove(e->in_buf, e->in_buf + e->in_off, e->in_len);
		e->in_off = 0;
	}
	memcpy(e->in_buf + e->in_off + e->in_len, p + 4, n);
	e->in_len += n;
	stdin_write(e);
	return 0;
}

/* --------------------------------------------------------------- output */

static void out_read(struct gexec *e, int k)
{
	static uint8_t buf[ALCATRAZ_CTL_EXEC_CHUNK];
	size_t want = ALCATRAZ_CTL_EXEC_WINDOW - e->unacked[k];
	uint32_t w[2] = { e->id, (uint32_t)k + 1 };
	ssize_t n;

	if (want > sizeof(buf))
		want = sizeof(buf);
	if (!want)
		return;
	n = read(e->out_r[k], buf, want);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(e->out_r[k]);
		e->out_r[k] = -1;
		return;
	}
	e->unacked[k] += (uint32_t)n;
	queue_rec(ALCATRAZ_CTL_EXEC_DATA, w, 2, buf, (size_t)n);
}

static int exec_ack(const uint8_t *p)
{
	struct gexec *e = find(alcatraz_ctl_get_le32(p));
	uint32_t stream = alcatraz_ctl_get_le32(p + 4), n = alcatraz_ctl_get_le32(p + 8);

	if (stream != ALCATRAZ_CTL_STREAM_STDOUT && stream != ALCATRAZ_CTL_STREAM_STDERR)
		return -1;
	if (!e)
		return 0;
	if (n > e->unacked[stream - 1])
		return -1;
	e->unacked[stream - 1] -= n;
	return 0;
}

/* ------------------------------------------------------------- winsize */

/* The exec's process holds the terminal (init gave it pipes): the new size
 * travels as the value of a queued SIGWINCH, which the terminal's holder
 * applies and a process without a terminal ignores. */
static int exec_winsize(const uint8_t *p, uint32_t len)
{
	union sigval v;
	uint16_t rows, cols;
	uint32_t id;
	struct gexec *e;

	if (alcatraz_ctl_get_exec_winsize(p, len, &id, &rows, &cols))
		return -1;
	e = find(id);
	if (!e || e->exited)
		return 0; /* crossed its status on the wire */
	v.sival_int = (int)((uint32_t)rows << 16 | cols);
	if (sigqueue(e->pid, SIGWINCH, v) < 0)
		klog(4, "exec %u: window size: %s", e->id, strerror(errno));
	return 0;
}

/* ------------------------------------------------------------- session */

/* The host of a new session (control_proto.h, Sessions) knows none of the
 * old one's execs or records: those records are dropped and the execs
 * killed (reaped as strangers). */
void execs_new_session(void)
{
	q_off = q_len = 0;
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++) {
		struct gexec *e = &ex[i];

		if (!e->used)
			continue;
		if (!e->exited && kill(-e->pid, SIGKILL) < 0)
			klog(4, "exec %u: %s", e->id, strerror(errno));
		release(e);
	}
}

/* ------------------------------------------------------- the poll loop */

int execs_host_record(uint32_t type, uint8_t *p, uint32_t len)
{
	switch (type) {
	case ALCATRAZ_CTL_EXEC:
		return exec_start(p, len);
	case ALCATRAZ_CTL_EXEC_STDIN:
		return exec_stdin(p, len);
	case ALCATRAZ_CTL_EXEC_ACK:
		return exec_ack(p);
	case ALCATRAZ_CTL_EXEC_SIGNAL: {
		struct gexec *e = find(alcatraz_ctl_get_le32(p));
		uint32_t sig = alcatraz_ctl_get_le32(p + 4);

		if (sig < 1 || sig > ALCATRAZ_CTL_MAX_SIGNO || sig > (uint32_t)SIGRTMAX)
			return -1;
		if (e && !e->exited && kill(-e->pid, (int)sig) < 0)
			klog(4, "exec %u: signal %u: %s", e->id, sig, strerror(errno));
		return 0;
	}
	case ALCATRAZ_CTL_EXEC_WINSIZE:
		return exec_winsize(p, len);
	default:
		return -1;
	}
}

bool execs_reaped(pid_t pid, int wst)
{
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++) {
		struct gexec *e = &ex[i];

		if (e->used && e->pid == pid && !e->exited) {
			e->exited = true;
			e->wst = wst;
			e->exit_ns = now_ns();
			maybe_finish(e);
			return true;
		}
	}
	return false;
}

int execs_add_pollfds(struct pollfd *pfd, int np, int max)
{
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++) {
		struct gexec *e = &ex[i];

		e->pfd_in = e->pfd_out[0] = e->pfd_out[1] = -1;
		if (!e->used)
			continue;
		if (e->in_w >= 0 && e->in_len && np < max) {
			pfd[np] = (struct pollfd){ .fd = e->in_w, .events = POLLOUT };
			e->pfd_in = np++;
		}
		for (int k = 0; k < 2; k++) {
			if (e->out_r[k] < 0 || e->unacked[k] >= ALCATRAZ_CTL_EXEC_WINDOW || np >= max)
				continue;
			pfd[np] = (struct pollfd){ .fd = e->out_r[k], .events = POLLIN };
			e->pfd_out[k] = np++;
		}
	}
	return np;
}

int execs_timeout_ms(void)
{
	int best = -1;

	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++) {
		struct gexec *e = &ex[i];
		uint64_t now = now_ns(), end;
		int ms;

		if (!e->used || !e->exited)
			continue;
		/* Waiting for the host's acknowledgements needs no timer. */
		if ((e->out_r[0] < 0 || e->unacked[0] >= ALCATRAZ_CTL_EXEC_WINDOW) &&
		    (e->out_r[1] < 0 || e->unacked[1] >= ALCATRAZ_CTL_EXEC_WINDOW))
			continue;
		end = e->exit_ns + EXEC_DRAIN_MS * 1000000ull;
		ms = now >= end ? 0 : (int)((end - now) / 1000000) + 1;
		if (best < 0 || ms < best)
			best = ms;
	}
	return best;
}

void execs_handle(const struct pollfd *pfd)
{
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++) {
		struct gexec *e = &ex[i];

		if (!e->used)
			continue;
		if (e->pfd_in >= 0 && pfd[e->pfd_in].revents && e->in_w >= 0)
			stdin_write(e);
		for (int k = 0; k < 2; k++)
			if (e->pfd_out[k] >= 0 && pfd[e->pfd_out[k]].revents && e->out_r[k] >= 0)
				out_read(e, k);
		/* Quiet pipes held open by a background process: give up on
		 * them once the drain time is over, unless the host is
		 * still taking output. */
		if (e->exited && now_ns() >= e->exit_ns + EXEC_DRAIN_MS * 1000000ull) {
			for (int k = 0; k < 2; k++) {
				if (e->out_r[k] >= 0 && e->unacked[k] < ALCATRAZ_CTL_EXEC_WINDOW &&
				    !(e->pfd_out[k] >= 0 && pfd[e->pfd_out[k]].revents)) {
					close(e->out_r[k]);
					e->out_r[k] = -1;
				}
			}
		}
		maybe_finish(e);
	}
}
