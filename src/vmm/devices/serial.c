// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An 8250/16550A UART on COM1. Output is gathered per line (so lines from
 * the UART and the VMM's log stay whole on a shared stderr) and handed to a
 * bounded buffer that the device thread writes to the sink; the vCPU never
 * writes to the sink itself.
 *
 * When the buffer is full the UART pushes back the way a real one does: the
 * line buffer fills up, then LSR reads THRE/TEMT clear and no THRI comes
 * until the device thread has made room. A guest that polls LSR (or waits
 * for THRI, as Linux's 8250 driver does) then waits for the host reader and
 * loses nothing; a byte written while THRE is clear is dropped (a real UART
 * would overrun), counted and logged once. Dropping everything instead would
 * lose output behind any slow reader; blocking the vCPU would let a stalled
 * reader hold the VM past its timeout. A sink whose reader went away takes
 * everything (outbuf.h), so the transmitter is then always empty again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "evloop.h"
#include "outbuf.h"
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
	struct outbuf *ob;      /* owned; NULL: output is discarded */
	char out[SERIAL_OUTBUF]; /* the line being gathered (full: THRE clear) */
	size_t out_len;
	bool tx_stalled;        /* THRE went clear: raise THRI when it is back */
	pthread_mutex_t *lock;  /* the bus lock, for the device thread's callback */
	void (*raise_irq)(void *ctx, int level);
	void *ctx;
};

static void serial_update_irq(struct serial *s);

/* Hands the gathered bytes to the buffer; what does not fit stays. */
static void serial_push(struct serial *s)
{
	size_t n = s->ob ? outbuf_put(s->ob, s->out, s->out_len) : s->out_len;

	memmove(s->out, s->out + n, s->out_len - n);
	s->out_len -= n;
}

static bool serial_thr_empty(const struct serial *s)
{
	return s->out_len < SERIAL_OUTBUF;
}

/* The device thread made room in the buffer. */
static void serial_space(void *opaque)
{
	struct serial *s = opaque;

	if (s->lock)
		pthread_mutex_lock(s->lock);
	if (s->out_len)
		serial_push(s);
	if (s->tx_stalled && serial_thr_empty(s)) {
		s->tx_stalled = false;
		s->thri_pending = true;
		serial_update_irq(s);
	}
	if (s->lock)
		pthread_mutex_unlock(s->lock);
}

struct serial *serial_new(struct outbuf *ob, void (*raise_irq)(void *ctx, int level), void *ctx)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s) {
		outbuf_free(ob);
		return NULL;
	}
	s->ob = ob;
	s->raise_irq = raise_irq;
	s->ctx = ctx;
	s->dll = 12; /* 9600 baud, as firmware would leave it */
	if (ob)
		outbuf_set_space_cb(ob, serial_space, s);
	return s;
}

void serial_flush(struct serial *s)
{
	if (!s)
		return;
	serial_push(s);
	if (s->ob)
		outbuf_end(s->ob);
}

#define SERIAL_SNAP_THRI 0x1
#define SERIAL_SNAP_IRQ 0x2

void serial_save(struct serial *s, uint8_t out[SERIAL_STATE_SIZE])
{
	serial_push(s);
	out[0] = s->ier;
	out[1] = s->lcr;
	out[2] = s->mcr;
	out[3] = s->scr;
	out[4] = s->fcr;
	out[5] = s->dll;
	out[6] = s->dlm;
	out[7] = (s->thri_pending ? SERIAL_SNAP_THRI : 0) | (s->irq_level ? SERIAL_SNAP_IRQ : 0);
}

/* The registers as the guest could have written them, nothing more; the
 * interrupt line's level is the restored irqchip's already. */
int serial_restore(struct serial *s, const uint8_t *in, uint64_t len)
{
	if (len != SERIAL_STATE_SIZE || (in[0] & ~0x0f) || (in[2] & ~0x1f) ||
	    (in[7] & ~(SERIAL_SNAP_THRI | SERIAL_SNAP_IRQ)))
		return -EINVAL;
	s->ier = in[0];
	s->lcr = in[1];
	s->mcr = in[2];
	s->scr = in[3];
	s->fcr = in[4];
	s->dll = in[5];
	s->dlm = in[6];
	s->thri_pending = in[7] & SERIAL_SNAP_THRI;
	s->irq_level = !!(in[7] & SERIAL_SNAP_IRQ);
	return 0;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	outbuf_free(s->ob);
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
	if (!serial_thr_empty(s)) {
		outbuf_drop(s->ob, 1); /* full: only a full buffer clears THRE */
		return;
	}
	s->out[s->out_len++] = (char)c;
	if (c == '\n' || s->out_len == SERIAL_OUTBUF)
		serial_push(s);
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
		return (serial_thr_empty(s) ? LSR_THRE | LSR_TEMT : 0) | (s->rx_count ? LSR_DR : 0);
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
		/* Writing THR clears THRI; it comes back when THR is empty,
		 * which is at once unless the buffer is full. */
		s->thri_pending = serial_thr_empty(s);
		s->tx_stalled = !s->thri_pending;
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
	int fd = vm->cfg.serial_fd;
	struct outbuf *ob;
	int ret;

	ret = outbuf_new(vm, "serial", fd, OUTBUF_DEFAULT_CAP, vm_output_filtered(vm, fd), &ob);
	if (ret)
		return ret;
	vm->serial = serial_new(ob, serial_irq, vm);
	if (!vm->serial)
		return -ENOMEM;
	vm->serial->lock = &vm->pio.lock;
	if (fd >= 0 && (ret = evloop_add_outbuf(vm->evloop, ob)))
		return ret;
	return bus_register(&vm->pio, "serial", SERIAL_COM1_BASE, 8, &serial_ops, vm->serial);
}

