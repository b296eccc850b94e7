/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The counter guest (tests/guests/counter.c) as the snapshot tests see it:
 * "tick N" lines on its serial port up to COUNTER_TICKS, then "done" and
 * exit status COUNTER_STATUS. Check assertions; for tests only.
 */
#ifndef ALCATRAZ_TESTS_COUNTER_OUTPUT_H
#define ALCATRAZ_TESTS_COUNTER_OUTPUT_H

#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define COUNTER_TICKS 60
#define COUNTER_STATUS 7

/* Reads fd into text (cap bytes, NUL-terminated, *len so far) until `want`
 * appears or the pipe closes; a minute without output fails the test. */
static inline void serial_read_until(int fd, char *text, size_t cap, size_t *len,
				     const char *want)
{
	while (!strstr(text, want)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ck_assert_int_eq(poll(&p, 1, 60000), 1);
		ssize_t n = read(fd, text + *len, cap - 1 - *len);
		if (n <= 0)
			break;
		*len += (size_t)n;
		text[*len] = 0;
	}
}

/* The ticks in text are consecutive from its first to COUNTER_TICKS, then
 * "done": returns the first. */
static inline unsigned int counter_check_ticks(const char *text)
{
	unsigned int first = 0, want = 0, n;
	const char *p = text;

	while (sscanf(p, "tick %u\n", &n) == 1) {
		if (!first)
			first = want = n;
		ck_assert_msg(n == want, "tick %u after %u in:\n%s", n, want - 1, text);
		want++;
		p = strchr(p, '\n') + 1;
	}
	ck_assert_msg(first && want == COUNTER_TICKS + 1, "ticks end at %u in:\n%s", want - 1,
		      text);
	ck_assert_str_eq(p, "done\n");
	return first;
}

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#endif
