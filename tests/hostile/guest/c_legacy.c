// SPDX-License-Identifier: LGPL-2.1-or-later
/* The legacy devices (8250 UART, i8042, the exit device), unowned ports and
 * MMIO, and the ways a guest ends its VM. */
#include "hostile.h"

#define UART_RX 0
#define UART_IER 1
#define UART_IIR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

int case_l_serial(void)
{
	EXPECT_EQ(inb(COM1 + UART_LSR), 0x60); /* transmitter empty, no data */
	outb(COM1 + UART_SCR, 0x5a);
	EXPECT_EQ(inb(COM1 + UART_SCR), 0x5a);
	EXPECT_EQ(inb(COM1 + UART_MSR), 0xb0);
	/* Divisor latch: its own registers, then back to the data path. */
	outb(COM1 + UART_LCR, 0x80);
	outb(COM1 + UART_RX, 0x01);
	outb(COM1 + UART_IER, 0x02);
	EXPECT_EQ(inb(COM1 + UART_RX), 0x01);
	EXPECT_EQ(inb(COM1 + UART_IER), 0x02);
	outb(COM1 + UART_LCR, 0x03);
	EXPECT_EQ(inb(COM1 + UART_IER), 0x00);
	/* Loopback: 100 bytes in, the receive FIFO keeps 64, in order. */
	outb(COM1 + UART_MCR, 0x10 | 0x0f);
	EXPECT_EQ(inb(COM1 + UART_MSR), 0xf0);
	for (int i = 0; i < 100; i++)
		outb(COM1 + UART_RX, (uint8_t)i);
	for (int i = 0; i < 64; i++) {
		EXPECT_EQ(inb(COM1 + UART_LSR) & 1, 1);
		EXPECT_EQ(inb(COM1 + UART_RX), i);
	}
	EXPECT_EQ(inb(COM1 + UART_LSR) & 1, 0);
	EXPECT_EQ(inb(COM1 + UART_RX), 0);
	/* Interrupt identification: THRE once enabled, cleared by reading. */
	outb(COM1 + UART_MCR, 0);
	outb(COM1 + UART_IER, 0x02);
	EXPECT_EQ(inb(COM1 + UART_IIR), 0x02);
	EXPECT_EQ(inb(COM1 + UART_IIR), 0x01);
	outb(COM1 + UART_IER, 0);
	/* LSR and MSR are read-only. */
	outb(COM1 + UART_LSR, 0);
	outb(COM1 + UART_MSR, 0);
	EXPECT_EQ(inb(COM1 + UART_LSR), 0x60);
	return 0;
}

int case_l_serial_long(void)
{
	for (int i = 0; i < 1500; i++)
		outb(COM1, 'x');
	outb(COM1, '\n');
	return 0;
}

int case_l_rep_outs(void)
{
	static const char text[] = "rep outsb reached the serial port\n";
	uint8_t in[16];
	const char *p = text;
	uint8_t *d = in;
	unsigned long n = sizeof(text) - 1;

	__asm__ volatile("cld; rep outsb" : "+S"(p), "+c"(n) : "d"(COM1) : "memory");
	/* REP INSB from a port nobody owns: all ones. */
	n = sizeof(in);
	__asm__ volatile("cld; rep insb" : "+D"(d), "+c"(n) : "d"(0x2f8) : "memory");
	for (unsigned int i = 0; i < sizeof(in); i++)
		EXPECT_EQ(in[i], 0xff);
	return 0;
}

int case_l_unowned(void)
{
	static const uint16_t ports[] = { 0x80, 0x2f8, 0x3f0, 0xcf8, 0xcfc, 0xf8, 0xffff };

	for (unsigned int i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		EXPECT_EQ(inb(ports[i]), 0xff);
		outb(ports[i], 0x55);
	}
	/* MMIO nothing owns. */
	EXPECT_EQ(*(volatile uint32_t *)0xe0000000UL, 0xffffffff);
	*(volatile uint32_t *)0xe0000000UL = 1;
	/* Accesses across a page end reach the VMM in two halves, each
	 * answered by its owner: the blk device's config space past its end
	 * (0), then the empty slot (all ones); written: rng's read-only
	 * config space and blk's read-only magic. */
	EXPECT_EQ(*(volatile uint32_t *)(VIO_BLK_RO + 0xffe), 0xffff0000);
	*(volatile uint64_t *)(VIO_RNG + 0xffc) = ~0ULL;
	EXPECT_EQ(mr(VIO_RNG, R_STATUS), 0);
	EXPECT_EQ(mr(VIO_BLK, R_MAGIC), 0x74726976);
	/* i8042: status and data read 0; commands other than 0xfe ignored. */
	EXPECT_EQ(inb(0x64), 0);
	EXPECT_EQ(inb(0x60), 0);
	outb(0x64, 0xd1);
	outb(0x60, 0xfe);
	outb(0x64, 0xff);
	return 0;
}

int case_l_i8042_reset(void)
{
	outb(0x64, 0xfe);
	for (;;)
		cpu_relax();
}

int case_l_exit_wide(void)
{
	outl(EXIT_PORT, 0x12345634);
	for (;;)
		cpu_relax();
}

int case_l_exit_byte(void)
{
	outb(EXIT_PORT + 3, 0x99); /* any port of the device: the byte is the status */
	for (;;)
		cpu_relax();
}

int case_l_triple_fault(void)
{
	/* An empty IDT: the first exception cannot be delivered. */
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idt = { 0, 0 };
	__asm__ volatile("lidt %0; int3" : : "m"(idt));
	for (;;)
		cpu_relax();
}
