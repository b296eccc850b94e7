/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The execs of one VM as the library knows them: started ones by id, and
 * their results (EXEC_DONE) until a caller has taken them. An entry exists
 * only for an id its VMM answered EXEC_STARTED with, so a VMM cannot make
 * the library hold more than its caller started. The supervisor's lock
 * guards it.
 */
#ifndef ALCATRAZ_EXEC_RECORDS_H
#define ALCATRAZ_EXEC_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm_protocol.h"

struct exec_record {
	uint32_t id;
	bool done;
	struct vmm_exec_done res;
};

struct exec_records {
	struct exec_record *e;
	size_t n, cap;
	/* The one EXEC whose EXEC_STARTED is awaited. */
	bool starting, start_replied;
	int start_err;
	uint32_t start_id;
};

/* Room for one more entry, made before an EXEC is sent. 0 or -ENOMEM. */
int exec_records_reserve(struct exec_records *t);
struct exec_record *exec_records_find(struct exec_records *t, uint32_t id);
void exec_records_drop(struct exec_records *t, struct exec_record *e);
/* EXEC_STARTED or EXEC_DONE from the VMM; false when it breaks the
 * protocol (nothing awaited, an unknown or finished id, a bad length). */
bool exec_records_take(struct exec_records *t, const struct vmm_msg_buf *m);
void exec_records_free(struct exec_records *t);

#endif
