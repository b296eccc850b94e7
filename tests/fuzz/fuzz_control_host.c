// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The control channel, host side (src/vmm/control.c): the guest's byte
 * stream, cut at any points, interleaved with what the rest of the VMM
 * does (taking output for the guest, the host's stdin ending, the
 * connection coming and going).
 *
 * Input: u8 command shape (bit 0: environment, bit 1: working directory,
 * bit 2: the host has a stdin, bit 3: a stderr sink), then operations, u8 op
 * then:
 *  op % 10 == 0: u8 n, n bytes from the guest (control_receive);
 *  op % 10 == 1: u16 max: the device takes up to max bytes for the guest;
 *  op % 10 == 2: u64 total: the host's stdin ended;
 *  op % 10 == 3: connected; op % 10 == 4: disconnected;
 *  op % 10 == 5: u8 argc: the host starts an exec (vm_exec_start);
 *  op % 10 == 6: u8 id, u8 signo: the host signals an exec;
 *  op % 10 == 7: the host reaps an exec;
 *  op % 10 == 8: u8 type, u8 id, u32 word, u8 n, n bytes: a well-framed
 *                EXEC_* record from the guest (to get past the header);
 *  op % 10 == 9: the exec streams' descriptors are polled.
 *
 * Beyond the sanitizers: every record the host sends passes the guest's
 * header check, in the protocol's order (ARG+ ENV* WORKDIR? STDIO? END,
 * then STDIN_EOF at most once, exec records only after END and EXEC
 * payloads the guest accepts); a protocol error ends the VM.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "exec.h"
#include "fuzz_vm.h"
#include "../../src/guest/control_proto.h"

#define MAX_OPS 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *argv_cmd[] = { "sh", "-c", "echo hi", NULL };
static char *envp_cmd[] = { "HOME=/root", "A=b=c", NULL };

struct host_stream {
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + 256];
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
	case ALCATRAZ_CTL_STDIO:
		FUZZ_ASSERT(!s->end && s->args == 3, "STDIO out of order");
		break;
	case ALCATRAZ_CTL_END:
		FUZZ_ASSERT(!s->end && s->args == 3, "END twice or before the arguments");
		s->end = true;
		break;
	case ALCATRAZ_CTL_EXEC:
		FUZZ_ASSERT(s->end, "EXEC before END");
		FUZZ_ASSERT(s->have > sizeof(s->rec) ||
				    !alcatraz_ctl_check_exec(s->rec + ALCATRAZ_CTL_HDR_SIZE,
							     (uint32_t)(s->have - ALCATRAZ_CTL_HDR_SIZE)),
			    "an EXEC the guest refuses");
		break;
	case ALCATRAZ_CTL_EXEC_STDIN:
	case ALCATRAZ_CTL_EXEC_SIGNAL:
	case ALCATRAZ_CTL_EXEC_ACK:
		FUZZ_ASSERT(s->end, "exec record before END");
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

/* Execs with no host descriptors: output discarded, stdin empty. */
static void host_exec(struct vm *vm, struct fuzz_in *in)
{
	static char *args[] = { "sh", "-c", "echo", "x", NULL };
	static char *envs[] = { "A=1", NULL };
	char *argv[5] = { 0 };
	struct vm_exec_spec spec = { .argv = argv, .in_fd = -1, .out_fd = -1, .err_fd = -1 };
	uint8_t shape = fin_u8(in);
	uint32_t id;
	int ret;

	for (unsigned int i = 0; i < (shape & 3) + 1u; i++)
		argv[i] = args[i];
	spec.envp = shape & 4 ? envs : NULL;
	spec.workdir = shape & 8 ? "/w" : NULL;
	ret = vm_exec_start(vm, &spec, &id);
	FUZZ_ASSERT(ret == 0 || ret == -EAGAIN || ret == -EOPNOTSUPP || ret == -ESRCH,
		    "vm_exec_start: %d", ret);
}

static int guest_exec_record(struct vm *vm, struct fuzz_in *in)
{
	static const uint32_t types[] = { ALCATRAZ_CTL_EXEC_START, ALCATRAZ_CTL_EXEC_DATA,
					  ALCATRAZ_CTL_EXEC_STDIN_ACK, ALCATRAZ_CTL_EXEC_STATUS };
	uint8_t rec[ALCATRAZ_CTL_HDR_SIZE + 8 + 255] = { 0 };
	uint32_t type = types[fin_u8(in) % 4], len;
	size_t n;

	alcatraz_ctl_put_le32(rec + ALCATRAZ_CTL_HDR_SIZE, fin_u8(in));
	alcatraz_ctl_put_le32(rec + ALCATRAZ_CTL_HDR_SIZE + 4, fin_u32(in));
	n = fin_bytes(in, rec + ALCATRAZ_CTL_HDR_SIZE + 8, fin_u8(in));
	switch (type) {
	case ALCATRAZ_CTL_EXEC_DATA: len = 8 + (uint32_t)n; break;
	case ALCATRAZ_CTL_EXEC_STDIN_ACK: len = ALCATRAZ_CTL_EXEC_STDIN_ACK_LEN; break;
	case ALCATRAZ_CTL_EXEC_STATUS: len = ALCATRAZ_CTL_EXEC_STATUS_LEN; break;
	default: len = ALCATRAZ_CTL_EXEC_START_LEN; break;
	}
	alcatraz_ctl_put_hdr(rec, type, len);
	return control_receive(vm, rec, ALCATRAZ_CTL_HDR_SIZE + len);
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
	vm->cfg.stderr_fd = shape & 8 ? 1001 : -1;
	if ((ret = control_new(vm))) {
		fprintf(stderr, "control_new: %d\n", ret);
		abort();
	}
	for (unsigned int n = 0; n < MAX_OPS && in.left; n++) {
		uint8_t op = fin_u8(&in) % 10, chunk[256];
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
		case 4:
			control_disconnected(vm);
			break;
		case 5:
			host_exec(vm, &in);
			break;
		case 6: {
			uint8_t id = fin_u8(&in);

			ret = vm_exec_signal(vm, id, fin_u8(&in));
			FUZZ_ASSERT(ret == 0 || ret == -ESRCH || ret == -EINVAL, "signal: %d", ret);
			break;
		}
		case 7: {
			struct vm_exec_result r;

			if (vm_exec_reap(vm, &r))
				FUZZ_ASSERT(r.id != 0, "reaped id 0");
			break;
		}
		case 8:
			ret = guest_exec_record(vm, &in);
			FUZZ_ASSERT(ret == 0 || vm->ended, "protocol error %d without ending the VM",
				    ret);
			break;
		default:
			exec_poll(vm);
			break;
		}
	}
	take(vm, &s, SIZE_MAX);
	fvm_free(vm);
	return 0;
}
