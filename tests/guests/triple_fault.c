// SPDX-License-Identifier: LGPL-2.1-or-later
/* Raises an exception with no IDT: the CPU escalates to a triple fault. */
#include "guest.h"

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	puts_serial("about to triple fault\n");
	__asm__ volatile("ud2");
	puts_serial("still alive?!\n");
	return 1;
}
