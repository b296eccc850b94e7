// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Intel MultiProcessor Specification 1.4 tables: how a Linux guest without
 * ACPI finds its CPUs, its IOAPIC and the routing of ISA interrupts. The
 * floating pointer sits in the last KiB below 640 KiB, where Linux scans.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "linux_boot.h"

#define MPC_HDR 44
#define MPC_CPU 20
#define MPC_SMALL 8
#define NR_ISA_IRQS 24
#define LAPIC_BASE 0xfee00000u
#define IOAPIC_BASE 0xfec00000u
#define FLOAT_OFFSET 0xc00

uint64_t mptable_size(unsigned int ncpus)
{
	/* CPUs, one bus, one IOAPIC, interrupt sources, two local ones. */
	return MPC_HDR + (uint64_t)ncpus * MPC_CPU + MPC_SMALL * (2 + NR_ISA_IRQS + 2);
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return (uint8_t)-s;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

int mptable_write(struct guest_mem *m, uint64_t gpa, unsigned int ncpus)
{
	uint64_t size = mptable_size(ncpus);
	uint8_t *t, *p, fp[16] = { 0 };
	uint16_t entries = 0;
	uint8_t ioapic_id = (uint8_t)ncpus;
	int ret;

	if (ncpus == 0 || ncpus > 254 || size > FLOAT_OFFSET)
		return -EINVAL;
	t = calloc(1, size);
	if (!t)
		return -ENOMEM;
	memcpy(t, "PCMP", 4);
	t[6] = 4; /* spec revision 1.4 */
	memcpy(t + 8, "ALCATRAZ", 8);
	memcpy(t + 16, "MICROVM     ", 12);
	put32(t + 36, LAPIC_BASE);
	p = t + MPC_HDR;

	for (unsigned int i = 0; i < ncpus; i++, entries++) {
		p[0] = 0;                        /* processor */
		p[1] = (uint8_t)i;               /* local APIC id = vCPU index (cpuid.c) */
		p[2] = 0x14;                     /* local APIC version */
		p[3] = 1 | (i == 0 ? 2 : 0);     /* enabled, bootstrap */
		put32(p + 4, 0x600);             /* family 6 */
		put32(p + 8, 0x201);             /* FPU, APIC */
		p += MPC_CPU;
	}
	p[0] = 1;                                /* bus 0: ISA */
	memcpy(p + 2, "ISA   ", 6);
	p += MPC_SMALL, entries++;
	p[0] = 2;                                /* the IOAPIC */
	p[1] = ioapic_id;
	p[2] = 0x11;
	p[3] = 1;
	put32(p + 4, IOAPIC_BASE);
	p += MPC_SMALL, entries++;
	for (unsigned int irq = 0; irq < NR_ISA_IRQS; irq++) {
		/* ISA IRQ n is IOAPIC pin n, as KVM's default GSI routing wires
		 * them (PCs and QEMU put the PIT on pin 2; KVM does not unless
		 * the VMM reroutes GSI 0).  IRQ 2 is the PIC cascade. */
		if (irq == 2)
			continue;
		p[0] = 3;                        /* I/O interrupt */
		p[1] = 0;                        /* vectored */
		put16(p + 2, 0);                 /* conforms to the bus: edge, high */
		p[4] = 0;
		p[5] = (uint8_t)irq;
		p[6] = ioapic_id;
		p[7] = (uint8_t)irq;
		p += MPC_SMALL, entries++;
	}
	p[0] = 4, p[1] = 3, p[4] = 0, p[5] = 0, p[6] = 0xff, p[7] = 0; /* LINT0: ExtINT */
	p += MPC_SMALL, entries++;
	p[0] = 4, p[1] = 1, p[4] = 0, p[5] = 0, p[6] = 0xff, p[7] = 1; /* LINT1: NMI */
	p += MPC_SMALL, entries++;

	size = (uint64_t)(p - t);
	put16(t + 4, (uint16_t)size);
	put16(t + 34, entries);
	t[7] = checksum(t, size);

	memcpy(fp, "_MP_", 4);
	put32(fp + 4, (uint32_t)gpa);
	fp[8] = 1; /* length in 16-byte units */
	fp[9] = 4;
	fp[10] = checksum(fp, sizeof(fp));

	ret = gmem_write(m, gpa, t, size);
	if (!ret)
		ret = gmem_write(m, gpa + FLOAT_OFFSET, fp, sizeof(fp));
	free(t);
	return ret;
}
