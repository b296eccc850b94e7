// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An 8250/16550A UART on COM1. Transmission is instantaneous, so the
 * transmitter is always empty; output is buffered per line and written to a
 * sink fd, which keeps a chatty guest to one write() per line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm.h"

#define UART_RX 0  /* in: receive buffer; out: transmit holding (DLL when DLAB) */
#define UART_IER 1 /* DLM when DLAB */
#define UART_IIR 2 /* in: interrupt identification; out: FIFO control */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define SERIAL_OUTBUF 1024
#define SERIAL_RXBUF 64

struct serial {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thri_pending;
	int irq_level;
	uint8_t rx[SERIAL_RXBUF];
	unsigned int rx_head, rx_count;
	int out_fd;
	char out[SERIAL_OUTBUF];
	size_t out_len;
	void (*raise_irq)(void *ctx, int level);
	void *ctx;
};

struct serial *serial_new(int out_fd, void (*raise_irq)(void *ctx, int level), void *ctx)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->out_fd = out_fd;
	s->raise_irq = raise_irq;
	s->ctx = ctx;
	s->dll = 12; /* 9600 baud, as firmware would leave it */
	return s;
}

void serial_flush(struct serial *s)
{
	size_t off = 0;

	while (s->out_fd >= 0 && off < s->out_len) {
		ssize_t n = write(s->out_fd, s->out + off, s->out_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a closed sink must not stop the guest */
		off += (size_t)n;
	}
	s->out_len = 0;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	serial_flush(s);
	free(s);
}

static void serial_update_irq(struct serial *s)
{
	int level = ((s->ier & IER_THRI) && s->thri_pending) || ((s->ier & IER_RDI) && s->rx_count);

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->raise_irq)
			s->raise_irq(s->ctx, level);
	}
}

static void serial_tx(struct serial *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP) {
		if (s->rx_count < SERIAL_RXBUF)
			s->rx[(s->rx_head + s->rx_count++) % SERIAL_RXBUF] = c;
		return;
	}
	s->out[s->out_len++] = (char)c;
	if (c == '\n' || s->out_len == SERIAL_OUTBUF)
		serial_flush(s);
}

static uint8_t serial_msr(const struct serial *s)
{
	uint8_t m = 0;

	if (!(s->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	/* Loopback wires the modem outputs back to the inputs; Linux's
	 * autoconfig checks exactly this mapping. */
	if (s->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (s->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (s->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

static uint8_t serial_read_reg(struct serial *s, unsigned int reg)
{
	uint8_t v = 0;

	switch (reg) {
	case UART_RX:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_RXBUF;
			s->rx_count--;
		}
		break;
	case UART_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case UART_IIR:
		if ((s->ier & IER_RDI) && s->rx_count) {
			v = IIR_RDI;
		} else if ((s->ier & IER_THRI) && s->thri_pending) {
			v = IIR_THRI;
			/* Reading IIR acknowledges a transmitter-empty interrupt. */
			s->thri_pending = false;
		} else {
			v = IIR_NO_INT;
		}
		if (s->fcr & FCR_ENABLE)
			v |= IIR_FIFO;
		break;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
	case UART_MSR:
		return serial_msr(s);
	case UART_SCR:
		return s->scr;
	}
	return v;
}

static void serial_write_reg(struct serial *s, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_RX:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			return;
		}
		serial_tx(s, v);
		s->thri_pending = true;
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			return;
		}
		if (!(s->ier & IER_THRI) && (v & IER_THRI))
			s->thri_pending = true;
		s->ier = v & 0x0f;
		break;
	case UART_IIR:
		s->fcr = v;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

static void serial_bus_read(void *opaque, uint64_t offset, void *data, uint32_t size)
{
	struct serial *s = opaque;

	memset(data, 0, size);
	((uint8_t *)data)[0] = serial_read_reg(s, (unsigned int)offset);
	serial_update_irq(s);
}

static void serial_bus_write(void *opaque, uint64_t offset, const void *data, uint32_t size)
{
	struct serial *s = opaque;

	serial_write_reg(s, (unsigned int)offset, ((const uint8_t *)data)[0]);
	serial_update_irq(s);
}

const struct bus_ops serial_ops = {
	.read = serial_bus_read,
	.write = serial_bus_write,
};

static void serial_irq(void *ctx, int level)
{
	struct vm *vm = ctx;
	struct kvm_irq_level irq = { .irq = SERIAL_COM1_IRQ, .level = (uint32_t)level };

	if (vm->irqchip && ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		vm_log(vm, LOG_WARN, "serial: KVM_IRQ_LINE: %s", strerror(errno));
}

int serial_device_init(struct vm *vm)
{
	vm->serial = serial_new(vm->cfg.serial_fd, serial_irq, vm);
	if (!vm->serial)
		return -ENOMEM;
	return bus_register(&vm->pio, "serial", SERIAL_COM1_BASE, 8, &serial_ops, vm->serial);
}

