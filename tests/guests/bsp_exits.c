// SPDX-License-Identifier: LGPL-2.1-or-later
/* vCPU 0 exits with status 7 at once; every other vCPU spins in the guest
 * for good, so the VM ends only if the VMM stops each of them. */
#include "guest.h"

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	if (cpu == 0)
		return 7;
	for (;;)
		__asm__ volatile("pause");
}
