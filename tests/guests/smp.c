// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Every vCPU reports in turn: vCPU n waits for vCPU n-1's turn to pass, so
 * the lines come out whole and in order; the last one exits with status 0.
 */
#include "guest.h"

static volatile unsigned long turn;

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != cpu)
		__asm__ volatile("pause");
	puts_serial("cpu ");
	outb(COM1, (uint8_t)('0' + cpu));
	puts_serial(" of ");
	outb(COM1, (uint8_t)('0' + ncpus));
	puts_serial(" reporting\n");
	__atomic_store_n(&turn, cpu + 1, __ATOMIC_RELEASE);
	if (cpu + 1 == ncpus)
		guest_exit(0);
	for (;;)
		__asm__ volatile("cli; hlt");
}
