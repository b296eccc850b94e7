// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * virtio-console (virtio 1.2, section 5.3): the command's standard streams.
 * Port 0 is the console (hvc0 in the guest): stdin, stdout, and stderr
 * unless the VM has a separate stderr sink. Then the device offers
 * VIRTIO_CONSOLE_F_MULTIPORT and a second port named
 * ALCATRAZ_CTL_STDERR_PORT_NAME that carries stderr alone (5.3.6.2: the
 * control queues announce the ports; console_ctrl.c).
 *
 * Output is copied, exactly as the guest queued it, into a bounded buffer
 * per port that the device thread writes to its sink; when the buffer is
 * full the transmit chain stays unused (back-pressure: the guest waits for
 * its buffer, as it would for a slow real port) and the rest of that queue
 * is not looked at until the device thread has made room. Each port keeps
 * its own order; the two streams are independent, as two pipes would be.
 * The vCPU never waits for the host reader, so the VM's timeout and kill
 * work whatever the reader does. Input is read from the host's stdin into
 * a bounce buffer only when the guest has posted receive buffers, so a
 * guest that stops reading pushes back on the host instead of growing a
 * queue here.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "control.h"
#include "evloop.h"
#include "outbuf.h"

#define STDIN_CHUNK 65536

/* Copies the rest of the port's transmit chain into its buffer; false when
 * the buffer filled up first. */
static bool tx_copy(struct console_port *p)
{
	const struct vq_elem *e = &p->tx;
	size_t skip = p->tx_off;

	for (unsigned int i = 0; i < e->n_out; i++) {
		size_t len = e->out[i].iov_len, n;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		n = outbuf_put(p->ob, (const uint8_t *)e->out[i].iov_base + skip, len - skip);
		p->tx_off += n;
		if (n < len - skip)
			return false;
		skip = 0;
	}
	return true;
}

/* Device lock held. */
static void process_tx(struct console *c, struct console_port *p)
{
	struct virtio_dev *d = c->dev;
	bool any = false;

	for (;;) {
		if (!p->tx_busy) {
			if (virtio_pop(d, p->q_tx, &p->tx) <= 0)
				break;
			p->tx_busy = true;
			p->tx_off = 0;
		}
		if (!tx_copy(p))
			break; /* resumed by tx_space() */
		(void)vq_push(&d->vm->mem, &d->vqs[p->q_tx], p->tx.head, 0);
		p->tx_busy = false;
		any = true;
	}
	if (any)
		virtio_signal_used(d, p->q_tx);
}

/* The device thread made room in a port's buffer. */
static void tx_space(void *opaque)
{
	struct console_port *p = opaque;
	struct console *c = p->c;

	pthread_mutex_lock(&c->dev->lock);
	process_tx(c, p);
	pthread_mutex_unlock(&c->dev->lock);
}

/* Moves pending stdin bytes into receive buffers. Device lock held. */
static void process_rx(struct console *c)
{
	struct virtio_dev *d = c->dev;
	struct vq_elem *e = &c->elem;
	bool any = false;

	if (c->pending_off >= c->pending_len)
		return;
	while (c->pending_off < c->pending_len && virtio_pop(d, CONSOLE_Q_RX, e) > 0) {
		size_t n = buf_to_iov(e->in, e->n_in, 0, c->pending + c->pending_off,
				      c->pending_len - c->pending_off);
		c->pending_off += n;
		(void)vq_push(&d->vm->mem, &d->vqs[CONSOLE_Q_RX], e->head, (uint32_t)n);
		any = true;
	}
	if (c->pending_off >= c->pending_len)
		c->pending_off = c->pending_len = 0;
	if (any)
		virtio_signal_used(d, CONSOLE_Q_RX);
}

static void console_notify(struct virtio_dev *d, unsigned int q)
{
	struct console *c = d->priv;

	for (unsigned int i = 0; i < c->nr_ports; i++) {
		if (q == c->ports[i].q_tx) {
			process_tx(c, &c->ports[i]);
			return;
		}
	}
	if (q == CONSOLE_Q_RX)
		process_rx(c); /* new buffers: the loop re-asks want() next round */
	else if (c->nr_ports > 1)
		console_ctrl_notify(c, q);
	/* The stderr port's receive queue: it never gets input. */
}

static short stdin_want(void *opaque)
{
	struct console *c = opaque;
	short want = 0;

	pthread_mutex_lock(&c->dev->lock);
	if (!c->in_eof && c->pending_len == 0 && control_stdin_open(c->dev->vm) &&
	    virtio_dev_live(c->dev) &&
	    vq_has_avail(&c->dev->vm->mem, &c->dev->vqs[CONSOLE_Q_RX]))
		want = POLLIN;
	pthread_mutex_unlock(&c->dev->lock);
	return want;
}

static void stdin_ready(void *opaque, int fd, short revents)
{
	struct console *c = opaque;
	ssize_t n;

	do
		n = read(fd, c->pending, STDIN_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		c->in_eof = true;
		control_stdin_eof(c->dev->vm, c->in_total);
		return;
	}
	pthread_mutex_lock(&c->dev->lock);
	c->pending_len = (size_t)n;
	c->pending_off = 0;
	c->in_total += (uint64_t)n;
	process_rx(c);
	pthread_mutex_unlock(&c->dev->lock);
}

void virtio_console_drain(struct vm *vm)
{
	struct virtio_dev *d = vm->console_dev;
	struct console *c;

	if (!d)
		return;
	c = d->priv;
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < c->nr_ports; i++)
		process_tx(c, &c->ports[i]);
	pthread_mutex_unlock(&d->lock);
}

static void console_reset(struct virtio_dev *d)
{
	struct console *c = d->priv;

	c->pending_off = c->pending_len = 0;
	/* The chains belonged to the queues just reset. */
	for (unsigned int i = 0; i < c->nr_ports; i++)
		c->ports[i].tx_busy = false;
	console_ctrl_reset(c);
}

static void console_free(struct virtio_dev *d)
{
	struct console *c = d->priv;

	for (unsigned int i = 0; i < CONSOLE_MAX_PORTS; i++)
		outbuf_free(c->ports[i].ob);
	free(c->pending);
	free(c);
}

static const struct virtio_dev_ops console_ops = {
	.notify = console_notify,
	.reset = console_reset,
	.free = console_free,
	/* Output is copied by the vCPU that queued it: the guest spins until
	 * its buffer is used, so a hand-off to the device thread per 4 KiB
	 * would cost a thread wake-up each. Copying never waits. */
	.inline_queues = (1u << CONSOLE_Q_TX) | (1u << CONSOLE_Q_TX_PORT(1)),
	.snapshot = true,
	.save = console_snap_save,
	.restore = console_snap_restore,
};

static int port_init(struct vm *vm, struct console *c, unsigned int i, const char *name, int fd)
{
	struct console_port *p = &c->ports[i];
	int ret;

	p->c = c;
	p->q_tx = CONSOLE_Q_TX_PORT(i);
	ret = outbuf_new(vm, name, fd, OUTBUF_DEFAULT_CAP, vm_output_filtered(vm, fd), &p->ob);
	if (ret)
		return ret;
	outbuf_set_space_cb(p->ob, tx_space, p);
	return 0;
}

int virtio_console_init(struct vm *vm)
{
	struct console *c = calloc(1, sizeof(*c));
	int err_fd, ret;

	if (!c)
		return -ENOMEM;
	c->pending = malloc(STDIN_CHUNK);
	if (!c->pending) {
		free(c);
		return -ENOMEM;
	}
	c->in_fd = vm->cfg.argv ? vm->cfg.stdin_fd : -1;
	c->out_fd = vm->cfg.argv ? vm->cfg.stdout_fd : -1;
	err_fd = vm->cfg.argv ? vm->cfg.stderr_fd : -1;
	c->in_eof = c->in_fd < 0;
	c->nr_ports = err_fd >= 0 ? 2 : 1;
	ret = port_init(vm, c, 0, "console", c->out_fd);
	if (!ret && c->nr_ports > 1)
		ret = port_init(vm, c, 1, "stderr", err_fd);
	if (!ret)
		ret = virtio_dev_add(vm, "console", VIRTIO_ID_CONSOLE,
				     c->nr_ports > 1 ? 1ULL << VIRTIO_CONSOLE_F_MULTIPORT : 0,
				     c->nr_ports > 1 ? CONSOLE_Q_TX_PORT(1) + 1 : 2, &console_ops,
				     c, &c->dev);
	if (ret) {
		for (unsigned int i = 0; i < CONSOLE_MAX_PORTS; i++)
			outbuf_free(c->ports[i].ob);
		free(c->pending);
		free(c);
		return ret;
	}
	/* From here the device owns c (console_free). */
	for (unsigned int i = 0; i < c->nr_ports; i++)
		if (outbuf_fd(c->ports[i].ob) >= 0 &&
		    (ret = evloop_add_outbuf(vm->evloop, c->ports[i].ob)))
			return ret;
	/* cols, rows (unused: no VIRTIO_CONSOLE_F_SIZE), max_nr_ports, emerg_wr */
	c->dev->config_len = 12;
	c->dev->config[4] = (uint8_t)c->nr_ports;
	vm->console_dev = c->dev;
	if (c->in_fd >= 0)
		ret = evloop_add(vm->evloop, c->in_fd, stdin_want, stdin_ready, c);
	return ret;
}
