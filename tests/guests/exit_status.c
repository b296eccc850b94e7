// SPDX-License-Identifier: LGPL-2.1-or-later
/* Reports exit status 42 through the exit device. */
#include "guest.h"

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	puts_serial("exiting with 42\n");
	return 42;
}
