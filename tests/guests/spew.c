// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Prints numbered lines ("spew 00000000\n", 14 bytes each) as fast as it
 * can (rep outsb a page at a time, though KVM exits once per byte), without
 * looking at the UART's LSR. Forever, or SPEW_BYTES and then exit status 0.
 */
#include "guest.h"

#ifndef SPEW_BYTES
#define SPEW_BYTES 0 /* forever */
#endif
#define SPEW_LINE 14

static void outsb(uint16_t port, const char *p, unsigned long n)
{
	__asm__ volatile("cld; rep outsb" : "+S"(p), "+c"(n) : "d"(port) : "memory");
}

static unsigned long fill(char *buf, unsigned long size, unsigned long *line)
{
	unsigned long n = 0;

	while (n + SPEW_LINE <= size) {
		unsigned long v = (*line)++;
		for (int i = 0; i < 5; i++)
			buf[n + i] = "spew "[i];
		for (int i = 12; i >= 5; i--, v /= 10)
			buf[n + i] = (char)('0' + v % 10);
		buf[n + 13] = '\n';
		n += SPEW_LINE;
	}
	return n;
}

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	char buf[4096];
	unsigned long line = 0, left = SPEW_BYTES;

	for (;;) {
		unsigned long n = fill(buf, sizeof(buf), &line);
		outsb(COM1, buf, n);
		if (SPEW_BYTES && (left = left > n ? left - n : 0) == 0)
			return 0;
	}
}
