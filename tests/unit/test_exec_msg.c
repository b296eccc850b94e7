// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: execs over the library-VMM protocol (src/vmm/exec_msg.c and
 * src/lib/exec_records.c): an EXEC message with its command memfd and
 * descriptors starts an exec whose output reaches the library's classified
 * descriptors and whose EXEC_DONE carries its status; malformed requests
 * (descriptor counts, flags, sink classes, records of a configuration, an
 * empty command) are refused with every descriptor closed; the library
 * refuses EXEC_STARTED it did not ask for and EXEC_DONE for ids it does not
 * know.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "control.h"
#include "exec.h"
#include "exec_msg.h"
#include "exec_records.h"
#include "fake_vm.h"
#include "guest_ctl.h"
#include "lib.h"
#include "vmm.h"
#include "../../src/guest/control_proto.h"

static struct vm *vm;
static char *argv_main[] = { "sleep", "infinity", NULL };
static int sv[2]; /* [0] the library's end, [1] the VMM's */

static void setup(void)
{
	vm = fake_vm_new(0);
	vm->cfg.argv = argv_main;
	ck_assert_int_eq(control_new(vm), 0);
	ck_assert_int_eq(guest_ctl_init_start(vm, ALCATRAZ_CTL_FEAT_EXEC), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void teardown(void)
{
	fake_vm_free(vm);
	close(sv[0]);
	close(sv[1]);
}

static int guest_send(uint32_t type, const uint32_t *w, unsigned int n, const char *data)
{
	return guest_ctl_send(vm, type, w, n, data, data ? strlen(data) : 0);
}

/* The VMM's side takes one message from the socket. */
static int vmm_serve_one(void)
{
	struct vmm_msg_buf m;
	int fds[4];
	unsigned int nfds = 0;

	ck_assert_int_eq(vmm_msg_recv(sv[1], &m, fds, 4, &nfds), 0);
	return exec_msg_receive(vm, sv[1], &m, fds, nfds);
}

static void lib_recv(struct vmm_msg_buf *m, uint16_t type)
{
	ck_assert_int_eq(vmm_msg_recv(sv[0], m, NULL, 0, NULL), 0);
	ck_assert_uint_eq(m->hdr.type, type);
}

/* A descriptor is open in this process. */
static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

START_TEST(exec_round_trip_over_the_socket)
{
	const char *argv[] = { "sh", "-c", "echo hi", NULL }, *envp[] = { "A=b", NULL };
	struct vmm_exec_req req = { .flags = VMM_EXEC_HAS_STDOUT | VMM_EXEC_HAS_STDERR };
	struct vmm_msg_buf m;
	struct vmm_exec_done d;
	int out[2], err[2], fds[3], own;
	char buf[16] = "";
	bool tty;
	uint32_t id;

	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	ck_assert_int_eq(command_encode(argv, envp, "/tmp", &fds[0]), 0);
	/* The library's look at a pipe: a non-blocking reopen of its own. */
	req.out_class = (uint8_t)proto_sink_classify(out[1], &tty, &own);
	ck_assert_int_eq(req.out_class, VMM_SINK_NONBLOCK);
	ck_assert(!tty);
	ck_assert_int_ge(own, 0);
	ck_assert_int_ne(fcntl(own, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_eq(fcntl(out[1], F_GETFL) & O_NONBLOCK, 0);
	fds[1] = own;
	fds[2] = err[1];
	req.err_class = VMM_SINK_FILE; /* what the library says is what is used */
	ck_assert_int_eq(vmm_msg_send(sv[0], VMM_MSG_EXEC, 0, &req, sizeof(req), fds, 3), 0);
	for (unsigned int i = 0; i < 3; i++)
		close(fds[i]);
	ck_assert_int_eq(vmm_serve_one(), 0);
	lib_recv(&m, VMM_MSG_EXEC_STARTED);
	ck_assert_int_eq(m.hdr.err, 0);
	ck_assert_uint_eq(m.hdr.len, sizeof(id));
	memcpy(&id, m.payload, sizeof(id));
	ck_assert_uint_ne(id, 0);

	/* The guest runs it: output, then status 7. */
	uint32_t w_start[4] = { id, 42, 0, 0 }, w_data[2] = { id, ALCATRAZ_CTL_STREAM_STDOUT };
	uint32_t w_st[6] = { id, ALCATRAZ_CTL_ST_EXITED, 7, 0, 0, 0 };
	exec_poll(vm);
	ck_assert_int_eq(guest_send(ALCATRAZ_CTL_EXEC_START, w_start, 4, NULL), 0);
	ck_assert_int_eq(guest_send(ALCATRAZ_CTL_EXEC_DATA, w_data, 2, "hi\n"), 0);
	ck_assert_int_eq(guest_send(ALCATRAZ_CTL_EXEC_STATUS, w_st, 6, NULL), 0);
	ck_assert_int_eq(read(out[0], buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "hi\n");
	exec_msg_send_done(vm, sv[1]);
	lib_recv(&m, VMM_MSG_EXEC_DONE);
	ck_assert_uint_eq(m.hdr.len, sizeof(d));
	memcpy(&d, m.payload, sizeof(d));
	ck_assert_uint_eq(d.id, id);
	ck_assert_int_eq(d.exit_code, 7);
	ck_assert_int_eq(d.error, 0);

	/* A signal for it now reaches no one and is no error. */
	struct vmm_exec_signal sig = { .id = id, .signo = 15 };
	ck_assert_int_eq(vmm_msg_send(sv[0], VMM_MSG_EXEC_SIGNAL, 0, &sig, sizeof(sig), NULL, 0), 0);
	ck_assert_int_eq(vmm_serve_one(), 0);
	ck_assert(!vm->ended);
	close(out[0]);
	close(out[1]);
	close(err[0]);
	close(err[1]);
}
END_TEST

/* A memfd holding one record with the value's bytes (at most r->len,
 * zeros after them up to the padded length). */
static int records(const struct vmm_cfg_rec *r, const char *v)
{
	int fd = memfd_create("t", MFD_CLOEXEC);
	uint8_t buf[64] = { 0 };
	size_t n = strlen(v);

	ck_assert_uint_le(sizeof(*r) + vmm_cfg_padded(r->len), sizeof(buf));
	memcpy(buf, r, sizeof(*r));
	memcpy(buf + sizeof(*r), v, n < r->len ? n : r->len);
	ck_assert_int_eq(write(fd, buf, sizeof(*r) + vmm_cfg_padded(r->len)),
			 (ssize_t)(sizeof(*r) + vmm_cfg_padded(r->len)));
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Sends req with a command memfd and n more descriptors (pipe ends), lets
 * the VMM take it, checks that every one it got is closed. */
static int try_request(const struct vmm_exec_req *req, int cmd_fd, unsigned int n,
		       struct vmm_msg_buf *reply)
{
	int fds[5] = { cmd_fd }, p[2][2];
	struct vmm_msg_buf m;
	int got[4];
	unsigned int nfds = 0;
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		ck_assert_int_eq(pipe2(p[i], O_CLOEXEC), 0);
		fds[1 + i] = p[i][1];
	}
	ck_assert_int_eq(vmm_msg_send(sv[0], VMM_MSG_EXEC, 0, req, sizeof(*req), fds, 1 + n), 0);
	close(cmd_fd);
	for (unsigned int i = 0; i < n; i++)
		close(p[i][1]);
	ck_assert_int_eq(vmm_msg_recv(sv[1], &m, got, 4, &nfds), 0);
	ret = exec_msg_receive(vm, sv[1], &m, got, nfds);
	for (unsigned int i = 0; i < nfds; i++)
		ck_assert_msg(!is_open(got[i]), "descriptor %u of a refused exec left open", i);
	if (ret == 0)
		lib_recv(reply, VMM_MSG_EXEC_STARTED);
	for (unsigned int i = 0; i < n; i++)
		close(p[i][0]);
	return ret;
}

START_TEST(malformed_requests_are_refused)
{
	const char *argv[] = { "true", NULL };
	struct vmm_exec_req req = { .flags = VMM_EXEC_HAS_STDOUT, .out_class = VMM_SINK_FILE };
	struct vmm_msg_buf reply;
	int fd;

	/* Descriptors that do not match the flags, unknown flags and classes:
	 * the library broke the protocol. */
	ck_assert_int_eq(command_encode(argv, NULL, NULL, &fd), 0);
	ck_assert_int_eq(try_request(&req, fd, 0, &reply), -EPROTO);
	ck_assert_int_eq(command_encode(argv, NULL, NULL, &fd), 0);
	ck_assert_int_eq(try_request(&req, fd, 2, &reply), -EPROTO);
	req.flags = 0x80;
	ck_assert_int_eq(command_encode(argv, NULL, NULL, &fd), 0);
	ck_assert_int_eq(try_request(&req, fd, 0, &reply), -EPROTO);
	req = (struct vmm_exec_req){ .flags = VMM_EXEC_HAS_STDERR, .err_class = VMM_SINK_CLASS_END };
	ck_assert_int_eq(command_encode(argv, NULL, NULL, &fd), 0);
	ck_assert_int_eq(try_request(&req, fd, 1, &reply), -EPROTO);
	req = (struct vmm_exec_req){ .flags = VMM_EXEC_HAS_STDOUT, .out_class = VMM_SINK_FILE,
				     .out_tty = 2 };
	ck_assert_int_eq(command_encode(argv, NULL, NULL, &fd), 0);
	ck_assert_int_eq(try_request(&req, fd, 1, &reply), -EPROTO);

	/* A well-formed message with a bad command: refused with a reason. */
	struct vmm_cfg_rec vcpus = { .tag = VMM_CFG_VCPUS, .len = 4 };
	req = (struct vmm_exec_req){ .flags = VMM_EXEC_HAS_STDOUT, .out_class = VMM_SINK_FILE };
	ck_assert_int_eq(try_request(&req, records(&vcpus, "\x01"), 1, &reply), 0);
	ck_assert_int_eq(reply.hdr.err, -EINVAL);
	struct vmm_cfg_rec env = { .tag = VMM_CFG_ENV, .len = 3 };
	ck_assert_int_eq(try_request(&req, records(&env, "A=b"), 1, &reply), 0);
	ck_assert_int_eq(reply.hdr.err, -EINVAL); /* no argument */
	struct vmm_cfg_rec wd = { .tag = VMM_CFG_WORKDIR, .len = 3 };
	ck_assert_int_eq(try_request(&req, records(&wd, "tmp"), 1, &reply), 0);
	ck_assert_int_eq(reply.hdr.err, -EINVAL);
	struct vmm_cfg_rec over = { .tag = VMM_CFG_ARG, .len = 40 };
	int bad = records(&over, "x");
	ck_assert_int_eq(ftruncate(bad, 16), 0); /* the record overruns the blob */
	ck_assert_int_eq(try_request(&req, bad, 1, &reply), 0);
	ck_assert_int_eq(reply.hdr.err, -EINVAL);

	/* A signal message with descriptors, an unexpected type. */
	struct vmm_exec_signal sig = { .id = 1, .signo = 9 };
	int p[2];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(vmm_msg_send(sv[0], VMM_MSG_EXEC_SIGNAL, 0, &sig, sizeof(sig), p, 1), 0);
	ck_assert_int_eq(vmm_serve_one(), -EPROTO);
	ck_assert_int_eq(vmm_msg_send(sv[0], VMM_MSG_START, 0, NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(vmm_serve_one(), -EPROTO);
	close(p[0]);
	close(p[1]);
	ck_assert(!vm->ended); /* the caller decides (alcatraz-vmm kills the VM) */
}
END_TEST

static struct vmm_msg_buf msg(uint16_t type, int32_t err, const void *p, uint32_t len)
{
	struct vmm_msg_buf m = { .hdr = { .type = type, .err = err, .len = len } };

	if (len)
		memcpy(m.payload, p, len);
	return m;
}

/* EXEC_RESIZE from the library: a size of 1..65535 each, no descriptors,
 * exactly its length; anything else breaks the protocol. */
START_TEST(resize_messages_are_checked)
{
	struct vmm_exec_resize r = { .id = 3, .rows = 40, .cols = 120 }, got;
	uint8_t big[sizeof(r) + 1] = { 0 };
	struct vmm_msg_buf m = msg(VMM_MSG_EXEC_RESIZE, 0, &r, sizeof(r));
	int p[2];

	ck_assert_int_eq(exec_msg_decode_resize(&m, 0, &got), 0);
	ck_assert_uint_eq(got.id, 3);
	ck_assert_uint_eq(got.rows, 40);
	ck_assert_uint_eq(got.cols, 120);
	ck_assert_int_eq(exec_msg_decode_resize(&m, 1, &got), -EPROTO);
	m = msg(VMM_MSG_EXEC_RESIZE, 0, &r, sizeof(r) - 1);
	ck_assert_int_eq(exec_msg_decode_resize(&m, 0, &got), -EPROTO);
	memcpy(big, &r, sizeof(r));
	m = msg(VMM_MSG_EXEC_RESIZE, 0, big, sizeof(big));
	ck_assert_int_eq(exec_msg_decode_resize(&m, 0, &got), -EPROTO);
	m = msg(VMM_MSG_EXEC_SIGNAL, 0, &r, sizeof(r));
	ck_assert_int_eq(exec_msg_decode_resize(&m, 0, &got), -EPROTO);
	r.rows = 0;
	m = msg(VMM_MSG_EXEC_RESIZE, 0, &r, sizeof(r));
	ck_assert_int_eq(exec_msg_decode_resize(&m, 0, &got), -EPROTO);
	r = (struct vmm_exec_resize){ .id = 3, .rows = 40, .cols = 0 };
	m = msg(VMM_MSG_EXEC_RESIZE, 0, &r, sizeof(r));
	ck_assert_int_eq(exec_msg_decode_resize(&m, 0, &got), -EPROTO);
	r = (struct vmm_exec_resize){ .id = 3, .rows = 65535, .cols = 65535 };
	m = msg(VMM_MSG_EXEC_RESIZE, 0, &r, sizeof(r));
	ck_assert_int_eq(exec_msg_decode_resize(&m, 0, &got), 0);

	/* Over the socket: a good one for no exec is no error (it crossed the
	 * exec's end); a bad one, or one with a descriptor, is refused and the
	 * descriptor closed. */
	ck_assert_int_eq(vmm_msg_send(sv[0], VMM_MSG_EXEC_RESIZE, 0, &r, sizeof(r), NULL, 0), 0);
	ck_assert_int_eq(vmm_serve_one(), 0);
	r.cols = 0;
	ck_assert_int_eq(vmm_msg_send(sv[0], VMM_MSG_EXEC_RESIZE, 0, &r, sizeof(r), NULL, 0), 0);
	ck_assert_int_eq(vmm_serve_one(), -EPROTO);
	r.cols = 80;
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(vmm_msg_send(sv[0], VMM_MSG_EXEC_RESIZE, 0, &r, sizeof(r), p, 1), 0);
	ck_assert_int_eq(vmm_serve_one(), -EPROTO);
	close(p[0]);
	close(p[1]);
	ck_assert(!vm->ended);
}
END_TEST

START_TEST(library_refuses_what_it_did_not_ask_for)
{
	struct exec_records t = { 0 };
	struct vmm_exec_done d = { .id = 5, .exit_code = 0 };
	uint32_t id = 5;
	struct vmm_msg_buf m;

	/* Nothing awaited: neither a start nor a result is taken. */
	m = msg(VMM_MSG_EXEC_STARTED, 0, &id, sizeof(id));
	ck_assert(!exec_records_take(&t, &m));
	m = msg(VMM_MSG_EXEC_DONE, 0, &d, sizeof(d));
	ck_assert(!exec_records_take(&t, &m));

	/* One awaited: its answer once, its result once. */
	ck_assert_int_eq(exec_records_reserve(&t), 0);
	t.starting = true;
	m = msg(VMM_MSG_EXEC_STARTED, 0, &id, 2);
	ck_assert(!exec_records_take(&t, &m)); /* short */
	m = msg(VMM_MSG_EXEC_STARTED, 0, &id, sizeof(id));
	ck_assert(exec_records_take(&t, &m));
	ck_assert_uint_eq(t.start_id, 5);
	ck_assert(!exec_records_take(&t, &m)); /* a second answer */
	d.id = 6;
	m = msg(VMM_MSG_EXEC_DONE, 0, &d, sizeof(d));
	ck_assert(!exec_records_take(&t, &m)); /* an unknown id */
	d.id = 5;
	d.error = 3;
	m = msg(VMM_MSG_EXEC_DONE, 0, &d, sizeof(d));
	ck_assert(!exec_records_take(&t, &m)); /* a positive error */
	d.error = 0;
	d.exit_code = 9;
	m = msg(VMM_MSG_EXEC_DONE, 0, &d, sizeof(d));
	ck_assert(exec_records_take(&t, &m));
	ck_assert(!exec_records_take(&t, &m)); /* twice */
	ck_assert_int_eq(exec_records_find(&t, 5)->res.exit_code, 9);

	/* A refusal carries no payload and no positive code. */
	t.start_replied = false;
	m = msg(VMM_MSG_EXEC_STARTED, 1, NULL, 0);
	ck_assert(!exec_records_take(&t, &m));
	m = msg(VMM_MSG_EXEC_STARTED, -EAGAIN, NULL, 0);
	ck_assert(exec_records_take(&t, &m));
	ck_assert_int_eq(t.start_err, -EAGAIN);
	exec_records_free(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exec_msg");
	TCase *tc = tcase_create("exec_msg");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, exec_round_trip_over_the_socket);
	tcase_add_test(tc, malformed_requests_are_refused);
	tcase_add_test(tc, resize_messages_are_checked);
	tcase_add_test(tc, library_refuses_what_it_did_not_ask_for);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
