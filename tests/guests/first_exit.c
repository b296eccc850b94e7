// SPDX-License-Identifier: LGPL-2.1-or-later
/* Exits at once: one VM exit, for measuring VM create-to-first-exit cost. */
#include "guest.h"

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	return 0;
}
