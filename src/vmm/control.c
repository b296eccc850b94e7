// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Control channel, host side (see control.h). Records from the guest are
 * validated from their header alone before any payload is taken, as the
 * protocol requires; the largest the guest may send is an EXEC_DATA record
 * of one chunk, so the receive buffer is a fixed array. EXEC_* records go
 * to exec.c, whose state this lock also guards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "control.h"
#include "evloop.h"
#include "exec.h"
#include "virtio/virtio.h"
/* Last: it defines CLI status macros whose names overlap the public enum. */
#include "../guest/control_proto.h"

struct control {
	pthread_mutex_t lock;
	uint8_t *out;            /* records queued for the guest */
	size_t out_len, out_off, out_cap;
	uint8_t rx[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_EXEC_DATA_HDR + ALCATRAZ_CTL_EXEC_CHUNK];
	size_t rx_have;
	uint32_t rx_type, rx_len;
	bool connected, got_init, sent_end, got_status, got_reason;
	/* INIT_REASON, each byte printable or a \xHH escape */
	char reason[ALCATRAZ_CTL_MAX_REASON * 4 + 1];
	volatile bool cmd_started;   /* read by the console without the lock */
	unsigned int events;
	uint32_t features;       /* INIT_START's: what this init can do */
	bool stdin_eof;          /* the host's stdin has ended */
	bool stdin_eof_sent;
	uint64_t stdin_total;
	struct exec_table *execs;
	/* The session: 0 the boot's (never named), else the id of the last
	 * SESSION sent; until its SESSION_ACK nothing else is taken. */
	uint64_t session;
	bool await_ack;
	/* A restored clone's new MAC (virtio-net), for NET_IDENTITY; restored:
	 * control_snap_restore ran (the record goes out after RESEED, whichever
	 * device is restored first). */
	uint8_t net_mac[ALCATRAZ_CTL_MAC_LEN];
	bool net_mac_set, restored;
};

/* Room the streaming records of execs need at least (exec_fill). */
#define EXEC_FILL_ROOM (ALCATRAZ_CTL_HDR_SIZE + 4 + ALCATRAZ_CTL_EXEC_CHUNK)

static int out_reserve(struct control *c, size_t more)
{
	size_t need;

	if (__builtin_add_overflow(c->out_len, more, &need))
		return -ENOMEM;
	if (need <= c->out_cap)
		return 0;
	size_t cap = c->out_cap ? c->out_cap : 4096;
	while (cap < need)
		cap *= 2;
	uint8_t *p = realloc(c->out, cap);
	if (!p)
		return -ENOMEM;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

static int put_record(struct control *c, uint32_t type, const void *payload, uint32_t len)
{
	int ret = out_reserve(c, ALCATRAZ_CTL_HDR_SIZE + (size_t)len);

	if (ret)
		return ret;
	alcatraz_ctl_put_hdr(c->out + c->out_len, type, len);
	c->out_len += ALCATRAZ_CTL_HDR_SIZE;
	if (len)
		memcpy(c->out + c->out_len, payload, len);
	c->out_len += len;
	return 0;
}

static int put_string(struct control *c, uint32_t type, const char *s)
{
	return put_record(c, type, s, (uint32_t)strlen(s));
}

/* Checked at creation so a command the guest would refuse fails early with
 * a clear error instead of a protocol error later. */
static int check_command(const struct vm_config *cfg)
{
	uint64_t total = 0;
	unsigned int n = 0;

	if (!cfg->argv || !cfg->argv[0])
		return -EINVAL;
	for (char **a = cfg->argv; *a; a++, n++) {
		size_t l = strlen(*a);
		if (l > ALCATRAZ_CTL_MAX_STRING || n >= ALCATRAZ_CTL_MAX_ARGS)
			return -E2BIG;
		total += l + 1;
	}
	n = 0;
	for (char **e = cfg->envp; e && *e; e++, n++) {
		size_t l = strlen(*e);
		if (l > ALCATRAZ_CTL_MAX_STRING || n >= ALCATRAZ_CTL_MAX_ENVS)
			return -E2BIG;
		if (!strchr(*e, '=') || **e == '=')
			return -EINVAL;
		total += l + 1;
	}
	if (total > ALCATRAZ_CTL_MAX_TOTAL)
		return -E2BIG;
	if (cfg->workdir && (cfg->workdir[0] != '/' || strlen(cfg->workdir) > ALCATRAZ_CTL_MAX_WORKDIR))
		return -EINVAL;
	return 0;
}

/* Bytes of every record the host sends, STDIN_EOF included. */
static size_t command_bytes(const struct vm_config *cfg)
{
	size_t n = 2 * ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_STDIN_EOF_LEN; /* END, STDIN_EOF */

	for (char **a = cfg->argv; *a; a++)
		n += ALCATRAZ_CTL_HDR_SIZE + strlen(*a);
	for (char **e = cfg->envp; e && *e; e++)
		n += ALCATRAZ_CTL_HDR_SIZE + strlen(*e);
	if (cfg->workdir)
		n += ALCATRAZ_CTL_HDR_SIZE + strlen(cfg->workdir);
	if (cfg->stderr_fd >= 0)
		n += ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_STDIO_LEN;
	return n;
}

int control_new(struct vm *vm)
{
	struct control *c;
	int ret = check_command(&vm->cfg);

	if (ret)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	/* The command and a chunk of exec data, allocated now: the device
	 * thread does not allocate for them. */
	ret = out_reserve(c, command_bytes(&vm->cfg) + EXEC_FILL_ROOM);
	if (!ret)
		ret = exec_table_new(vm, c, &c->execs);
	if (ret) {
		pthread_mutex_destroy(&c->lock);
		free(c->out);
		free(c);
		return ret;
	}
	/* No stdin at all: the command sees an empty one. */
	c->stdin_eof = vm->cfg.stdin_fd < 0;
	vm->control = c;
	return 0;
}

void control_free(struct vm *vm)
{
	struct control *c = vm->control;

	if (!c)
		return;
	exec_table_free(c->execs);
	pthread_mutex_destroy(&c->lock);
	free(c->out);
	free(c);
	vm->control = NULL;
}

/* Lock held. */
static void maybe_send_stdin_eof(struct control *c)
{
	uint8_t p[ALCATRAZ_CTL_STDIN_EOF_LEN];

	if (!c->sent_end || !c->stdin_eof || c->stdin_eof_sent)
		return;
	alcatraz_ctl_put_le64(p, c->stdin_total);
	if (put_record(c, ALCATRAZ_CTL_STDIN_EOF, p, sizeof(p)) == 0)
		c->stdin_eof_sent = true;
}

/* Lock held. */
static int send_command(struct vm *vm, struct control *c)
{
	int ret = 0;

	for (char **a = vm->cfg.argv; *a && !ret; a++)
		ret = put_string(c, ALCATRAZ_CTL_ARG, *a);
	for (char **e = vm->cfg.envp; e && *e && !ret; e++)
		ret = put_string(c, ALCATRAZ_CTL_ENV, *e);
	if (!ret && vm->cfg.workdir)
		ret = put_string(c, ALCATRAZ_CTL_WORKDIR, vm->cfg.workdir);
	if (!ret && vm->cfg.stderr_fd >= 0) {
		uint8_t flags[ALCATRAZ_CTL_STDIO_LEN];

		/* The console device has the stderr port (console.c). */
		alcatraz_ctl_put_le32(flags, ALCATRAZ_CTL_STDIO_STDERR_PORT);
		ret = put_record(c, ALCATRAZ_CTL_STDIO, flags, sizeof(flags));
	}
	if (!ret)
		ret = put_record(c, ALCATRAZ_CTL_END, NULL, 0);
	if (ret)
		return ret;
	c->sent_end = true;
	maybe_send_stdin_eof(c);
	return 0;
}

/* The guest's words, printable: anything else becomes \xHH. */
static void take_reason(char *out, size_t outsz, const uint8_t *p, uint32_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (uint32_t i = 0; i < len && o + 4 < outsz; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			out[o++] = (char)p[i];
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[p[i] >> 4];
		out[o++] = hex[p[i] & 0xf];
	}
	out[o] = '\0';
}

static void finish(struct vm *vm, uint32_t kind, int32_t value, const char *reason)
{
	/* Output the command wrote before it exited is in the console queue
	 * already (the guest drains before STATUS); it must precede the end. */
	virtio_console_drain(vm);
	switch (kind) {
	case ALCATRAZ_CTL_ST_EXITED:
		if (value >= 0 && value <= 255) {
			vm_end(vm, ALCATRAZ_EXIT_STATUS, value, 0, "command exited with status %d",
			       value);
			return;
		}
		break;
	case ALCATRAZ_CTL_ST_SIGNALED:
		if (value >= 1 && value <= (int32_t)ALCATRAZ_CTL_MAX_SIGNO) {
			vm_end(vm, ALCATRAZ_EXIT_SIGNALED, value, 0, "command killed by signal %d",
			       value);
			return;
		}
		break;
	case ALCATRAZ_CTL_ST_EXEC_FAILED: {
		int st = alcatraz_ctl_status_to_exit(kind, value);
		vm_end(vm, ALCATRAZ_EXIT_STATUS, st, 0, "%s (errno %d in the guest)",
		       st == ALCATRAZ_CTL_EXIT_NOTFOUND ? "command not found" : "command not executable",
		       value);
		return;
	}
	case ALCATRAZ_CTL_ST_INIT_ERROR:
		if (reason)
			vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, value > 0 && value < 4096 ? -value : -EPROTO,
			       "alcatraz-init: %s", reason);
		else
			vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, value > 0 && value < 4096 ? -value : -EPROTO,
			       "guest init failed before the command started (errno %d)", value);
		return;
	default:
		break;
	}
	vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, -EPROTO, "guest sent an invalid status (%u, %d)", kind,
	       value);
}

static int protocol_error(struct vm *vm, const char *what)
{
	vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, -EPROTO, "control channel: %s", what);
	return -EPROTO;
}

/* One complete record from the guest. Lock held. */
static int handle_record(struct vm *vm, struct control *c)
{
	const uint8_t *p = c->rx + ALCATRAZ_CTL_HDR_SIZE;

	if (c->got_status)
		return protocol_error(vm, "record after STATUS");
	if (c->rx_type == ALCATRAZ_CTL_SESSION_ACK) {
		if (!c->await_ack || alcatraz_ctl_get_le64(p) != c->session)
			return protocol_error(vm, "SESSION_ACK of another session");
		c->await_ack = false;
		return 0;
	}
	if (c->await_ack)
		return protocol_error(vm, "record before the new session's SESSION_ACK");
	if (c->rx_type == ALCATRAZ_CTL_EVENT) {
		uint32_t ev = alcatraz_ctl_get_le32(p);

		if (++c->events > ALCATRAZ_CTL_MAX_EVENTS)
			return protocol_error(vm, "too many events");
		if (ev == ALCATRAZ_CTL_EV_INIT_START && !c->got_init) {
			c->got_init = true;
			c->features = alcatraz_ctl_get_le32(p + 4);
			vm_mark(vm, &vm->result.timings.init_start_ns);
			if (send_command(vm, c))
				return protocol_error(vm, "out of memory");
			/* Older guests send 0 where the features are. */
			exec_channel_ready(c->execs,
					   alcatraz_ctl_get_le32(p + 4) & ALCATRAZ_CTL_FEAT_EXEC,
					   alcatraz_ctl_get_le32(p + 4) & ALCATRAZ_CTL_FEAT_EXEC_WINSIZE);
		} else if (ev == ALCATRAZ_CTL_EV_CMD_START && c->got_init) {
			vm_mark(vm, &vm->result.timings.cmd_start_ns);
			/* Now the console is in raw mode and relayed: stdin may flow. */
			__atomic_store_n(&c->cmd_started, true, __ATOMIC_RELEASE);
			evloop_wake(vm->evloop);
		} else {
			return protocol_error(vm, "unexpected event");
		}
		return 0;
	}
	if (c->rx_type == ALCATRAZ_CTL_INIT_REASON) {
		if (c->got_reason)
			return protocol_error(vm, "second init reason");
		c->got_reason = true;
		take_reason(c->reason, sizeof(c->reason), p, c->rx_len);
		return 0;
	}
	if (c->rx_type != ALCATRAZ_CTL_STATUS) {
		const char *why = "exec record before the command";

		if (!c->sent_end || exec_receive(c->execs, c->rx_type, p, c->rx_len, &why))
			return protocol_error(vm, why);
		return 0;
	}
	c->got_status = true;
	finish(vm, alcatraz_ctl_get_le32(p), (int32_t)alcatraz_ctl_get_le32(p + 4),
	       c->got_reason ? c->reason : NULL);
	return 0;
}

int control_receive(struct vm *vm, const uint8_t *data, size_t len)
{
	struct control *c = vm->control;
	int ret = 0;

	if (!c)
		return -EPROTO;
	pthread_mutex_lock(&c->lock);
	while (len && ret == 0) {
		size_t want = c->rx_have < ALCATRAZ_CTL_HDR_SIZE
				      ? ALCATRAZ_CTL_HDR_SIZE - c->rx_have
				      : ALCATRAZ_CTL_HDR_SIZE + c->rx_len - c->rx_have;
		size_t n = len < want ? len : want;

		memcpy(c->rx + c->rx_have, data, n);
		c->rx_have += n;
		data += n;
		len -= n;
		if (c->rx_have == ALCATRAZ_CTL_HDR_SIZE) {
			if (alcatraz_ctl_check_hdr(c->rx, 1, &c->rx_type, &c->rx_len) ||
			    c->rx_len > sizeof(c->rx) - ALCATRAZ_CTL_HDR_SIZE) {
				ret = protocol_error(vm, "bad record header");
				break;
			}
		}
		if (c->rx_have >= ALCATRAZ_CTL_HDR_SIZE &&
		    c->rx_have == ALCATRAZ_CTL_HDR_SIZE + c->rx_len) {
			ret = handle_record(vm, c);
			c->rx_have = 0;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

size_t control_take(struct vm *vm, void *buf, size_t max)
{
	struct control *c = vm->control;
	size_t n;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	if (c->out_off >= c->out_len) {
		c->out_off = 0;
		c->out_len = exec_fill(c->execs, c->out, c->out_cap);
	}
	n = c->out_len - c->out_off;
	if (n > max)
		n = max;
	memcpy(buf, c->out + c->out_off, n);
	c->out_off += n;
	if (c->out_off >= c->out_len)
		c->out_off = c->out_len = 0;
	pthread_mutex_unlock(&c->lock);
	return n;
}

bool control_has_output(struct vm *vm)
{
	struct control *c = vm->control;
	bool any;

	if (!c)
		return false;
	pthread_mutex_lock(&c->lock);
	any = c->out_len > c->out_off || exec_has_output(c->execs);
	pthread_mutex_unlock(&c->lock);
	return any;
}

void control_connected(struct vm *vm)
{
	struct control *c = vm->control;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->connected = true;
	pthread_mutex_unlock(&c->lock);
}

void control_disconnected(struct vm *vm)
{
	struct control *c = vm->control;
	bool early;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	early = c->connected && !c->got_status;
	c->connected = false;
	pthread_mutex_unlock(&c->lock);
	if (early)
		vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, -EPIPE,
		       "guest closed the control channel without a status");
}

bool control_awaits_status(struct vm *vm)
{
	struct control *c = vm->control;
	bool waiting;

	if (!c)
		return false;
	pthread_mutex_lock(&c->lock);
	waiting = !c->got_status;
	pthread_mutex_unlock(&c->lock);
	return waiting;
}

bool control_stdin_open(struct vm *vm)
{
	struct control *c = vm->control;

	return !c || __atomic_load_n(&c->cmd_started, __ATOMIC_ACQUIRE);
}

void control_stdin_eof(struct vm *vm, uint64_t total)
{
	struct control *c = vm->control;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stdin_eof = true;
	c->stdin_total = total;
	maybe_send_stdin_eof(c);
	pthread_mutex_unlock(&c->lock);
	virtio_vsock_flush(vm);
}

bool control_lock(struct vm *vm, struct exec_table **execs)
{
	struct control *c = vm->control;

	if (!c)
		return false;
	pthread_mutex_lock(&c->lock);
	*execs = c->execs;
	return true;
}

void control_unlock(struct vm *vm)
{
	pthread_mutex_unlock(&vm->control->lock);
}

int control_put_raw_locked(struct control *c, const void *rec, size_t len)
{
	int ret = out_reserve(c, len);

	if (ret)
		return ret;
	memcpy(c->out + c->out_len, rec, len);
	c->out_len += len;
	return 0;
}

/* Snapshots (carried in virtio-vsock's section, the channel's transport):
 * u32 flags (CTL_SNAP_*), u32 events seen, u64 stdin bytes, u64 the
 * session's id (0: the boot's). Only a channel at rest is saved: the
 * command running, nothing half received or still to send, no exec in
 * flight, no session switch under way. */
#define CTL_SNAP_INIT 1u
#define CTL_SNAP_SENT_END 2u
#define CTL_SNAP_CMD_STARTED 4u
#define CTL_SNAP_STDIN_EOF 8u
#define CTL_SNAP_STDIN_EOF_SENT 16u
#define CTL_SNAP_EXEC_READY 32u
#define CTL_SNAP_EXEC_REFUSED 64u
#define CTL_SNAP_RESEED 128u        /* init takes RESEED */
#define CTL_SNAP_EXEC_WINSIZE 256u  /* init takes EXEC_WINSIZE */
#define CTL_SNAP_SESSION 512u       /* init takes SESSION */
#define CTL_SNAP_NET_IDENTITY 1024u /* init takes NET_IDENTITY */
#define CTL_SNAP_ALL 2047u

int control_snap_save(struct vm *vm, uint8_t *buf, const char **why)
{
	struct control *c = vm->control;
	uint32_t f = 0;
	bool ready, refused, idle;

	if (!c) {
		*why = "a connection without a control channel";
		return -EINVAL;
	}
	pthread_mutex_lock(&c->lock);
	idle = exec_snap_idle(c->execs, &ready, &refused);
	f |= c->got_init ? CTL_SNAP_INIT : 0;
	f |= c->sent_end ? CTL_SNAP_SENT_END : 0;
	f |= __atomic_load_n(&c->cmd_started, __ATOMIC_ACQUIRE) ? CTL_SNAP_CMD_STARTED : 0;
	f |= c->stdin_eof ? CTL_SNAP_STDIN_EOF : 0;
	f |= c->stdin_eof_sent ? CTL_SNAP_STDIN_EOF_SENT : 0;
	f |= ready ? CTL_SNAP_EXEC_READY : 0;
	f |= refused ? CTL_SNAP_EXEC_REFUSED : 0;
	f |= (c->features & ALCATRAZ_CTL_FEAT_RESEED) ? CTL_SNAP_RESEED : 0;
	f |= (c->features & ALCATRAZ_CTL_FEAT_EXEC_WINSIZE) ? CTL_SNAP_EXEC_WINSIZE : 0;
	f |= (c->features & ALCATRAZ_CTL_FEAT_SESSION) ? CTL_SNAP_SESSION : 0;
	f |= (c->features & ALCATRAZ_CTL_FEAT_NET_IDENTITY) ? CTL_SNAP_NET_IDENTITY : 0;
	alcatraz_ctl_put_le32(buf, f);
	alcatraz_ctl_put_le32(buf + 4, c->events);
	alcatraz_ctl_put_le64(buf + 8, c->stdin_total);
	alcatraz_ctl_put_le64(buf + 16, c->session);
	if (c->got_status || c->got_reason)
		*why = "the guest's command has ended";
	else if (!(f & CTL_SNAP_CMD_STARTED) || !(f & CTL_SNAP_EXEC_READY))
		*why = "the guest's command has not started yet";
	else if (!c->connected || c->await_ack)
		*why = "a new control session is being set up";
	else if (!idle)
		*why = "an exec is running or not yet reaped";
	else if (c->rx_have || c->out_len > c->out_off)
		*why = "control records in flight";
	else
		*why = NULL;
	pthread_mutex_unlock(&c->lock);
	return *why ? -EBUSY : CONTROL_SNAP_LEN;
}

/* Lock held. */
static int reseed_record(struct control *c)
{
	uint8_t seed[ALCATRAZ_CTL_RESEED_LEN];
	ssize_t n = getrandom(seed, sizeof(seed), 0);
	int ret = n == (ssize_t)sizeof(seed) ? put_record(c, ALCATRAZ_CTL_RESEED, seed, sizeof(seed))
					     : -EIO;

	explicit_bzero(seed, sizeof(seed));
	return ret;
}

/* A new session's id: non-zero, not the snapshot's. */
static int new_session_id(uint64_t old, uint64_t *id)
{
	for (int i = 0; i < 8; i++) {
		if (getrandom(id, sizeof(*id), 0) != (ssize_t)sizeof(*id))
			return -EIO;
		if (*id && *id != old)
			return 0;
	}
	return -EIO;
}

/* Lock held. */
static int session_record(struct control *c, uint64_t id)
{
	uint8_t p[ALCATRAZ_CTL_SESSION_LEN];

	alcatraz_ctl_put_le64(p, id);
	return put_record(c, ALCATRAZ_CTL_SESSION, p, sizeof(p));
}

/* Lock held: the clone's new MAC, to an init that takes it. */
static int net_identity_record(struct control *c)
{
	uint8_t p[ALCATRAZ_CTL_NET_IDENTITY_LEN];

	if (!c->restored || !c->net_mac_set || !(c->features & ALCATRAZ_CTL_FEAT_NET_IDENTITY))
		return 0;
	alcatraz_ctl_net_identity_encode(p, c->net_mac);
	return put_record(c, ALCATRAZ_CTL_NET_IDENTITY, p, sizeof(p));
}

int control_net_identity(struct vm *vm, const uint8_t *mac)
{
	struct control *c = vm->control;
	int ret;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	memcpy(c->net_mac, mac, sizeof(c->net_mac));
	c->net_mac_set = true;
	ret = net_identity_record(c);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int control_snap_restore(struct vm *vm, const uint8_t *buf, bool *new_session,
			 const char **why)
{
	struct control *c = vm->control;
	uint32_t f = alcatraz_ctl_get_le32(buf), events = alcatraz_ctl_get_le32(buf + 4);
	uint64_t old = alcatraz_ctl_get_le64(buf + 16), id = 0;

	if (!c) {
		*why = "a connection without a control channel";
		return -EINVAL;
	}
	if ((f & ~CTL_SNAP_ALL) || events > ALCATRAZ_CTL_MAX_EVENTS ||
	    !(f & CTL_SNAP_INIT) || !(f & CTL_SNAP_SENT_END) || !(f & CTL_SNAP_CMD_STARTED) ||
	    !(f & CTL_SNAP_EXEC_READY) ||
	    ((f & CTL_SNAP_STDIN_EOF_SENT) && !(f & CTL_SNAP_STDIN_EOF))) {
		*why = "bad control channel state";
		return -EINVAL;
	}
	if (old && !(f & CTL_SNAP_SESSION)) {
		*why = "a control session id for an init that takes none";
		return -EINVAL;
	}
	if ((f & CTL_SNAP_SESSION) && new_session_id(old, &id)) {
		*why = "no host entropy for a new control session";
		return -EIO;
	}
	pthread_mutex_lock(&c->lock);
	c->got_init = c->sent_end = true;
	/* A new session: the snapshot's connection is gone (the transport is
	 * reset) and init connects again; else the snapshot's goes on. */
	c->connected = !(f & CTL_SNAP_SESSION);
	c->session = id;
	c->await_ack = f & CTL_SNAP_SESSION;
	c->rx_have = 0;
	c->stdin_eof = f & CTL_SNAP_STDIN_EOF;
	c->stdin_eof_sent = f & CTL_SNAP_STDIN_EOF_SENT;
	c->stdin_total = alcatraz_ctl_get_le64(buf + 8);
	c->events = events;
	/* The restored VM's own command records are not sent again: the
	 * guest took them before the snapshot. */
	c->out_len = c->out_off = 0;
	c->features = (f & CTL_SNAP_RESEED ? ALCATRAZ_CTL_FEAT_RESEED : 0) |
		      (f & CTL_SNAP_EXEC_WINSIZE ? ALCATRAZ_CTL_FEAT_EXEC_WINSIZE : 0) |
		      (f & CTL_SNAP_SESSION ? ALCATRAZ_CTL_FEAT_SESSION : 0) |
		      (f & CTL_SNAP_NET_IDENTITY ? ALCATRAZ_CTL_FEAT_NET_IDENTITY : 0);
	c->restored = true;
	/* The new session first; fresh randomness for this clone before
	 * anything it runs; then its MAC if virtio-net was restored first. */
	if (((f & CTL_SNAP_SESSION) && session_record(c, id)) ||
	    ((f & CTL_SNAP_RESEED) && reseed_record(c)) || net_identity_record(c)) {
		pthread_mutex_unlock(&c->lock);
		*why = "no host entropy for the guest";
		return -EIO;
	}
	__atomic_store_n(&c->cmd_started, true, __ATOMIC_RELEASE);
	exec_channel_ready(c->execs, !(f & CTL_SNAP_EXEC_REFUSED), f & CTL_SNAP_EXEC_WINSIZE);
	pthread_mutex_unlock(&c->lock);
	*new_session = f & CTL_SNAP_SESSION;
	return 0;
}
