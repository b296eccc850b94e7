// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A CMPXCHG16B on an address outside RAM: KVM must emulate the access to
 * hand it to the VMM as MMIO, and its emulator does not do the 16-byte
 * compare-exchange, so the run ends in an internal error (emulation
 * failed) with the instruction's bytes, which the VMM logs.
 */
#include "guest.h"

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	/* In the 32-bit MMIO hole, 16-byte aligned. */
	volatile uint64_t *p = (volatile uint64_t *)0xd0000000ULL;
	uint64_t lo = 0, hi = 0;

	puts_serial("about to cmpxchg16b outside RAM\n");
	__asm__ volatile("lock cmpxchg16b %2"
			 : "+a"(lo), "+d"(hi), "+m"(*p)
			 : "b"(1ULL), "c"(2ULL)
			 : "memory", "cc");
	puts_serial("the VMM emulated it?!\n");
	return 1;
}
