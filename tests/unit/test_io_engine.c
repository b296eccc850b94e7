// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: the disk I/O engines move bytes exactly (several requests in
 * flight, flush ordered after writes), and the io_uring engine refuses every
 * operation outside its restrictions.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_engine.h"
#include "check_main.h"

static char path[] = "/tmp/alcatraz-io-XXXXXX";
static int fd;

static void setup(void)
{
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
}

static void teardown(void)
{
	close(fd);
	unlink(path);
	strcpy(path, "/tmp/alcatraz-io-XXXXXX");
}

static void roundtrip(bool uring)
{
	struct io_engine *e;
	char why[128];
	enum { N = 16, LEN = 8192 };
	static uint8_t out[N][LEN], in[N][LEN];
	struct iovec wiov[N][2], riov[N];
	struct io_req w[N], r[N], flush = { .op = IO_FLUSH };

	ck_assert_int_eq(io_engine_new(&fd, 1, uring, &e, why, sizeof(why)), 0);
	if (uring && !io_engine_ring(e)) {
		printf("io_uring unavailable here (%s): only the fallback is tested\n", why);
		io_engine_free(e);
		return; /* io_uring unavailable here: the fallback is tested below */
	}
	for (int i = 0; i < N; i++) {
		for (int j = 0; j < LEN; j++)
			out[i][j] = (uint8_t)(i * 31 + j * 7);
		/* Two segments per write, split unevenly. */
		wiov[i][0] = (struct iovec){ out[i], 1000 };
		wiov[i][1] = (struct iovec){ out[i] + 1000, LEN - 1000 };
		w[i] = (struct io_req){ .op = IO_WRITE, .iov = wiov[i], .n = 2,
					.off = (uint64_t)i * LEN, .len = LEN };
		ck_assert_int_eq(io_engine_queue(e, &w[i]), 0);
	}
	ck_assert_int_eq(io_engine_queue(e, &flush), 0);
	io_engine_run(e);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(w[i].res, 0);
	ck_assert_int_eq(flush.res, 0);

	for (int i = 0; i < N; i++) {
		riov[i] = (struct iovec){ in[i], LEN };
		r[i] = (struct io_req){ .op = IO_READ, .iov = &riov[i], .n = 1,
					.off = (uint64_t)i * LEN, .len = LEN };
		ck_assert_int_eq(io_engine_queue(e, &r[i]), 0);
	}
	io_engine_run(e);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(r[i].res, 0);
		ck_assert_mem_eq(in[i], out[i], LEN);
	}
	/* Reading past the end of the file reads zeros, never stale bytes. */
	memset(in[0], 0xaa, LEN);
	r[0] = (struct io_req){ .op = IO_READ, .iov = &riov[0], .n = 1,
				.off = (1 << 20) - 4096, .len = LEN };
	ck_assert_int_eq(io_engine_queue(e, &r[0]), 0);
	io_engine_run(e);
	ck_assert_int_eq(r[0].res, 0);
	ck_assert_uint_eq(in[0][LEN - 1], 0);
	io_engine_free(e);
}

START_TEST(uring_roundtrip)
{
	roundtrip(true);
}
END_TEST

START_TEST(sync_roundtrip)
{
	roundtrip(false);
}
END_TEST

START_TEST(uring_restrictions_hold)
{
	struct io_engine *e;
	char why[128];
	struct io_uring_cqe *cqe;

	ck_assert_int_eq(io_engine_new(&fd, 1, true, &e, why, sizeof(why)), 0);
	struct io_uring *ring = io_engine_ring(e);
	printf("engine: %s\n", io_engine_name(e));
	if (!ring) {
		io_engine_free(e);
		return;
	}
	/* An opcode outside the list (openat), a read on a raw fd (not a
	 * registered file), and a new file registration: all refused. */
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
	ck_assert_int_eq(io_uring_submit_and_wait(ring, 1), 1);
	ck_assert_int_eq(io_uring_wait_cqe(ring, &cqe), 0);
	ck_assert_int_eq(cqe->res, -EACCES);
	io_uring_cqe_seen(ring, cqe);

	char buf[16];
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
	ck_assert_int_eq(io_uring_submit_and_wait(ring, 1), 1);
	ck_assert_int_eq(io_uring_wait_cqe(ring, &cqe), 0);
	ck_assert_int_eq(cqe->res, -EACCES);
	io_uring_cqe_seen(ring, cqe);

	int other = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(io_uring_register_files_update(ring, 0, &other, 1), -EACCES);
	close(other);
	io_engine_free(e);
}
END_TEST

START_TEST(bad_requests)
{
	struct io_engine *e;
	char why[128];
	struct io_req r = { .op = IO_READ, .file = 5 };

	ck_assert_int_eq(io_engine_new(&fd, 0, true, &e, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(io_engine_new(&fd, 1, false, &e, why, sizeof(why)), 0);
	ck_assert_str_eq(io_engine_name(e), "preadv/pwritev");
	ck_assert_int_eq(io_engine_queue(e, &r), -EINVAL); /* no such file */
	io_engine_free(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("io_engine");
	TCase *tc = tcase_create("io");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, uring_roundtrip);
	tcase_add_test(tc, sync_roundtrip);
	tcase_add_test(tc, uring_restrictions_hold);
	tcase_add_test(tc, bad_requests);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
