// SPDX-License-Identifier: LGPL-2.1-or-later
/* Says hello on COM1 and exits with status 0. */
#include "guest.h"

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	puts_serial("Hello from an Alcatraz tiny guest!\n");
	return 0;
}
