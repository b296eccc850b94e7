// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The control channel: init's side of the vsock conversation described in
 * control_proto.h.  Records before END are read with blocking reads (init
 * has nothing else to do yet); those after END arrive while the command
 * runs, so they are assembled piecemeal from the poll loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

#include "init.h"

static void ctl_send(uint32_t type, const uint8_t *payload, uint32_t len)
{
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + 16];

	if (g.ctl < 0 || len > 16)
		return;
	alcatraz_ctl_put_hdr(rec, type, len);
	memcpy(rec + ALCATRAZ_CTL_HDR_SIZE, payload, len);
	if (write_full(g.ctl, rec, ALCATRAZ_CTL_HDR_SIZE + len) < 0)
		klog(4, "control channel write failed: %s", strerror(errno));
}

void send_event(uint32_t ev, uint64_t t)
{
	uint8_t p[ALCATRAZ_CTL_EVENT_LEN];

	alcatraz_ctl_put_le32(p, ev);
	/* What this init can do beyond the main command. */
	alcatraz_ctl_put_le32(p + 4, ev == ALCATRAZ_CTL_EV_INIT_START
				       ? ALCATRAZ_CTL_FEAT_EXEC | ALCATRAZ_CTL_FEAT_RESEED |
					 ALCATRAZ_CTL_FEAT_EXEC_WINSIZE | ALCATRAZ_CTL_FEAT_SESSION |
					 ALCATRAZ_CTL_FEAT_NET_IDENTITY
				       : 0);
	alcatraz_ctl_put_le64(p + 8, t);
	ctl_send(ALCATRAZ_CTL_EVENT, p, sizeof(p));
}

void send_status(uint32_t kind, int32_t value)
{
	uint8_t p[ALCATRAZ_CTL_STATUS_LEN];

	alcatraz_ctl_put_le32(p, kind);
	alcatraz_ctl_put_le32(p + 4, (uint32_t)value);
	alcatraz_ctl_put_le64(p + 8, now_ns());
	ctl_send(ALCATRAZ_CTL_STATUS, p, sizeof(p));
}

/* Why init failed, for the host to show as the error (one line, cut to
 * what the protocol allows). */
void send_reason(const char *line)
{
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_MAX_REASON];
	size_t len = strlen(line);

	if (g.ctl < 0 || len == 0)
		return;
	if (len > ALCATRAZ_CTL_MAX_REASON)
		len = ALCATRAZ_CTL_MAX_REASON;
	alcatraz_ctl_put_hdr(rec, ALCATRAZ_CTL_INIT_REASON, (uint32_t)len);
	memcpy(rec + ALCATRAZ_CTL_HDR_SIZE, line, len);
	if (write_full(g.ctl, rec, ALCATRAZ_CTL_HDR_SIZE + len) < 0)
		klog(4, "control channel write failed: %s", strerror(errno));
}

int ctl_connect(void)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = ALCATRAZ_CTL_HOST_CID,
		.svm_port = ALCATRAZ_CTL_VSOCK_PORT,
	};
	int fd, err = 0;

	/*
	 * The VMM listens before the vCPUs start, so a refusal means a
	 * transport still coming up; retry briefly rather than fail the run.
	 */
	/* The kernel's default is 2 s, which a slow host can exceed. */
	struct timeval patience = { .tv_sec = ANNOUNCED_WAIT_MS / 1000 };

	for (int attempt = 0; attempt < 50; attempt++) {
		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &patience, sizeof(patience)) < 0)
			dbg("vsock connect timeout not set: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		err = errno;
		close(fd);
		if (err != ECONNREFUSED && err != ECONNRESET && err != EINTR && err != EAGAIN)
			break;
		usleep(20 * 1000);
	}
	return -err;
}

/*
 * Read ARG/ENV/WORKDIR/STDIO records up to END.  Everything is checked
 * against the limits of control_proto.h even though the host is the
 * trusted side: a bug there should fail loudly, not overflow here.
 */
int recv_command(int fd, struct command *cmd)
{
	for (;;) {
		uint8_t hdr[ALCATRAZ_CTL_HDR_SIZE];
		uint32_t type, len;
		char *p;
		int r;

		r = read_full(fd, hdr, sizeof(hdr));
		if (r)
			return r == -EPIPE ? -ECONNRESET : r;
		if (alcatraz_ctl_check_hdr(hdr, 0, &type, &len))
			return -EPROTO;
		if (type == ALCATRAZ_CTL_STDIN_EOF || type == ALCATRAZ_CTL_SIGNAL ||
		    type == ALCATRAZ_CTL_WINSIZE)
			return -EPROTO;
		p = malloc((size_t)len + 1);
		if (!p)
			return -ENOMEM;
		r = read_full(fd, p, len);
		if (r) {
			free(p);
			return r == -EPIPE ? -ECONNRESET : r;
		}
		p[len] = '\0';
		switch (type) {
		case ALCATRAZ_CTL_ARG:
		case ALCATRAZ_CTL_ENV:
			cmd->total += (size_t)len + 1;
			if (memchr(p, '\0', len) || cmd->total > ALCATRAZ_CTL_MAX_TOTAL)
				goto proto;
			if (type == ALCATRAZ_CTL_ARG) {
				if (cmd->argc >= ALCATRAZ_CTL_MAX_ARGS)
					goto proto;
				r = strv_push(&cmd->argv, &cmd->argc, &cmd->argv_cap, p);
			} else {
				char *eq = strchr(p, '=');

				if (!eq || eq == p || cmd->envc >= ALCATRAZ_CTL_MAX_ENVS)
					goto proto;
				r = strv_push(&cmd->envp, &cmd->envc, &cmd->envp_cap, p);
			}
			if (r) {
				free(p);
				return r;
			}
			break;
		case ALCATRAZ_CTL_WORKDIR:
			if (cmd->have_workdir || p[0] != '/' || memchr(p, '\0', len))
				goto proto;
			cmd->workdir = p;
			cmd->have_workdir = true;
			break;
		case ALCATRAZ_CTL_STDIO:
			cmd->stdio = alcatraz_ctl_get_le32((uint8_t *)p);
			free(p);
			if (cmd->have_stdio || (cmd->stdio & ~ALCATRAZ_CTL_STDIO_ALL))
				return -EPROTO;
			cmd->have_stdio = true;
			break;
		case ALCATRAZ_CTL_END:
			free(p);
			return cmd->argc ? 0 : -EPROTO;
		default:
			goto proto;
		}
		continue;
proto:
		free(p);
		return -EPROTO;
	}
}

/* The transport reset the connection (a restored snapshot's clone, with a
 * new guest CID): connect again, for a new session (control_proto.h). */
static void reconnect(struct ctl_in *c)
{
	int fd;

	close(g.ctl);
	g.ctl = -1;
	c->have = 0;
	execs_new_session();
	fd = ctl_connect();
	if (fd < 0) {
		klog(3, "control channel reset; cannot connect again: %s", strerror(-fd));
		c->open = false;
		return;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	g.ctl = fd;
	c->await_session = true;
}

void handle_post_end(struct ctl_in *c, struct pump *in, pid_t child,
		     bool child_alive, int winsize_fd)
{
	uint32_t type, len;
	size_t need = ALCATRAZ_CTL_HDR_SIZE;
	ssize_t n;

	if (c->have >= ALCATRAZ_CTL_HDR_SIZE) {
		if (alcatraz_ctl_check_hdr(c->buf, 0, &type, &len))
			goto proto;
		need += len;
	}
	n = read(g.ctl, c->buf + c->have, need - c->have);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0 && (errno == ENOTCONN || errno == ECONNRESET)) {
		reconnect(c);
		return;
	}
	if (n <= 0) {
		c->open = false;
		return;
	}
	c->have += (size_t)n;
	if (c->have < ALCATRAZ_CTL_HDR_SIZE)
		return;
	if (alcatraz_ctl_check_hdr(c->buf, 0, &type, &len))
		goto proto;
	if (type != ALCATRAZ_CTL_STDIN_EOF && type != ALCATRAZ_CTL_SIGNAL &&
	    type != ALCATRAZ_CTL_WINSIZE && type != ALCATRAZ_CTL_EXEC &&
	    type != ALCATRAZ_CTL_EXEC_STDIN && type != ALCATRAZ_CTL_EXEC_SIGNAL &&
	    type != ALCATRAZ_CTL_EXEC_ACK && type != ALCATRAZ_CTL_RESEED &&
	    type != ALCATRAZ_CTL_EXEC_WINSIZE && type != ALCATRAZ_CTL_SESSION &&
	    type != ALCATRAZ_CTL_NET_IDENTITY)
		goto proto;
	/* A new session's first record, and only there. */
	if (c->await_session != (type == ALCATRAZ_CTL_SESSION))
		goto proto;
	if (c->have < ALCATRAZ_CTL_HDR_SIZE + len)
		return;
	{
		uint8_t *p = c->buf + ALCATRAZ_CTL_HDR_SIZE;

		switch (type) {
		case ALCATRAZ_CTL_EXEC:
		case ALCATRAZ_CTL_EXEC_STDIN:
		case ALCATRAZ_CTL_EXEC_SIGNAL:
		case ALCATRAZ_CTL_EXEC_ACK:
		case ALCATRAZ_CTL_EXEC_WINSIZE:
			if (execs_host_record(type, p, len))
				goto proto;
			break;
		case ALCATRAZ_CTL_RESEED:
			reseed(p, len);
			break;
		case ALCATRAZ_CTL_NET_IDENTITY:
			if (net_identity(p, len))
				goto proto;
			break;
		case ALCATRAZ_CTL_SESSION:
			if (!alcatraz_ctl_get_le64(p))
				goto proto;
			c->await_session = false;
			ctl_queue_record(ALCATRAZ_CTL_SESSION_ACK, p, len);
			klog(6, "new control session %016llx", (unsigned long long)alcatraz_ctl_get_le64(p));
			break;
		case ALCATRAZ_CTL_STDIN_EOF:
			/* In tty mode end of input is the user's ^D, in band. */
			dbg("STDIN_EOF %llu", (unsigned long long)alcatraz_ctl_get_le64(p));
			if (in && in->close_out && !in->counted) {
				in->counted = true;
				in->target = alcatraz_ctl_get_le64(p);
				pump_check_done(in);
			}
			break;
		case ALCATRAZ_CTL_SIGNAL: {
			uint32_t sig = alcatraz_ctl_get_le32(p);

			if (sig < 1 || sig > ALCATRAZ_CTL_MAX_SIGNO || sig > (uint32_t)SIGRTMAX)
				goto proto;
			if (child_alive && kill(-child, (int)sig) < 0)
				klog(4, "forwarding signal %u: %s", sig, strerror(errno));
			break;
		}
		case ALCATRAZ_CTL_WINSIZE: {
			struct winsize ws = {
				.ws_row = alcatraz_ctl_get_le16(p),
				.ws_col = alcatraz_ctl_get_le16(p + 2),
			};

			/* On the pty master this also signals SIGWINCH. */
			if (winsize_fd >= 0)
				ioctl(winsize_fd, TIOCSWINSZ, &ws);
			break;
		}
		}
	}
	c->have = 0;
	return;
proto:
	klog(3, "protocol error from the host after END; ignoring the control channel");
	c->open = false;
}
