// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * virtio-console (virtio 1.2, section 5.3), a single port: the command's
 * standard streams. Output is copied, exactly as the guest queued it, into
 * a bounded buffer that the device thread writes to the sink; when the
 * buffer is full the transmit chain stays unused (back-pressure: the guest
 * waits for its buffer, as it would for a slow real port) and the rest of
 * the queue is not looked at until the device thread has made room. The
 * vCPU never waits for the host reader, so the VM's timeout and kill work
 * whatever the reader does. Input is read from the host's stdin into a
 * bounce buffer only when the guest has posted receive buffers, so a guest
 * that stops reading pushes back on the host instead of growing a queue here.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "evloop.h"
#include "outbuf.h"
#include "virtio.h"

#define VIRTIO_ID_CONSOLE 3
#define Q_RX 0
#define Q_TX 1
#define STDIN_CHUNK 65536

struct console {
	struct virtio_dev *dev;
	int in_fd, out_fd;
	uint8_t *pending;       /* stdin bytes read but not yet delivered */
	size_t pending_len, pending_off;
	bool in_eof;
	uint64_t in_total;      /* stdin bytes read in all */
	struct outbuf *ob;      /* the sink's buffer (fd -1: discards) */
	struct vq_elem tx;      /* the transmit chain being copied out */
	bool tx_busy;
	size_t tx_off;          /* its bytes already in the buffer */
	struct vq_elem elem;    /* no allocation on the I/O path (seccomp: no mmap) */
};

/* Copies the rest of the transmit chain into the buffer; false when the
 * buffer filled up first. */
static bool tx_copy(struct console *c)
{
	const struct vq_elem *e = &c->tx;
	size_t skip = c->tx_off;

	for (unsigned int i = 0; i < e->n_out; i++) {
		size_t len = e->out[i].iov_len, n;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		n = outbuf_put(c->ob, (const uint8_t *)e->out[i].iov_base + skip, len - skip);
		c->tx_off += n;
		if (n < len - skip)
			return false;
		skip = 0;
	}
	return true;
}

/* Device lock held. */
static void process_tx(struct console *c)
{
	struct virtio_dev *d = c->dev;
	bool any = false;

	for (;;) {
		if (!c->tx_busy) {
			if (virtio_pop(d, Q_TX, &c->tx) <= 0)
				break;
			c->tx_busy = true;
			c->tx_off = 0;
		}
		if (!tx_copy(c))
			break; /* resumed by tx_space() */
		(void)vq_push(&d->vm->mem, &d->vqs[Q_TX], c->tx.head, 0);
		c->tx_busy = false;
		any = true;
	}
	if (any)
		virtio_signal_used(d, Q_TX);
}

/* The device thread made room in the buffer. */
static void tx_space(void *opaque)
{
	struct console *c = opaque;

	pthread_mutex_lock(&c->dev->lock);
	process_tx(c);
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
	while (c->pending_off < c->pending_len && virtio_pop(d, Q_RX, e) > 0) {
		size_t n = buf_to_iov(e->in, e->n_in, 0, c->pending + c->pending_off,
				      c->pending_len - c->pending_off);
		c->pending_off += n;
		(void)vq_push(&d->vm->mem, &d->vqs[Q_RX], e->head, (uint32_t)n);
		any = true;
	}
	if (c->pending_off >= c->pending_len)
		c->pending_off = c->pending_len = 0;
	if (any)
		virtio_signal_used(d, Q_RX);
}

static void console_notify(struct virtio_dev *d, unsigned int q)
{
	struct console *c = d->priv;

	if (q == Q_TX)
		process_tx(c);
	else if (q == Q_RX)
		process_rx(c); /* new buffers: the loop re-asks want() next round */
}

static short stdin_want(void *opaque)
{
	struct console *c = opaque;
	short want = 0;

	pthread_mutex_lock(&c->dev->lock);
	if (!c->in_eof && c->pending_len == 0 && control_stdin_open(c->dev->vm) &&
	    virtio_dev_live(c->dev) &&
	    vq_has_avail(&c->dev->vm->mem, &c->dev->vqs[Q_RX]))
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

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	process_tx(d->priv);
	pthread_mutex_unlock(&d->lock);
}

static void console_reset(struct virtio_dev *d)
{
	struct console *c = d->priv;

	c->pending_off = c->pending_len = 0;
	c->tx_busy = false; /* the chain belonged to the queue just reset */
}

static void console_free(struct virtio_dev *d)
{
	struct console *c = d->priv;

	outbuf_free(c->ob);
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
	.inline_queues = 1u << Q_TX,
};

int virtio_console_init(struct vm *vm)
{
	struct console *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->pending = malloc(STDIN_CHUNK);
	if (!c->pending) {
		free(c);
		return -ENOMEM;
	}
	c->in_fd = vm->cfg.argv ? vm->cfg.stdin_fd : -1;
	c->out_fd = vm->cfg.argv ? vm->cfg.stdout_fd : -1;
	c->in_eof = c->in_fd < 0;
	ret = outbuf_new(vm, "console", c->out_fd, OUTBUF_DEFAULT_CAP,
			 vm_output_filtered(vm, c->out_fd), &c->ob);
	if (!ret)
		ret = virtio_dev_add(vm, "console", VIRTIO_ID_CONSOLE, 0, 2, &console_ops, c,
				     &c->dev);
	if (ret) {
		outbuf_free(c->ob);
		free(c->pending);
		free(c);
		return ret;
	}
	outbuf_set_space_cb(c->ob, tx_space, c);
	if (c->out_fd >= 0 && (ret = evloop_add_outbuf(vm->evloop, c->ob)))
		return ret;
	c->dev->config_len = 12; /* cols, rows, max_nr_ports, emerg_wr: unused */
	vm->console_dev = c->dev;
	if (c->in_fd >= 0)
		ret = evloop_add(vm->evloop, c->in_fd, stdin_want, stdin_ready, c);
	return ret;
}
