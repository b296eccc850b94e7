// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Counts: "tick N" lines from 1 to COUNTER_TICKS about 20 ms of TSC apart,
 * then "done" and exit status 7 when every tick counted in memory and in a
 * register agree. A snapshot taken mid-way and restored must go on from
 * where it was (test_snapshot).
 */
#include "guest.h"

#define COUNTER_TICKS 60
#define TICK_TSC 50000000ull /* TSC cycles between ticks */

static volatile uint64_t ticks; /* in RAM: the memory file must hold it */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void put_dec(uint64_t v)
{
	char buf[21];
	int i = 20;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_serial(buf + i);
}

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	uint64_t mine = 0; /* in a register (or the stack): the vCPU state holds it */

	(void)ncpus;
	if (cpu)
		for (;;)
			__asm__ volatile("cli; hlt");
	while (ticks < COUNTER_TICKS) {
		uint64_t until = rdtsc() + TICK_TSC;
		while (rdtsc() < until)
			__asm__ volatile("pause");
		ticks++;
		mine++;
		puts_serial("tick ");
		put_dec(ticks);
		puts_serial("\n");
	}
	puts_serial(mine == ticks ? "done\n" : "lost count\n");
	return mine == ticks ? 7 : 1;
}
