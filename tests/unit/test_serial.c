// SPDX-License-Identifier: LGPL-2.1-or-later
/* Description: the 8250 UART model: output, line buffering, back-pressure from a
 * stalled sink, registers, IRQs. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outbuf.h"
#include "vmm.h"
#include "check_main.h"
#include "fake_vm.h"

static int pipefd[2];
static struct serial *s;
static struct outbuf *ob;
static int irq_level = -1, irq_changes;

static void on_irq(void *ctx, int level)
{
	irq_level = level;
	irq_changes++;
}

static void setup(void)
{
	ck_assert_int_eq(pipe(pipefd), 0);
	irq_level = -1;
	irq_changes = 0;
	ck_assert_int_eq(outbuf_new(NULL, "serial", pipefd[1], OUTBUF_DEFAULT_CAP, false, &ob), 0);
	s = serial_new(ob, on_irq, NULL);
	ck_assert_ptr_nonnull(s);
}

static void teardown(void)
{
	serial_free(s);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void wr(unsigned reg, uint8_t v)
{
	serial_ops.write(s, reg, &v, 1);
}

static uint8_t rd(unsigned reg)
{
	uint8_t v = 0xaa;
	serial_ops.read(s, reg, &v, 1);
	return v;
}

static void put(const char *str)
{
	while (*str)
		wr(0, (uint8_t)*str++);
}

START_TEST(output_is_line_buffered)
{
	char buf[64] = { 0 };
	put("abc");
	/* Nothing yet: no newline. */
	ck_assert_int_eq(write(pipefd[1], "", 0), 0);
	ck_assert_int_eq(outbuf_drain(ob), 0);
	ck_assert(fcntl(pipefd[0], F_SETFL, O_NONBLOCK) == 0);
	ck_assert_int_eq(read(pipefd[0], buf, sizeof(buf)), -1);
	put("\n");
	ck_assert_int_eq(outbuf_drain(ob), 0);
	ck_assert_int_eq(read(pipefd[0], buf, sizeof(buf)), 4);
	ck_assert_str_eq(buf, "abc\n");
	put("tail");
	serial_flush(s);
	ck_assert_int_eq(outbuf_drain(ob), 0);
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(read(pipefd[0], buf, sizeof(buf)), 4);
	ck_assert_str_eq(buf, "tail");
}
END_TEST

START_TEST(lsr_ready_when_empty)
{
	ck_assert_uint_eq(rd(5) & 0x60, 0x60);
	ck_assert_uint_eq(rd(5) & 0x01, 0); /* no input */
}
END_TEST

START_TEST(dlab_and_scratch)
{
	wr(3, 0x80);     /* DLAB */
	wr(0, 0x01);     /* DLL: must not be transmitted */
	wr(1, 0x02);     /* DLM */
	ck_assert_uint_eq(rd(0), 0x01);
	ck_assert_uint_eq(rd(1), 0x02);
	wr(3, 0x03);
	ck_assert_uint_eq(rd(3), 0x03);
	wr(7, 0x5a);
	ck_assert_uint_eq(rd(7), 0x5a);
	serial_flush(s);
	char c;
	ck_assert_int_eq(write(pipefd[1], "x", 1), 1);
	ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
	ck_assert_int_eq(c, 'x'); /* the divisor write produced no output */
}
END_TEST

START_TEST(loopback_maps_modem_lines)
{
	wr(4, 0x10 | 0x0a); /* loop + RTS + OUT2 */
	ck_assert_uint_eq(rd(6) & 0xf0, 0x90); /* CTS + DCD */
	wr(0, 'Q');         /* looped back, not sent */
	ck_assert_uint_eq(rd(5) & 0x01, 0x01);
	ck_assert_uint_eq(rd(0), 'Q');
	ck_assert_uint_eq(rd(5) & 0x01, 0x00);
}
END_TEST

START_TEST(thre_interrupt)
{
	ck_assert_uint_eq(rd(2) & 0x0f, 0x01); /* nothing pending */
	wr(1, 0x02);                            /* enable THRI */
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(rd(2) & 0x0f, 0x02);  /* THRI, and reading acks it */
	ck_assert_int_eq(irq_level, 0);
	ck_assert_uint_eq(rd(2) & 0x0f, 0x01);
	wr(0, 'z');
	ck_assert_int_eq(irq_level, 1);
	wr(2, 0x01);                            /* FIFO on */
	ck_assert_uint_eq(rd(2) & 0xc0, 0xc0);
}
END_TEST

/* Guest bytes (not the filler) read from the pipe now. */
static size_t count_guest_bytes(int fd)
{
	char buf[4096];
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < r; i++)
			n += buf[i] != '#';
	return n;
}

/*
 * Nobody reads the sink: the UART's writes never block; once the buffer
 * and the line are full LSR says "not ready" and no THRI comes; a byte the
 * guest writes anyway is dropped and counted; when the reader catches up,
 * THRE and THRI come back and every byte written while THRE was set
 * arrives.
 */
START_TEST(stalled_sink_pushes_back)
{
	size_t written = 0, got = 0;

	ck_assert(fcntl(pipefd[0], F_SETFL, O_NONBLOCK) == 0);
	fill_pipe(pipefd[1]);
	wr(1, 0x02); /* THRI on */
	(void)rd(2);
	while (rd(5) & 0x20) {
		wr(0, written % 64 == 63 ? '\n' : (uint8_t)('a' + written % 26));
		written++;
		/* Once a line: a drain per byte would make this a 64K-syscall loop. */
		if (written % 64 == 0) {
			int r = outbuf_drain(ob); /* returns at once, the pipe is full */
			ck_assert(r == 0 || r == -EAGAIN);
		}
		ck_assert_uint_lt(written, 4 * OUTBUF_DEFAULT_CAP);
	}
	ck_assert_uint_ge(written, OUTBUF_DEFAULT_CAP);
	ck_assert_uint_eq(rd(5) & 0x60, 0);
	ck_assert_uint_eq(rd(2) & 0x0f, 0x01); /* no THRI while full */
	ck_assert_int_eq(irq_level, 0);
	wr(0, '!');
	wr(0, '!');
	ck_assert_uint_eq(outbuf_dropped(ob), 2);

	/* The reader catches up. */
	got += count_guest_bytes(pipefd[0]);
	(void)outbuf_drain(ob);
	ck_assert_uint_eq(rd(5) & 0x60, 0x60);
	ck_assert_int_eq(irq_level, 1);
	for (int i = 0; i < 1000 && !outbuf_idle(ob); i++) {
		got += count_guest_bytes(pipefd[0]);
		(void)outbuf_drain(ob);
	}
	serial_flush(s);
	ck_assert_int_eq(outbuf_drain(ob), 0);
	got += count_guest_bytes(pipefd[0]);
	ck_assert_uint_eq(got, written);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("serial");
	TCase *tc = tcase_create("uart");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30); /* 64 KiB of guest writes, one by one, under valgrind */
	tcase_add_test(tc, output_is_line_buffered);
	tcase_add_test(tc, lsr_ready_when_empty);
	tcase_add_test(tc, stalled_sink_pushes_back);
	tcase_add_test(tc, dlab_and_scratch);
	tcase_add_test(tc, loopback_maps_modem_lines);
	tcase_add_test(tc, thre_interrupt);
	suite_add_tcase(su, tc);
	return run_suite(su);
}
