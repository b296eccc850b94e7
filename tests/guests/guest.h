/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the tiny guests: port I/O and the serial port. */
#ifndef TINY_GUEST_H
#define TINY_GUEST_H

#include <stdint.h>

#define COM1 0x3f8
#define EXIT_PORT 0xf4

int guest_main(unsigned long cpu, unsigned long ncpus);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void puts_serial(const char *s)
{
	while (*s)
		outb(COM1, (uint8_t)*s++);
}

static inline void put_hex(uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[19];
	buf[0] = '0';
	buf[1] = 'x';
	for (int i = 0; i < 16; i++)
		buf[2 + i] = digits[(v >> (60 - 4 * i)) & 0xf];
	buf[18] = 0;
	puts_serial(buf);
}

static inline void __attribute__((noreturn)) guest_exit(uint32_t status)
{
	outl(EXIT_PORT, status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif
