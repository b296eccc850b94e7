// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Touches guest-physical addresses outside RAM: a write and a read in the
 * 32-bit MMIO hole and just below 4 GiB. Nothing owns them, so the VMM must
 * ignore the writes, return all ones for the reads, and keep running.
 */
#include "guest.h"

static int probe(uint64_t gpa)
{
	volatile uint32_t *p = (volatile uint32_t *)gpa;
	*p = 0x12345678u;
	uint32_t v = *p;
	puts_serial("read ");
	put_hex(gpa);
	puts_serial(" = ");
	put_hex(v);
	puts_serial("\n");
	return v == 0xffffffffu;
}

int guest_main(unsigned long cpu, unsigned long ncpus)
{
	int ok = probe(0xd0000000ULL) && probe(0xfff00000ULL);
	puts_serial(ok ? "mmio ok\n" : "mmio FAILED\n");
	return ok ? 0 : 1;
}
