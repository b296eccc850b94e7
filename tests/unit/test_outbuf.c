// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: the bounded output buffer between devices and host sinks:
 * order and wrap-around, short puts and the space callback, sinks that never
 * drain (pipe, socket) never block, a reader that went away raises no SIGPIPE
 * in the calling thread, the caller's descriptor stays blocking, and the
 * terminal filter.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "outbuf.h"
#include "vmm.h"
#include "check_main.h"
#include "fake_vm.h"

static int p[2];
static struct outbuf *ob;
static int space_calls;

static void on_space(void *opaque)
{
	space_calls++;
}

static void setup(void)
{
	ck_assert_int_eq(pipe(p), 0);
	space_calls = 0;
	ob = NULL;
}

static void teardown(void)
{
	outbuf_free(ob);
	close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

/* Reads what is in the pipe now (read end made non-blocking). */
static size_t slurp(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += (size_t)n;
	return got;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

START_TEST(order_and_wraparound)
{
	char in[200], out[512];

	ck_assert_int_eq(outbuf_new(NULL, "t", p[1], 256, false, &ob), 0);
	for (int round = 0; round < 5; round++) {
		for (size_t i = 0; i < sizeof(in); i++)
			in[i] = (char)(round * 7 + i);
		ck_assert_uint_eq(outbuf_put(ob, in, sizeof(in)), sizeof(in));
		ck_assert_int_eq(outbuf_drain(ob), 0);
		ck_assert(outbuf_idle(ob));
		ck_assert_uint_eq(slurp(p[0], out, sizeof(out)), sizeof(in));
		ck_assert_mem_eq(out, in, sizeof(in));
	}
}
END_TEST

START_TEST(full_is_a_short_put_then_space)
{
	char in[300], out[512];

	memset(in, 'x', sizeof(in));
	ck_assert_int_eq(outbuf_new(NULL, "t", p[1], 256, false, &ob), 0);
	outbuf_set_space_cb(ob, on_space, NULL);
	ck_assert_uint_eq(outbuf_put(ob, in, sizeof(in)), 256);
	ck_assert_uint_eq(outbuf_room(ob), 0);
	ck_assert(!outbuf_idle(ob)); /* a producer waits for room */
	ck_assert_uint_eq(outbuf_put(ob, in, 1), 0);
	ck_assert_int_eq(space_calls, 0);
	ck_assert_int_eq(outbuf_drain(ob), 0);
	ck_assert_int_eq(space_calls, 1);
	ck_assert_uint_eq(outbuf_room(ob), 256);
	ck_assert_uint_eq(slurp(p[0], out, sizeof(out)), 256);
	/* all or nothing */
	ck_assert(!outbuf_put_all(ob, in, 257));
	ck_assert(outbuf_put_all(ob, in, 256));
	ck_assert_uint_eq(outbuf_dropped(ob), 257);
}
END_TEST

/* A pipe nobody reads: draining returns at once, never blocks. */
START_TEST(stalled_pipe_never_blocks)
{
	static char in[OUTBUF_DEFAULT_CAP];
	uint64_t t0;

	memset(in, 'y', sizeof(in));
	ck_assert_int_eq(outbuf_new(NULL, "t", p[1], OUTBUF_DEFAULT_CAP, false, &ob), 0);
	/* The caller's descriptor is left blocking. */
	ck_assert_int_eq(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	fill_pipe(p[1]);
	ck_assert_uint_eq(outbuf_put(ob, in, sizeof(in)), sizeof(in));
	t0 = now_ms();
	ck_assert_int_eq(outbuf_drain(ob), -EAGAIN);
	ck_assert_int_eq(outbuf_drain(ob), -EAGAIN);
	ck_assert_uint_lt(now_ms() - t0, 1000);
	ck_assert_int_eq(outbuf_poll_events(ob), POLLOUT);
	ck_assert(!outbuf_idle(ob));
	ck_assert_uint_eq(outbuf_put(ob, in, 1), 0);
	ck_assert_int_eq(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
}
END_TEST

START_TEST(stalled_socket_never_blocks)
{
	static char in[OUTBUF_DEFAULT_CAP];
	int sv[2];
	uint64_t t0;

	memset(in, 'z', sizeof(in));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(outbuf_new(NULL, "t", sv[0], OUTBUF_DEFAULT_CAP, false, &ob), 0);
	t0 = now_ms();
	/* Far more than the socket buffers hold: the sink pushes back. */
	for (int i = 0; i < 64; i++) {
		(void)outbuf_put(ob, in, sizeof(in));
		(void)outbuf_drain(ob);
	}
	ck_assert_int_eq(outbuf_drain(ob), -EAGAIN);
	ck_assert_uint_lt(now_ms() - t0, 1000);
	ck_assert_int_eq(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
	/* The reader goes away: broken, no SIGPIPE (MSG_NOSIGNAL). */
	close(sv[1]);
	ck_assert_int_eq(outbuf_drain(ob), 0);
	ck_assert(outbuf_broken(ob));
	ck_assert(outbuf_idle(ob));
	ck_assert_uint_eq(outbuf_put(ob, in, sizeof(in)), sizeof(in)); /* discarded */
	outbuf_free(ob);
	ob = NULL;
	close(sv[0]);
}
END_TEST

/* The reader went away: the write fails with EPIPE, the calling thread gets
 * no SIGPIPE (default action: death) and its signal mask is as it was. */
START_TEST(closed_reader_raises_no_sigpipe)
{
	sigset_t mask, pending;

	ck_assert(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
	ck_assert_int_eq(outbuf_new(NULL, "t", p[1], 256, false, &ob), 0);
	close(p[0]);
	p[0] = open("/dev/null", O_RDONLY); /* for teardown */
	ck_assert_uint_eq(outbuf_put(ob, "lost\n", 5), 5);
	ck_assert_int_eq(outbuf_drain(ob), 0);
	ck_assert(outbuf_broken(ob));
	ck_assert_uint_eq(outbuf_dropped(ob), 5);
	ck_assert_uint_eq(outbuf_put(ob, "more", 4), 4);
	ck_assert_uint_eq(outbuf_dropped(ob), 9);
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	ck_assert(!sigismember(&mask, SIGPIPE));
	ck_assert_int_eq(sigpending(&pending), 0);
	ck_assert(!sigismember(&pending, SIGPIPE));
}
END_TEST

START_TEST(no_sink_discards)
{
	ck_assert_int_eq(outbuf_new(NULL, "t", -1, 256, false, &ob), 0);
	ck_assert_uint_eq(outbuf_put(ob, "abc", 3), 3);
	ck_assert(outbuf_idle(ob));
	ck_assert_uint_eq(outbuf_dropped(ob), 0);
}
END_TEST

static void filtered(const char *in, size_t len, const char *want)
{
	struct outbuf_filter st = { 0 };
	uint8_t out[1024];
	size_t n = outbuf_filter(&st, (const uint8_t *)in, len, out, true);

	out[n] = 0;
	ck_assert_str_eq((char *)out, want);
}

START_TEST(filter_escapes_controls)
{
	filtered("plain text\r\n\tok", 15, "plain text\r\n\tok");
	filtered("\x1b]0;owned\x07", 10, "\\x1b]0;owned\\x07");
	filtered("\x1b[31mred", 8, "\\x1b[31mred");
	filtered("del\x7f\0nul", 8, "del\\x7f\\x00nul");
	/* UTF-8: printable passes, C1 (U+009B = CSI) and malformed do not. */
	filtered("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	filtered("\xc2\x9b" "2J", 4, "\\xc2\\x9b2J");
	filtered("\xff\xfe", 2, "\\xff\\xfe");
	filtered("\xc0\xaf", 2, "\\xc0\\xaf");          /* overlong '/' */
	filtered("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");  /* surrogate */
	filtered("\xe2\x82x", 3, "\\xe2\\x82x");        /* cut short */
	filtered("\xe2\x82", 2, "\\xe2\\x82");          /* cut by the end */
}
END_TEST

/* A sequence split across two puts is whole at the sink. */
START_TEST(filter_across_puts)
{
	char out[64] = { 0 };

	ck_assert_int_eq(outbuf_new(NULL, "t", p[1], 256, true, &ob), 0);
	ck_assert_uint_eq(outbuf_put(ob, "a\xc3", 2), 2);
	ck_assert_uint_eq(outbuf_put(ob, "\xa9\x1b", 2), 2);
	outbuf_end(ob);
	ck_assert_int_eq(outbuf_drain(ob), 0);
	ck_assert_uint_eq(slurp(p[0], out, sizeof(out)), 7);
	ck_assert_str_eq(out, "a\xc3\xa9\\x1b");
	/* Room is counted for the worst case (every byte escaped). */
	ck_assert_uint_eq(outbuf_room(ob), 256 / OUTBUF_FILTER_MAX);
}
END_TEST

START_TEST(config_output_filter)
{
	struct alcatraz_config *cfg;

	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_output_filter(NULL, ALCATRAZ_OUTPUT_FILTER_ON), -EINVAL);
	ck_assert_int_eq(alcatraz_config_set_output_filter(cfg, (enum alcatraz_output_filter)7),
			 -EINVAL);
	ck_assert_int_eq(alcatraz_config_set_output_filter(cfg, ALCATRAZ_OUTPUT_FILTER_OFF), 0);
	ck_assert_int_eq(alcatraz_config_set_output_filter(cfg, ALCATRAZ_OUTPUT_FILTER_ON), 0);
	ck_assert_int_eq(alcatraz_config_set_output_filter(cfg, ALCATRAZ_OUTPUT_FILTER_TTY), 0);
	alcatraz_config_free(cfg);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("outbuf");
	TCase *tc = tcase_create("outbuf");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, order_and_wraparound);
	tcase_add_test(tc, full_is_a_short_put_then_space);
	tcase_add_test(tc, stalled_pipe_never_blocks);
	tcase_add_test(tc, stalled_socket_never_blocks);
	tcase_add_test(tc, closed_reader_raises_no_sigpipe);
	tcase_add_test(tc, no_sink_discards);
	tcase_add_test(tc, filter_escapes_controls);
	tcase_add_test(tc, filter_across_puts);
	tcase_add_test(tc, config_output_filter);
	suite_add_tcase(su, tc);
	return run_suite(su);
}
