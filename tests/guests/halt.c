// SPDX-License-Identifier: LGPL-2.1-or-later
/* Halts with interrupts off: without an irqchip the VM ends as "halt". */
#include "guest.h"

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	puts_serial("halting\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}
