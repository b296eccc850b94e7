// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The control channel, host side (src/vmm/control.c): the guest's byte
 * stream, cut at any points, interleaved with what the rest of the VMM
 * does (taking output for the guest, the host's stdin ending, the
 * connection coming and going).
 *
 * Input: u8 command shape (bit 0: environment, bit 1: working directory,
 * bit 2: the host has a stdin), then operations, u8 op then:
 *  op % 5 == 0: u8 n, n bytes from the guest (control_receive);
 *  op % 5 == 1: u16 max: the device takes up to max bytes for the guest;
 *  op % 5 == 2: u64 total: the host's stdin ended;
 *  op % 5 == 3: connected; op % 5 == 4: disconnected.
 *
 * Beyond the sanitizers: every record the host sends passes the guest's
 * header check, in the protocol's order (ARG+ ENV* WORKDIR? END, then
 * STDIN_EOF at most once); a protocol error ends the VM.
 */
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "fuzz_vm.h"
#include "../../src/guest/control_proto.h"

#define MAX_OPS 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *argv_cmd[] = { "sh", "-c", "echo hi", NULL };
static char *envp_cmd[] = { "HOME=/root", "A=b=c", NULL };

struct host_stream {
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + 64];
	size_t have;
	unsigned int args;
	bool end, eof;
};

static void check_record(struct host_stream *s, uint32_t type)
{
	switch (type) {
	case ALCATRAZ_CTL_ARG:
		FUZZ_ASSERT(!s->end && s->args < 3, "ARG after END or too many");
		s->args++;
		break;
	case ALCATRAZ_CTL_ENV:
	case ALCATRAZ_CTL_WORKDIR:
		FUZZ_ASSERT(!s->end && s->args == 3, "ENV/WORKDIR out of order");
		break;
	case ALCATRAZ_CTL_END:
		FUZZ_ASSERT(!s->end && s->args == 3, "END twice or before the arguments");
		s->end = true;
		break;
	case ALCATRAZ_CTL_STDIN_EOF:
		FUZZ_ASSERT(s->end && !s->eof, "STDIN_EOF before END or twice");
		s->eof = true;
		break;
	default:
		FUZZ_ASSERT(0, "the host sent record type %u", type);
	}
}

static void take(struct vm *vm, struct host_stream *s, size_t max)
{
	uint8_t buf[4096];
	size_t n = control_take(vm, buf, max < sizeof(buf) ? max : sizeof(buf));

	FUZZ_ASSERT(n <= max, "took %zu of at most %zu bytes", n, max);
	for (size_t i = 0; i < n; i++) {
		uint32_t type, len;

		if (s->have < sizeof(s->rec))
			s->rec[s->have] = buf[i];
		s->have++;
		if (s->have < ALCATRAZ_CTL_HDR_SIZE)
			continue;
		FUZZ_ASSERT(!alcatraz_ctl_check_hdr(s->rec, 0, &type, &len),
			    "the host sent a record the guest refuses");
		if (s->have == ALCATRAZ_CTL_HDR_SIZE + len) {
			check_record(s, type);
			s->have = 0;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t shape = fin_u8(&in);
	struct host_stream s = { 0 };
	struct vm *vm = fvm_new(4096, false);
	int ret;

	vm->cfg.argv = argv_cmd;
	vm->cfg.envp = shape & 1 ? envp_cmd : NULL;
	vm->cfg.workdir = shape & 2 ? "/tmp" : NULL;
	vm->cfg.stdin_fd = shape & 4 ? 1000 : -1; /* only its presence is used */
	if ((ret = control_new(vm))) {
		fprintf(stderr, "control_new: %d\n", ret);
		abort();
	}
	for (unsigned int n = 0; n < MAX_OPS && in.left; n++) {
		uint8_t op = fin_u8(&in) % 5, chunk[256];
		size_t len;

		switch (op) {
		case 0:
			len = fin_bytes(&in, chunk, fin_u8(&in));
			ret = control_receive(vm, chunk, len);
			FUZZ_ASSERT(ret == 0 || vm->ended, "protocol error %d without ending the VM",
				    ret);
			break;
		case 1:
			take(vm, &s, fin_u16(&in));
			break;
		case 2:
			control_stdin_eof(vm, fin_u64(&in));
			break;
		case 3:
			control_connected(vm);
			break;
		default:
			control_disconnected(vm);
			break;
		}
	}
	take(vm, &s, SIZE_MAX);
	fvm_free(vm);
	return 0;
}
