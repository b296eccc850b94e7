// SPDX-License-Identifier: LGPL-2.1-or-later
/* The library's record of a VM's execs (see exec_records.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec_records.h"

int exec_records_reserve(struct exec_records *t)
{
	struct exec_record *grown;
	size_t cap;

	if (t->n < t->cap)
		return 0;
	cap = t->cap ? t->cap * 2 : 8;
	grown = reallocarray(t->e, cap, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	t->e = grown;
	t->cap = cap;
	return 0;
}

struct exec_record *exec_records_find(struct exec_records *t, uint32_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].id == id)
			return &t->e[i];
	return NULL;
}

void exec_records_drop(struct exec_records *t, struct exec_record *e)
{
	*e = t->e[--t->n];
}

static bool take_started(struct exec_records *t, const struct vmm_msg_buf *m)
{
	uint32_t id;

	if (!t->starting || t->start_replied || m->hdr.err > 0)
		return false;
	if (m->hdr.err) {
		if (m->hdr.len)
			return false;
		t->start_err = m->hdr.err;
	} else {
		if (m->hdr.len != sizeof(id))
			return false;
		memcpy(&id, m->payload, sizeof(id));
		/* reserved before the EXEC was sent */
		if (exec_records_find(t, id) || t->n >= t->cap)
			return false;
		t->e[t->n++] = (struct exec_record){ .id = id };
		t->start_id = id;
		t->start_err = 0;
	}
	t->start_replied = true;
	return true;
}

bool exec_records_take(struct exec_records *t, const struct vmm_msg_buf *m)
{
	struct vmm_exec_done d;
	struct exec_record *e;

	if (m->hdr.type == VMM_MSG_EXEC_STARTED)
		return take_started(t, m);
	if (m->hdr.type != VMM_MSG_EXEC_DONE || m->hdr.err || m->hdr.len != sizeof(d))
		return false;
	memcpy(&d, m->payload, sizeof(d));
	e = exec_records_find(t, d.id);
	if (!e || e->done || d.error > 0)
		return false;
	e->res = d;
	e->done = true;
	return true;
}

void exec_records_free(struct exec_records *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}
