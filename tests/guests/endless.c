// SPDX-License-Identifier: LGPL-2.1-or-later
/* Never ends: the VMM must stop it at its timeout. */
#include "guest.h"

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	puts_serial("looping forever\n");
	for (;;)
		__asm__ volatile("pause");
}
