// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stand-ins for alcatraz-vmm that misbehave in one way each (FAKE_MODE at
 * build time), so test_vmm_spawn can check the library's answer to a VMM
 * of another protocol version, one that never greets, one that answers
 * the configuration with garbage, and one that ends while it builds the VM.
 */
#include <string.h>
#include <unistd.h>

#include "vmm_protocol.h"

#define SOCK VMM_PROTO_SOCK_FD

int main(void)
{
	struct vmm_hello h = { .proto_version = VMM_PROTO_VERSION + 98 };
	struct vmm_msg_buf m;
	int fds[VMM_MSG_MAX_FDS];
	unsigned int n = 0;

	strcpy(h.vmm_version, "9.9.9");
	switch (FAKE_MODE) {
	case 0: /* another protocol version */
		vmm_msg_send(SOCK, VMM_MSG_HELLO, 0, &h, sizeof(h), NULL, 0);
		break;
	case 1: /* silent: exits at once */
		break;
	case 2: /* garbage instead of a greeting */
		(void)!write(SOCK, "garbage", 7);
		pause(); /* the library must kill it */
		break;
	case 3: /* a good greeting, then garbage for CREATED */
		h.proto_version = VMM_PROTO_VERSION;
		vmm_msg_send(SOCK, VMM_MSG_HELLO, 0, &h, sizeof(h), NULL, 0);
		if (vmm_msg_recv(SOCK, &m, fds, VMM_MSG_MAX_FDS, &n) == 0) {
			static const char junk[] = "not a message at all";
			(void)!write(SOCK, junk, sizeof(junk));
		}
		for (unsigned int i = 0; i < n; i++)
			close(fds[i]);
		pause();
		break;
	case 4: /* a good greeting, then gone before CREATED (as PID 1 of its
		 * namespace it cannot signal itself: it exits) */
		h.proto_version = VMM_PROTO_VERSION;
		vmm_msg_send(SOCK, VMM_MSG_HELLO, 0, &h, sizeof(h), NULL, 0);
		(void)vmm_msg_recv(SOCK, &m, fds, VMM_MSG_MAX_FDS, &n); /* CONFIG, or not */
		return 3;
	}
	return 0;
}
