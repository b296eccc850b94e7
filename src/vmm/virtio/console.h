/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-console's private state, shared by console.c (the ports' data)
 * and console_ctrl.c (the multiport control queues, virtio 1.2, 5.3.6.2).
 */
#ifndef ALCATRAZ_VIRTIO_CONSOLE_H
#define ALCATRAZ_VIRTIO_CONSOLE_H

#include "virtio.h"

#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_CONSOLE_F_MULTIPORT 1

/* Queues (5.3.2): port 0's pair, the control pair, then a pair per port. */
#define CONSOLE_Q_RX 0
#define CONSOLE_Q_TX 1
#define CONSOLE_Q_CTRL_RX 2 /* device -> driver */
#define CONSOLE_Q_CTRL_TX 3 /* driver -> device */
#define CONSOLE_Q_RX_PORT(p) ((p) == 0 ? CONSOLE_Q_RX : 2 + 2 * (p))
#define CONSOLE_Q_TX_PORT(p) ((p) == 0 ? CONSOLE_Q_TX : 3 + 2 * (p))
/* The console and the stderr port. */
#define CONSOLE_MAX_PORTS 2

/* Control messages (5.3.6.2): le32 id, le16 event, le16 value [, data]. */
#define CONSOLE_CTRL_LEN 8
enum console_ctrl_event {
	CONSOLE_DEVICE_READY = 0,
	CONSOLE_DEVICE_ADD = 1,
	CONSOLE_DEVICE_REMOVE = 2,
	CONSOLE_PORT_READY = 3,
	CONSOLE_CONSOLE_PORT = 4,
	CONSOLE_RESIZE = 5,
	CONSOLE_PORT_OPEN = 6,
	CONSOLE_PORT_NAME = 7,
};

struct console;

struct console_port {
	struct console *c;
	unsigned int q_tx;
	struct outbuf *ob;      /* the sink's buffer (fd -1: discards) */
	struct vq_elem tx;      /* the transmit chain being copied out */
	bool tx_busy;
	size_t tx_off;          /* its bytes already in the buffer */
	/* Control messages still owed to the driver (CTRL_OWE_*). */
	unsigned int owe;
	bool ready;             /* the driver sent PORT_READY(1) */
};

struct console {
	struct virtio_dev *dev;
	int in_fd, out_fd;
	uint8_t *pending;       /* stdin bytes read but not yet delivered */
	size_t pending_len, pending_off;
	bool in_eof;
	uint64_t in_total;      /* stdin bytes read in all */
	unsigned int nr_ports;  /* 1, or 2 with the multiport feature */
	struct console_port ports[CONSOLE_MAX_PORTS];
	bool dev_ready;         /* the driver sent DEVICE_READY(1) */
	struct vq_elem elem;    /* no allocation on the I/O path */
	struct vq_elem ctl;     /* a control chain */
};

/* console_ctrl.c, device lock held: a control queue was notified / the
 * device was reset. */
void console_ctrl_notify(struct console *c, unsigned int q);
void console_ctrl_reset(struct console *c);
/* Snapshots (virtio_dev_ops save/restore): the ports' control state. */
int console_snap_save(struct virtio_dev *d, uint8_t *buf, size_t cap, const char **why);
int console_snap_restore(struct virtio_dev *d, const uint8_t *buf, size_t len, const char **why);

#endif
