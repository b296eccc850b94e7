/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest's side of the control channel for unit tests on a fake_vm:
 * builds one record (header, little-endian words, then data) and hands it
 * to control_receive() as the console port would.
 */
#ifndef ALCATRAZ_TESTS_GUEST_CTL_H
#define ALCATRAZ_TESTS_GUEST_CTL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "control.h"
#include "vmm.h"
#include "../../src/guest/control_proto.h"

/* The largest record a test sends: 16 words and one exec data chunk. */
#define GUEST_CTL_MAX (ALCATRAZ_CTL_HDR_SIZE + 64 + ALCATRAZ_CTL_EXEC_CHUNK + 16)

/* control_receive()'s result, or -E2BIG for a record the test cannot build. */
static inline int guest_ctl_send(struct vm *vm, uint32_t type, const uint32_t *w, unsigned int n,
				 const void *data, size_t dlen)
{
	static uint8_t rec[GUEST_CTL_MAX];
	size_t len = 4 * (size_t)n + dlen;

	if (n > 16 || len > sizeof(rec) - ALCATRAZ_CTL_HDR_SIZE)
		return -E2BIG;
	alcatraz_ctl_put_hdr(rec, type, (uint32_t)len);
	for (unsigned int i = 0; i < n; i++)
		alcatraz_ctl_put_le32(rec + ALCATRAZ_CTL_HDR_SIZE + 4 * i, w[i]);
	if (dlen)
		memcpy(rec + ALCATRAZ_CTL_HDR_SIZE + 4 * n, data, dlen);
	return control_receive(vm, rec, ALCATRAZ_CTL_HDR_SIZE + len);
}

/* alcatraz-init's first event: it started, with these features. */
static inline int guest_ctl_init_start(struct vm *vm, uint32_t features)
{
	uint32_t w[4] = { ALCATRAZ_CTL_EV_INIT_START, features, 0, 0 };

	return guest_ctl_send(vm, ALCATRAZ_CTL_EVENT, w, 4, NULL, 0);
}

#endif
