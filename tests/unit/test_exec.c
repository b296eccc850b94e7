// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: execs, the host side (src/vmm/exec.c): a fake guest drives
 * the control channel's byte stream. An exec's EXEC record carries its
 * argv, environment and workdir; its stdin goes out as EXEC_STDIN within
 * the window, its stdout and stderr reach their own sinks and are
 * acknowledged as they are written; its status is reaped through a pollable
 * descriptor. Records for unknown ids, a second start or status, data beyond
 * the window or for a bad stream, acknowledgements of bytes never sent and
 * oversize records are protocol errors that end the VM.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "control.h"
#include "exec.h"
#include "fake_vm.h"
#include "guest_ctl.h"
#include "vmm.h"
#include "../../src/guest/control_proto.h"

static struct vm *vm;
static char *argv_main[] = { "sleep", "infinity", NULL };
static uint8_t out[1 << 20];
static size_t out_len, out_pos;

static void make_vm(void)
{
	vm = fake_vm_new(0);
	vm->cfg.argv = argv_main;
	ck_assert_int_eq(control_new(vm), 0);
	out_len = out_pos = 0;
}

static void teardown(void)
{
	fake_vm_free(vm);
	vm = NULL;
}

static int guest_send(uint32_t type, const uint32_t *w, unsigned int n, const void *data,
		      size_t dlen)
{
	return guest_ctl_send(vm, type, w, n, data, dlen);
}

static int init_start(uint32_t features)
{
	return guest_ctl_init_start(vm, features);
}

static int data(uint32_t id, uint32_t stream, const char *s, size_t n)
{
	uint32_t w[2] = { id, stream };

	return guest_send(ALCATRAZ_CTL_EXEC_DATA, w, 2, s, n);
}

static int status(uint32_t id, uint32_t kind, int32_t value)
{
	uint32_t w[6] = { id, kind, (uint32_t)value, 0, 0, 0 };

	return guest_send(ALCATRAZ_CTL_EXEC_STATUS, w, 6, NULL, 0);
}

static int start(uint32_t id)
{
	uint32_t w[4] = { id, 42, 0, 0 };

	return guest_send(ALCATRAZ_CTL_EXEC_START, w, 4, NULL, 0);
}

/* Takes what the host has for the guest into out[]. */
static void take(void)
{
	size_t n;

	while ((n = control_take(vm, out + out_len, sizeof(out) - out_len)) > 0)
		out_len += n;
}

/* The next host record of `type`, skipping others; its payload and length. */
static const uint8_t *next_rec(uint32_t type, uint32_t *len)
{
	take();
	while (out_pos + ALCATRAZ_CTL_HDR_SIZE <= out_len) {
		uint32_t t, l;
		const uint8_t *p = out + out_pos;

		ck_assert_int_eq(alcatraz_ctl_check_hdr(p, 0, &t, &l), 0);
		ck_assert_uint_le(out_pos + ALCATRAZ_CTL_HDR_SIZE + l, out_len);
		out_pos += ALCATRAZ_CTL_HDR_SIZE + l;
		if (t == type) {
			*len = l;
			return p + ALCATRAZ_CTL_HDR_SIZE;
		}
	}
	return NULL;
}

static void assert_protocol_error(int ret)
{
	ck_assert_int_eq(ret, -EPROTO);
	ck_assert(vm->ended);
	ck_assert_int_eq(vm->result.error, -EPROTO);
	ck_assert_ptr_nonnull(strstr(vm->result.message, "control channel"));
}

static void read_exact(int fd, const char *want)
{
	char buf[256] = { 0 };
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert_str_eq(buf, want);
}

struct fds {
	int in[2], out[2], err[2];
};

/* Starts `sh -c ...` with pipes; the test keeps the far ends. */
static uint32_t exec_with_pipes(struct fds *f)
{
	char *argv[] = { "sh", "-c", "cat; echo done >&2", NULL };
	char *envp[] = { "FOO=bar", NULL };
	struct vm_exec_spec spec = { .argv = argv, .envp = envp, .workdir = "/tmp" };
	uint32_t id = 0;

	ck_assert_int_eq(pipe2(f->in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(f->out, O_CLOEXEC | O_NONBLOCK), 0);
	ck_assert_int_eq(pipe2(f->err, O_CLOEXEC | O_NONBLOCK), 0);
	spec.in_fd = f->in[0];
	spec.out_fd = f->out[1];
	spec.err_fd = f->err[1];
	ck_assert_int_eq(vm_exec_start(vm, &spec, &id), 0);
	ck_assert_uint_ne(id, 0);
	exec_poll(vm); /* the device thread sends it */
	return id;
}

static void close_far(struct fds *f)
{
	if (f->in[1] >= 0)
		close(f->in[1]);
	close(f->out[0]);
	close(f->err[0]);
}

START_TEST(exec_round_trip)
{
	struct fds f;
	struct vm_exec_result res;
	struct pollfd pfd;
	const uint8_t *p;
	uint32_t len, id;

	make_vm();
	ck_assert_int_eq(init_start(ALCATRAZ_CTL_FEAT_EXEC), 0);
	id = exec_with_pipes(&f);
	/* The EXEC record: after END, well-formed, with every field. */
	ck_assert_ptr_nonnull(next_rec(ALCATRAZ_CTL_END, &len));
	p = next_rec(ALCATRAZ_CTL_EXEC, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(alcatraz_ctl_check_exec(p, len), 0);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(p), id);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(p + 8), 3);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(p + 12), 1);
	ck_assert_mem_eq(p + 16, "sh\0-c\0cat; echo done >&2\0FOO=bar\0/tmp\0", 38);
	ck_assert_uint_eq(len, 16 + 38);

	/* stdin: read as the window allows, then its end. */
	ck_assert_int_eq(write(f.in[1], "input", 5), 5);
	exec_poll(vm);
	p = next_rec(ALCATRAZ_CTL_EXEC_STDIN, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 4 + 5);
	ck_assert_mem_eq(p + 4, "input", 5);
	close(f.in[1]);
	f.in[1] = -1;
	exec_poll(vm);
	p = next_rec(ALCATRAZ_CTL_EXEC_STDIN, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 4);

	/* Output: each stream to its sink, acknowledged once written. */
	ck_assert_int_eq(start(id), 0);
	ck_assert_int_eq(data(id, ALCATRAZ_CTL_STREAM_STDOUT, "input", 5), 0);
	ck_assert_int_eq(data(id, ALCATRAZ_CTL_STREAM_STDERR, "done\n", 5), 0);
	read_exact(f.out[0], "input");
	read_exact(f.err[0], "done\n");
	p = next_rec(ALCATRAZ_CTL_EXEC_ACK, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(p + 4), ALCATRAZ_CTL_STREAM_STDOUT);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(p + 8), 5);
	uint32_t w[2] = { id, 5 };
	ck_assert_int_eq(guest_send(ALCATRAZ_CTL_EXEC_STDIN_ACK, w, 2, NULL, 0), 0);

	/* The status, pollable and reaped once. */
	pfd = (struct pollfd){ .fd = vm_exec_fd(vm), .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(status(id, ALCATRAZ_CTL_ST_EXITED, 3), 0);
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(vm_exec_reap(vm, &res), 1);
	ck_assert_uint_eq(res.id, id);
	ck_assert_int_eq(res.exit_code, 3);
	ck_assert_int_eq(res.error, 0);
	ck_assert_int_eq(vm_exec_reap(vm, &res), 0);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert(!vm->ended);
	/* The id is gone: anything more for it is a protocol error. */
	assert_protocol_error(status(id, ALCATRAZ_CTL_ST_EXITED, 0));
	close_far(&f);
	teardown();
}
END_TEST

/* A sink that does not read holds the acknowledgement back; the status
 * waits for the output to be written. */
START_TEST(slow_sink_holds_acks_and_status)
{
	static char chunk[ALCATRAZ_CTL_EXEC_CHUNK];
	struct vm_exec_result res;
	struct fds f;
	uint32_t id, len, acked = 0;
	const uint8_t *p;
	size_t got = 0;
	char buf[65536];
	ssize_t n;

	make_vm();
	ck_assert_int_eq(init_start(ALCATRAZ_CTL_FEAT_EXEC), 0);
	id = exec_with_pipes(&f);
	ck_assert_int_eq(start(id), 0);
	fill_pipe(f.out[1]);
	memset(chunk, 'x', sizeof(chunk));
	/* The first window fits the stream's buffer and is acknowledged... */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(data(id, ALCATRAZ_CTL_STREAM_STDOUT, chunk, sizeof(chunk)), 0);
	while ((p = next_rec(ALCATRAZ_CTL_EXEC_ACK, &len)))
		acked += alcatraz_ctl_get_le32(p + 8);
	ck_assert_uint_eq(acked, 4 * sizeof(chunk));
	/* ...the second waits for the sink, unacknowledged. */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(data(id, ALCATRAZ_CTL_STREAM_STDOUT, chunk, sizeof(chunk)), 0);
	ck_assert_ptr_null(next_rec(ALCATRAZ_CTL_EXEC_ACK, &len));
	ck_assert_int_eq(status(id, ALCATRAZ_CTL_ST_EXITED, 0), 0);
	ck_assert_int_eq(vm_exec_reap(vm, &res), 0); /* output not written yet */
	/* The reader catches up. */
	for (int tries = 0; tries < 1000 && vm_exec_reap(vm, &res) == 0; tries++) {
		while ((n = read(f.out[0], buf, sizeof(buf))) > 0)
			for (ssize_t i = 0; i < n; i++)
				got += buf[i] == 'x';
		exec_poll(vm);
	}
	ck_assert_uint_eq(res.id, id);
	ck_assert_int_eq(res.exit_code, 0);
	while ((n = read(f.out[0], buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			got += buf[i] == 'x';
	ck_assert_uint_eq(got, 8 * sizeof(chunk));
	close_far(&f);
	teardown();
}
END_TEST

START_TEST(window_overrun_is_a_protocol_error)
{
	static char chunk[ALCATRAZ_CTL_EXEC_CHUNK];
	struct fds f;
	uint32_t id;

	make_vm();
	ck_assert_int_eq(init_start(ALCATRAZ_CTL_FEAT_EXEC), 0);
	id = exec_with_pipes(&f);
	ck_assert_int_eq(start(id), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(data(id, ALCATRAZ_CTL_STREAM_STDERR, chunk, sizeof(chunk)), 0);
	/* Nothing acknowledged yet (the host has not sent its ACKs). */
	assert_protocol_error(data(id, ALCATRAZ_CTL_STREAM_STDERR, "y", 1));
	close_far(&f);
	teardown();
}
END_TEST

START_TEST(hostile_exec_records)
{
	static char big[ALCATRAZ_CTL_EXEC_CHUNK + 1];
	struct fds f;
	uint32_t id, w[3];

	/* Each case on a fresh VM with one running exec `id`. */
	for (int c = 0; c < 9; c++) {
		int ret = 0;

		make_vm();
		ck_assert_int_eq(init_start(ALCATRAZ_CTL_FEAT_EXEC), 0);
		id = exec_with_pipes(&f);
		if (c != 1)
			ck_assert_int_eq(start(id), 0);
		switch (c) {
		case 0: ret = data(id + 1, ALCATRAZ_CTL_STREAM_STDOUT, "a", 1); break;
		case 1: ret = data(id, ALCATRAZ_CTL_STREAM_STDOUT, "a", 1); break; /* before START */
		case 2: ret = start(id); break;                                      /* twice */
		case 3: ret = data(id, 3, "a", 1); break;                            /* stream */
		case 4: ret = data(id, ALCATRAZ_CTL_STREAM_STDOUT, big, sizeof(big)); break;
		case 5:
			w[0] = id, w[1] = 1;
			ret = guest_send(ALCATRAZ_CTL_EXEC_STDIN_ACK, w, 2, NULL, 0); /* not sent */
			break;
		case 6: ret = status(id, 99, 0); break;                       /* kind */
		case 7: ret = status(id, ALCATRAZ_CTL_ST_EXITED, 256); break; /* value */
		case 8: ret = data(id, ALCATRAZ_CTL_STREAM_STDOUT, "", 0); break; /* empty */
		}
		assert_protocol_error(ret);
		close_far(&f);
		teardown();
	}
	/* Exec records before the command went out. */
	make_vm();
	w[0] = 1;
	assert_protocol_error(start(1));
	teardown();
}
END_TEST

START_TEST(limits_and_validation)
{
	char *argv[] = { "true", NULL }, *bad_env[] = { "=x", NULL };
	struct vm_exec_spec spec = { .argv = argv, .in_fd = -1, .out_fd = -1, .err_fd = -1 };
	uint32_t id;
	int devnull;

	make_vm();
	for (unsigned int i = 0; i < ALCATRAZ_CTL_MAX_EXECS; i++)
		ck_assert_int_eq(vm_exec_start(vm, &spec, &id), 0);
	ck_assert_int_eq(vm_exec_start(vm, &spec, &id), -EAGAIN);
	teardown();

	make_vm();
	spec.envp = bad_env;
	/* The descriptors are the VM's even on failure. */
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	spec.in_fd = devnull;
	ck_assert_int_eq(vm_exec_start(vm, &spec, &id), -EINVAL);
	ck_assert_int_eq(fcntl(devnull, F_GETFD), -1);
	spec.in_fd = -1;
	spec.envp = NULL;
	spec.workdir = "relative";
	ck_assert_int_eq(vm_exec_start(vm, &spec, &id), -EINVAL);
	spec.workdir = NULL;
	spec.argv = NULL;
	ck_assert_int_eq(vm_exec_start(vm, &spec, &id), -EINVAL);
	teardown();
}
END_TEST

/* Started before init connected: sent after END, or refused when the guest
 * does not run execs. */
START_TEST(queued_until_the_guest_is_ready)
{
	char *argv[] = { "true", NULL };
	struct vm_exec_spec spec = { .argv = argv, .in_fd = -1, .out_fd = -1, .err_fd = -1 };
	struct vm_exec_result res;
	uint32_t id, len;
	const uint8_t *p;

	make_vm();
	ck_assert_int_eq(vm_exec_start(vm, &spec, &id), 0);
	ck_assert_int_eq(vm_exec_signal(vm, id, 15), 0);
	ck_assert_ptr_null(next_rec(ALCATRAZ_CTL_EXEC, &len));
	ck_assert_int_eq(init_start(ALCATRAZ_CTL_FEAT_EXEC), 0);
	ck_assert_ptr_nonnull(next_rec(ALCATRAZ_CTL_END, &len));
	ck_assert_ptr_nonnull(next_rec(ALCATRAZ_CTL_EXEC, &len));
	p = next_rec(ALCATRAZ_CTL_EXEC_SIGNAL, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(p + 4), 15);
	/* No stdin: its end right away. */
	p = next_rec(ALCATRAZ_CTL_EXEC_STDIN, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(vm_exec_signal(vm, id + 7, 15), -ESRCH);
	ck_assert_int_eq(vm_exec_signal(vm, id, 0), -EINVAL);
	teardown();

	make_vm();
	ck_assert_int_eq(vm_exec_start(vm, &spec, &id), 0);
	ck_assert_int_eq(init_start(0), 0); /* an older init */
	ck_assert_int_eq(vm_exec_reap(vm, &res), 1);
	ck_assert_int_eq(res.error, -EOPNOTSUPP);
	ck_assert_int_eq(res.exit_code, 125);
	ck_assert_int_eq(vm_exec_start(vm, &spec, &id), -EOPNOTSUPP);
	ck_assert_ptr_null(next_rec(ALCATRAZ_CTL_EXEC, &len));
	teardown();

	/* No command, no channel. */
	vm = fake_vm_new(0);
	ck_assert_int_eq(vm_exec_start(vm, &spec, &id), -EOPNOTSUPP);
	ck_assert_int_eq(vm_exec_fd(vm), -1);
	fake_vm_free(vm);
}
END_TEST

/* A terminal's new size goes to a guest that said it takes it, as an
 * EXEC_WINSIZE record its own decoder accepts; never to an older init. */
START_TEST(resize_reaches_the_guest)
{
	char *argv[] = { "true", NULL };
	struct vm_exec_spec spec = { .argv = argv, .in_fd = -1, .out_fd = -1, .err_fd = -1 };
	uint16_t rows, cols;
	uint32_t id, got, len;
	const uint8_t *p;

	make_vm();
	ck_assert_int_eq(vm_exec_start(vm, &spec, &id), 0);
	/* Before INIT_START the guest's features are not known. */
	ck_assert_int_eq(vm_exec_resize(vm, id, 24, 80), -EOPNOTSUPP);
	ck_assert_int_eq(init_start(ALCATRAZ_CTL_FEAT_EXEC | ALCATRAZ_CTL_FEAT_EXEC_WINSIZE), 0);
	exec_poll(vm);
	ck_assert_ptr_nonnull(next_rec(ALCATRAZ_CTL_EXEC, &len));
	ck_assert_int_eq(vm_exec_resize(vm, id, 0, 80), -EINVAL);
	ck_assert_int_eq(vm_exec_resize(vm, id, 24, 0), -EINVAL);
	ck_assert_int_eq(vm_exec_resize(vm, id + 7, 24, 80), -ESRCH);
	ck_assert_int_eq(vm_exec_resize(vm, id, 65535, 1), 0);
	p = next_rec(ALCATRAZ_CTL_EXEC_WINSIZE, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(alcatraz_ctl_get_exec_winsize(p, len, &got, &rows, &cols), 0);
	ck_assert_uint_eq(got, id);
	ck_assert_uint_eq(rows, 65535);
	ck_assert_uint_eq(cols, 1);
	/* Ended: nothing to resize. */
	ck_assert_int_eq(start(id), 0);
	ck_assert_int_eq(status(id, ALCATRAZ_CTL_ST_EXITED, 0), 0);
	ck_assert_int_eq(vm_exec_resize(vm, id, 24, 80), -ESRCH);
	ck_assert_ptr_null(next_rec(ALCATRAZ_CTL_EXEC_WINSIZE, &len));
	teardown();

	/* An init without FEAT_EXEC_WINSIZE would take the record for a
	 * protocol error: it is never sent. */
	make_vm();
	ck_assert_int_eq(init_start(ALCATRAZ_CTL_FEAT_EXEC), 0);
	ck_assert_int_eq(vm_exec_start(vm, &spec, &id), 0);
	exec_poll(vm);
	ck_assert_int_eq(vm_exec_resize(vm, id, 24, 80), -EOPNOTSUPP);
	ck_assert_ptr_null(next_rec(ALCATRAZ_CTL_EXEC_WINSIZE, &len));
	teardown();
}
END_TEST

/* EXEC_WINSIZE as init decodes it: exactly 8 bytes from the host, sizes
 * of 1..65535; from the guest it is no record at all. */
START_TEST(winsize_record_decoding)
{
	uint8_t hdr[ALCATRAZ_CTL_HDR_SIZE], p[ALCATRAZ_CTL_EXEC_WINSIZE_LEN + 1] = { 0 };
	uint32_t type, len, id;
	uint16_t rows, cols;

	alcatraz_ctl_put_hdr(hdr, ALCATRAZ_CTL_EXEC_WINSIZE, ALCATRAZ_CTL_EXEC_WINSIZE_LEN);
	ck_assert_int_eq(alcatraz_ctl_check_hdr(hdr, 0, &type, &len), 0);
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(alcatraz_ctl_check_hdr(hdr, 1, &type, &len), -1);
	for (uint32_t bad = 0; bad < 16; bad++) {
		if (bad == ALCATRAZ_CTL_EXEC_WINSIZE_LEN)
			continue;
		alcatraz_ctl_put_hdr(hdr, ALCATRAZ_CTL_EXEC_WINSIZE, bad);
		ck_assert_int_eq(alcatraz_ctl_check_hdr(hdr, 0, &type, &len), -1);
	}
	alcatraz_ctl_put_le32(p, 9);
	alcatraz_ctl_put_le16(p + 4, 1);
	alcatraz_ctl_put_le16(p + 6, 65535);
	ck_assert_int_eq(alcatraz_ctl_get_exec_winsize(p, 8, &id, &rows, &cols), 0);
	ck_assert_uint_eq(id, 9);
	ck_assert_uint_eq(rows, 1);
	ck_assert_uint_eq(cols, 65535);
	ck_assert_int_eq(alcatraz_ctl_get_exec_winsize(p, 7, &id, &rows, &cols), -1);
	ck_assert_int_eq(alcatraz_ctl_get_exec_winsize(p, 9, &id, &rows, &cols), -1);
	alcatraz_ctl_put_le16(p + 4, 0);
	ck_assert_int_eq(alcatraz_ctl_get_exec_winsize(p, 8, &id, &rows, &cols), -1);
	alcatraz_ctl_put_le16(p + 4, 24);
	alcatraz_ctl_put_le16(p + 6, 0);
	ck_assert_int_eq(alcatraz_ctl_get_exec_winsize(p, 8, &id, &rows, &cols), -1);

	/* A guest that sends one breaks the protocol. */
	uint32_t w[2] = { 1, 24 << 16 | 80 };
	make_vm();
	ck_assert_int_eq(init_start(ALCATRAZ_CTL_FEAT_EXEC | ALCATRAZ_CTL_FEAT_EXEC_WINSIZE), 0);
	assert_protocol_error(guest_send(ALCATRAZ_CTL_EXEC_WINSIZE, w, 2, NULL, 0));
	teardown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("exec");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, exec_round_trip);
	tcase_add_test(tc, slow_sink_holds_acks_and_status);
	tcase_add_test(tc, window_overrun_is_a_protocol_error);
	tcase_add_test(tc, hostile_exec_records);
	tcase_add_test(tc, limits_and_validation);
	tcase_add_test(tc, queued_until_the_guest_is_ready);
	tcase_add_test(tc, resize_reaches_the_guest);
	tcase_add_test(tc, winsize_record_decoding);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
