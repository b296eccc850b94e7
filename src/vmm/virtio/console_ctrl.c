// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * virtio-console's multiport control queues (virtio 1.2, 5.3.6.2). The
 * conversation, per device reset:
 *
 *   driver DEVICE_READY(1)       -> device DEVICE_ADD for each port
 *   driver PORT_READY(id, 1)     -> device CONSOLE_PORT(0, 1) for port 0 (hvc0),
 *                                   PORT_NAME(1, "alcatraz.stderr") for port 1,
 *                                   then PORT_OPEN(id, 1): the host end is open
 *   driver PORT_OPEN(id, 0 or 1) -> nothing (the guest opened or closed it)
 *
 * What the device owes the driver is a few bits per port, sent in order as
 * the driver posts control receive buffers, so a guest cannot make it queue
 * messages without bound. Every message from the driver is checked: a short
 * one, an unknown or device-only event, a port id out of range, PORT_READY
 * before DEVICE_READY or a second DEVICE_READY put the device in
 * NEEDS_RESET.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "../../guest/control_proto.h"

#define CTRL_OWE_ADD 1u
#define CTRL_OWE_CONSOLE 2u
#define CTRL_OWE_NAME 4u
#define CTRL_OWE_OPEN 8u

static const struct {
	unsigned int bit;
	uint16_t event;
} ctrl_order[] = {
	{ CTRL_OWE_ADD, CONSOLE_DEVICE_ADD },
	{ CTRL_OWE_CONSOLE, CONSOLE_CONSOLE_PORT },
	{ CTRL_OWE_NAME, CONSOLE_PORT_NAME },
	{ CTRL_OWE_OPEN, CONSOLE_PORT_OPEN },
};

static bool negotiated(const struct console *c)
{
	return c->dev->driver_features & (1ULL << VIRTIO_CONSOLE_F_MULTIPORT);
}

/* One message into the next control receive buffer: 1 sent, 0 no buffer,
 * -1 the device needs a reset. */
static int ctrl_put(struct console *c, uint32_t id, uint16_t event, uint16_t value,
		    const char *data)
{
	struct virtio_dev *d = c->dev;
	uint8_t m[CONSOLE_CTRL_LEN + 32];
	size_t len = CONSOLE_CTRL_LEN, dl = data ? strlen(data) : 0;

	if (dl > sizeof(m) - CONSOLE_CTRL_LEN)
		return -1;
	alcatraz_ctl_put_le32(m, id);
	alcatraz_ctl_put_le16(m + 4, event);
	alcatraz_ctl_put_le16(m + 6, value);
	if (dl) /* data may be NULL then */
		memcpy(m + len, data, dl);
	len += dl;
	if (virtio_pop(d, CONSOLE_Q_CTRL_RX, &c->ctl) <= 0)
		return 0;
	if (c->ctl.in_len < len) {
		virtio_dev_needs_reset(d, "control receive buffer too small");
		return -1;
	}
	(void)buf_to_iov(c->ctl.in, c->ctl.n_in, 0, m, len);
	(void)vq_push(&d->vm->mem, &d->vqs[CONSOLE_Q_CTRL_RX], c->ctl.head, (uint32_t)len);
	return 1;
}

/* Sends what the driver is owed, while it has buffers for it. */
static void ctrl_flush(struct console *c)
{
	bool any = false;

	for (unsigned int k = 0; k < ARRAY_SIZE(ctrl_order); k++) {
		for (unsigned int i = 0; i < c->nr_ports; i++) {
			struct console_port *p = &c->ports[i];
			int r;

			if (!(p->owe & ctrl_order[k].bit))
				continue;
			r = ctrl_put(c, i, ctrl_order[k].event, 1,
				     ctrl_order[k].event == CONSOLE_PORT_NAME
					     ? ALCATRAZ_CTL_STDERR_PORT_NAME : NULL);
			if (r <= 0)
				goto out;
			p->owe &= ~ctrl_order[k].bit;
			any = true;
		}
	}
out:
	if (any)
		virtio_signal_used(c->dev, CONSOLE_Q_CTRL_RX);
}

/* One message from the driver; false when the device needs a reset. */
static bool ctrl_handle(struct console *c, uint32_t id, uint16_t event, uint16_t value)
{
	struct virtio_dev *d = c->dev;
	char why[64];

	switch (event) {
	case CONSOLE_DEVICE_READY:
		if (c->dev_ready) {
			virtio_dev_needs_reset(d, "DEVICE_READY twice");
			return false;
		}
		if (value != 1)
			return true; /* the driver failed to set up: nothing to announce */
		c->dev_ready = true;
		for (unsigned int i = 0; i < c->nr_ports; i++)
			c->ports[i].owe |= CTRL_OWE_ADD;
		return true;
	case CONSOLE_PORT_READY:
	case CONSOLE_PORT_OPEN:
		if (id >= c->nr_ports) {
			snprintf(why, sizeof(why), "control message for port %u of %u", id,
				 c->nr_ports);
			virtio_dev_needs_reset(d, why);
			return false;
		}
		if (event == CONSOLE_PORT_OPEN)
			return true; /* the guest opened or closed its end */
		if (!c->dev_ready) {
			virtio_dev_needs_reset(d, "PORT_READY before DEVICE_READY");
			return false;
		}
		/* A repeat (the driver answers a repeated DEVICE_ADD so) is
		 * harmless: each port is announced once per reset. */
		if (value == 1 && !c->ports[id].ready) {
			c->ports[id].ready = true;
			c->ports[id].owe |= (id == 0 ? CTRL_OWE_CONSOLE : CTRL_OWE_NAME) | CTRL_OWE_OPEN;
		}
		return true;
	default:
		snprintf(why, sizeof(why), "control event %u from the driver", event);
		virtio_dev_needs_reset(d, why);
		return false;
	}
}

static void ctrl_receive(struct console *c)
{
	struct virtio_dev *d = c->dev;
	struct vq_elem *e = &c->ctl;
	unsigned int budget = VQ_NOTIFY_BUDGET;
	bool any = false;

	while (virtio_pop(d, CONSOLE_Q_CTRL_TX, e) > 0) {
		uint8_t m[CONSOLE_CTRL_LEN];
		bool ok;

		if (iov_to_buf(e->out, e->n_out, 0, m, sizeof(m)) < sizeof(m)) {
			virtio_dev_needs_reset(d, "control message shorter than 8 bytes");
			return;
		}
		(void)vq_push(&d->vm->mem, &d->vqs[CONSOLE_Q_CTRL_TX], e->head, 0);
		any = true;
		ok = ctrl_handle(c, alcatraz_ctl_get_le32(m), alcatraz_ctl_get_le16(m + 4),
				 alcatraz_ctl_get_le16(m + 6));
		if (!ok)
			return;
		if (--budget == 0) {
			virtio_notify_again(d, CONSOLE_Q_CTRL_TX);
			break;
		}
	}
	if (any)
		virtio_signal_used(d, CONSOLE_Q_CTRL_TX);
	ctrl_flush(c);
}

void console_ctrl_notify(struct console *c, unsigned int q)
{
	if (!negotiated(c))
		return;
	if (q == CONSOLE_Q_CTRL_TX)
		ctrl_receive(c);
	else if (q == CONSOLE_Q_CTRL_RX)
		ctrl_flush(c);
}

void console_ctrl_reset(struct console *c)
{
	c->dev_ready = false;
	for (unsigned int i = 0; i < CONSOLE_MAX_PORTS; i++) {
		c->ports[i].owe = 0;
		c->ports[i].ready = false;
	}
}

/* Snapshots: u32 ports, u32 DEVICE_READY seen, then per port u32 PORT_READY
 * seen and u32 the control messages still owed (CTRL_OWE_*). A chain half
 * copied out or stdin bytes not yet delivered are not state a snapshot
 * holds: the snapshot is refused until they are done. */
#define CTRL_OWE_ALL (CTRL_OWE_ADD | CTRL_OWE_CONSOLE | CTRL_OWE_NAME | CTRL_OWE_OPEN)

int console_snap_save(struct virtio_dev *d, uint8_t *buf, size_t cap, const char **why)
{
	struct console *c = d->priv;
	size_t len = 8 + 8 * (size_t)c->nr_ports;

	if (cap < len) {
		*why = "console state too large";
		return -EINVAL;
	}
	if (c->pending_off < c->pending_len) {
		*why = "console input not yet delivered";
		return -EBUSY;
	}
	alcatraz_ctl_put_le32(buf, c->nr_ports);
	alcatraz_ctl_put_le32(buf + 4, c->dev_ready);
	for (unsigned int i = 0; i < c->nr_ports; i++) {
		if (c->ports[i].tx_busy) {
			*why = "console output in flight";
			return -EBUSY;
		}
		alcatraz_ctl_put_le32(buf + 8 + 8 * i, c->ports[i].ready);
		alcatraz_ctl_put_le32(buf + 12 + 8 * i, c->ports[i].owe);
	}
	return (int)len;
}

int console_snap_restore(struct virtio_dev *d, const uint8_t *buf, size_t len, const char **why)
{
	struct console *c = d->priv;
	uint32_t ready[CONSOLE_MAX_PORTS], owe[CONSOLE_MAX_PORTS], dev_ready;

	if (len != 8 + 8 * (size_t)c->nr_ports || alcatraz_ctl_get_le32(buf) != c->nr_ports) {
		*why = "console state for another number of ports";
		return -EINVAL;
	}
	dev_ready = alcatraz_ctl_get_le32(buf + 4);
	for (unsigned int i = 0; i < c->nr_ports; i++) {
		ready[i] = alcatraz_ctl_get_le32(buf + 8 + 8 * i);
		owe[i] = alcatraz_ctl_get_le32(buf + 12 + 8 * i);
		if (ready[i] > 1 || (owe[i] & ~CTRL_OWE_ALL)) {
			*why = "bad console port state";
			return -EINVAL;
		}
	}
	if (dev_ready > 1) {
		*why = "bad console state";
		return -EINVAL;
	}
	c->dev_ready = dev_ready;
	for (unsigned int i = 0; i < c->nr_ports; i++) {
		c->ports[i].ready = ready[i];
		c->ports[i].owe = owe[i];
		c->ports[i].tx_busy = false;
	}
	return 0;
}
