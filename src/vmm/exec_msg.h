/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VMM's side of the EXEC messages (see exec_msg.c). */
#ifndef ALCATRAZ_VMM_EXEC_MSG_H
#define ALCATRAZ_VMM_EXEC_MSG_H

#include "vmm.h"
#include "vmm_protocol.h"

/*
 * One EXEC or EXEC_SIGNAL message with its descriptors (all taken: used or
 * closed). An EXEC is answered with EXEC_STARTED, also when it is refused.
 * 0, -EPROTO for a malformed message (the library broke the protocol), or
 * -EPIPE when the library is gone.
 */
int exec_msg_receive(struct vm *vm, int sock, const struct vmm_msg_buf *m, int *fds,
		     unsigned int nfds) __must_check;
/* An EXEC_RESIZE message: 0 and *r, or -EPROTO for descriptors, a bad
 * length or a zero row or column count. */
int exec_msg_decode_resize(const struct vmm_msg_buf *m, unsigned int nfds,
			   struct vmm_exec_resize *r) __must_check;
/* Sends an EXEC_DONE for every exec that has ended. */
void exec_msg_send_done(struct vm *vm, int sock);

#endif
