// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Execs, the calls any thread makes (see exec.h): a new exec's EXEC record
 * and slot, its signals and terminal size, its completion. They work on
 * the table under the control channel's lock and leave the sending to the
 * device thread (exec.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "exec.h"
#include "outbuf.h"
/* Last: control_proto.h's CLI status macros overlap the public enum. */
#include "exec_table.h"

static int encode_exec(uint32_t id, const struct vm_exec_spec *spec, uint8_t **rec, size_t *len)
{
	uint32_t argc = 0, envc = 0;
	size_t total = ALCATRAZ_CTL_EXEC_HDR_LEN + 1 + (spec->workdir ? strlen(spec->workdir) : 0);
	uint8_t *p;

	if (!spec->argv || !spec->argv[0])
		return -EINVAL;
	if (spec->workdir && (spec->workdir[0] != '/' ||
			      strlen(spec->workdir) > ALCATRAZ_CTL_MAX_WORKDIR))
		return -EINVAL;
	for (char *const *a = spec->argv; *a; a++, argc++) {
		if (strlen(*a) > ALCATRAZ_CTL_MAX_STRING || argc >= ALCATRAZ_CTL_MAX_ARGS)
			return -E2BIG;
		total += strlen(*a) + 1;
	}
	for (char *const *e = spec->envp; e && *e; e++, envc++) {
		if (strlen(*e) > ALCATRAZ_CTL_MAX_STRING || envc >= ALCATRAZ_CTL_MAX_ENVS)
			return -E2BIG;
		if (!strchr(*e, '=') || **e == '=')
			return -EINVAL;
		total += strlen(*e) + 1;
	}
	if (total > ALCATRAZ_CTL_MAX_PAYLOAD)
		return -E2BIG;
	p = malloc(ALCATRAZ_CTL_HDR_SIZE + total);
	if (!p)
		return -ENOMEM;
	*rec = p;
	*len = ALCATRAZ_CTL_HDR_SIZE + total;
	alcatraz_ctl_put_hdr(p, ALCATRAZ_CTL_EXEC, (uint32_t)total);
	p += ALCATRAZ_CTL_HDR_SIZE;
	alcatraz_ctl_put_le32(p, id);
	alcatraz_ctl_put_le32(p + 4, 0);
	alcatraz_ctl_put_le32(p + 8, argc);
	alcatraz_ctl_put_le32(p + 12, envc);
	p += ALCATRAZ_CTL_EXEC_HDR_LEN;
	for (char *const *a = spec->argv; *a; a++)
		p = (uint8_t *)stpcpy((char *)p, *a) + 1;
	for (char *const *e = spec->envp; e && *e; e++)
		p = (uint8_t *)stpcpy((char *)p, *e) + 1;
	stpcpy((char *)p, spec->workdir ? spec->workdir : "");
	return 0;
}

static uint32_t new_id(struct exec_table *t)
{
	for (;;) {
		uint32_t id = t->next_id++;
		bool used = false;

		if (!id)
			continue;
		for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++)
			used |= t->s[i].st != SLOT_FREE && t->s[i].id == id;
		if (!used)
			return id;
	}
}

/* Buffers and output sinks of a new slot. */
static int slot_setup(struct vm *vm, struct exec_slot *s, const struct vm_exec_spec *spec)
{
	static const char *const names[2] = { "exec stdout", "exec stderr" };
	int fds[2] = { spec->out_fd, spec->err_fd }, ret;

	s->in_fd = spec->in_fd;
	s->in_eof = spec->in_fd < 0;
	s->in_pollable = true;
	s->in_buf = malloc(ALCATRAZ_CTL_EXEC_CHUNK);
	if (!s->in_buf)
		return -ENOMEM;
	for (unsigned int k = 0; k < 2; k++) {
		struct exec_stream *o = &s->out[k];

		o->fd = fds[k];
		o->pollable = true;
		o->stage = malloc(ALCATRAZ_CTL_EXEC_WINDOW);
		if (!o->stage)
			return -ENOMEM;
		if (spec->classified) {
			struct sink sink;
			bool tty = k ? spec->err_tty : spec->out_tty;

			/* The slot closes o->fd; the sink owns nothing. */
			sink_init_as(&sink, o->fd, k ? spec->err_class : spec->out_class, tty, -1);
			ret = outbuf_new_sink(vm, names[k], &sink, OUTBUF_DEFAULT_CAP,
					      o->fd >= 0 && vm_output_filtered_tty(vm, tty), &o->ob);
		} else {
			ret = outbuf_new(vm, names[k], o->fd, OUTBUF_DEFAULT_CAP,
					 vm_output_filtered(vm, o->fd), &o->ob);
		}
		if (ret)
			return ret;
	}
	return 0;
}

int vm_exec_start(struct vm *vm, const struct vm_exec_spec *spec, uint32_t *id)
{
	struct exec_table *t;
	struct exec_slot *s = NULL;
	int fds[3] = { spec->in_fd, spec->out_fd, spec->err_fd }, ret;

	if (!control_lock(vm, &t)) {
		ret = -EOPNOTSUPP;
		goto fail_fds;
	}
	if (t->refused || __atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE)) {
		ret = t->refused ? -EOPNOTSUPP : -ESRCH;
		goto fail_locked;
	}
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS && !s; i++)
		if (t->s[i].st == SLOT_FREE)
			s = &t->s[i];
	if (!s) {
		ret = -EAGAIN;
		goto fail_locked;
	}
	s->in_fd = s->out[0].fd = s->out[1].fd = -1;
	s->id = new_id(t);
	s->res.id = s->id;
	ret = encode_exec(s->id, spec, &s->rec, &s->rec_len);
	if (ret)
		goto fail_slot;
	s->st = SLOT_QUEUED;
	ret = slot_setup(vm, s, spec);
	fds[0] = fds[1] = fds[2] = -1; /* the slot's now */
	if (ret)
		goto fail_slot;
	*id = s->id;
	exec_kick(t);
	control_unlock(vm);
	return 0;
fail_slot:
	exec_slot_release(s);
fail_locked:
	control_unlock(vm);
fail_fds:
	for (unsigned int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ret;
}

/* Sends rec for exec id, after its EXEC when that still waits. Channel
 * lock held. */
static int send_for_exec(struct exec_table *t, uint32_t id, const uint8_t *rec, size_t len)
{
	struct exec_slot *s = exec_find(t, id);
	int ret = 0;

	if (!s || s->st == SLOT_STATUS) {
		ret = -ESRCH;
	} else if (s->st == SLOT_QUEUED) {
		uint8_t *p = realloc(s->rec, s->rec_len + len);

		if (!p) {
			ret = -ENOMEM;
		} else {
			memcpy(p + s->rec_len, rec, len);
			s->rec = p;
			s->rec_len += len;
		}
	} else {
		ret = control_put_raw_locked(t->c, rec, len);
	}
	if (!ret)
		exec_kick(t);
	return ret;
}

int vm_exec_resize(struct vm *vm, uint32_t id, uint16_t rows, uint16_t cols)
{
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_EXEC_WINSIZE_LEN];
	struct exec_table *t;
	int ret;

	if (!rows || !cols)
		return -EINVAL;
	if (!control_lock(vm, &t))
		return -ESRCH;
	alcatraz_ctl_put_hdr(rec, ALCATRAZ_CTL_EXEC_WINSIZE, ALCATRAZ_CTL_EXEC_WINSIZE_LEN);
	alcatraz_ctl_put_le32(rec + ALCATRAZ_CTL_HDR_SIZE, id);
	alcatraz_ctl_put_le16(rec + ALCATRAZ_CTL_HDR_SIZE + 4, rows);
	alcatraz_ctl_put_le16(rec + ALCATRAZ_CTL_HDR_SIZE + 6, cols);
	/* Not yet ready: the guest's features are not known. */
	ret = t->ready && t->winsize ? send_for_exec(t, id, rec, sizeof(rec)) : -EOPNOTSUPP;
	control_unlock(vm);
	return ret;
}

int vm_exec_signal(struct vm *vm, uint32_t id, int signo)
{
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + ALCATRAZ_CTL_EXEC_SIGNAL_LEN];
	uint32_t w[2] = { id, (uint32_t)signo };
	struct exec_table *t;
	int ret;

	if (signo < 1 || signo > (int)ALCATRAZ_CTL_MAX_SIGNO)
		return -EINVAL;
	if (!control_lock(vm, &t))
		return -ESRCH;
	exec_put_rec(rec, ALCATRAZ_CTL_EXEC_SIGNAL, w, 2, NULL, 0);
	ret = send_for_exec(t, id, rec, sizeof(rec));
	control_unlock(vm);
	return ret;
}

int vm_exec_fd(struct vm *vm)
{
	struct exec_table *t;
	int fd;

	if (!control_lock(vm, &t))
		return -1;
	fd = t->done_fd;
	control_unlock(vm);
	return fd;
}

int vm_exec_reap(struct vm *vm, struct vm_exec_result *res)
{
	struct exec_table *t;
	struct exec_slot *first = NULL;
	unsigned int more = 0;
	uint64_t v;

	if (!control_lock(vm, &t))
		return 0;
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++) {
		struct exec_slot *s = &t->s[i];

		if (s->st != SLOT_DONE)
			continue;
		more++;
		if (!first || s->seq < first->seq)
			first = s;
	}
	(void)!read(t->done_fd, &v, sizeof(v));
	if (first) {
		*res = first->res;
		exec_slot_release(first);
		if (more > 1) {
			v = 1;
			(void)!write(t->done_fd, &v, sizeof(v));
		}
	}
	control_unlock(vm);
	return first != NULL;
}
