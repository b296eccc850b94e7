/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The exec table's layout, shared by its two halves: exec.c (the control
 * channel and the device thread) and exec_api.c (the vm_exec_* calls any
 * thread makes). Private to them; everything here is used under the
 * control channel's lock.
 */
#ifndef ALCATRAZ_VMM_EXEC_TABLE_H
#define ALCATRAZ_VMM_EXEC_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec.h"
/* Last: it defines CLI status macros whose names overlap the public enum. */
#include "../guest/control_proto.h"

struct outbuf;

enum slot_state {
	SLOT_FREE,
	SLOT_QUEUED,   /* the EXEC record waits for the channel */
	SLOT_SENT,     /* EXEC queued for the guest, no EXEC_START yet */
	SLOT_RUNNING,
	SLOT_STATUS,   /* EXEC_STATUS came; output still being written */
	SLOT_DONE,     /* waits for vm_exec_reap() */
};

struct exec_stream {
	int fd;                /* owned, or -1 */
	struct outbuf *ob;
	uint8_t *stage;        /* received, not yet in ob: one window */
	size_t off, len;
	uint32_t unacked;      /* received and not acknowledged */
	uint32_t ack_owed;     /* moved into ob, acknowledgement not yet sent */
	bool polled, pollable;
};

struct exec_slot {
	enum slot_state st;
	uint32_t id;
	uint64_t seq;          /* order of completion, for vm_exec_reap */
	uint8_t *rec;          /* SLOT_QUEUED: the records to send */
	size_t rec_len;
	int in_fd;             /* owned, or -1 once at its end */
	bool in_polled, in_pollable, in_eof, eof_sent;
	uint8_t *in_buf;       /* read, not yet sent */
	size_t in_len;
	uint32_t in_unacked;   /* sent and not acknowledged */
	struct exec_stream out[2];
	struct vm_exec_result res;
};

struct exec_table {
	struct vm *vm;
	struct control *c;
	int epfd, done_fd;
	int kick_fd;           /* the API's work for the device thread */
	bool ready;            /* the channel takes execs */
	bool refused;          /* the guest's init does not run them */
	bool winsize;          /* the guest's init takes EXEC_WINSIZE */
	uint32_t next_id;
	uint64_t done_seq;
	struct exec_slot s[ALCATRAZ_CTL_MAX_EXECS];
};

/* Frees a slot's buffers and descriptors and marks it free. */
void exec_slot_release(struct exec_slot *s);
/* Hands the API's queued work to the device thread. */
void exec_kick(struct exec_table *t);
/* The live (not yet done) exec id, or NULL. */
struct exec_slot *exec_find(struct exec_table *t, uint32_t id);
/* Writes one record of n words and dlen bytes of data; its length. */
size_t exec_put_rec(uint8_t *buf, uint32_t type, const uint32_t *words, unsigned int n,
		    const void *data, uint32_t dlen);

#endif
