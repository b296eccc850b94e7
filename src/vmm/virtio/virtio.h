/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio devices over the virtio-mmio transport (virtio 1.x, modern only).
 *
 * Threads: the guest touches a device's registers from vCPU threads (MMIO
 * exits, under the device lock); queues are processed by the device/event
 * thread (evloop.c), also under the device lock. A queue notification is an
 * eventfd: KVM signals it directly through an ioeventfd, or the MMIO handler
 * does when ioeventfds are unavailable, so both paths look the same.
 *
 * Everything the guest puts in a ring is hostile: queue.c copies each
 * descriptor before checking it and turns it into host iovecs only through
 * gmem_ptr(), with checked arithmetic; a malformed chain marks the device
 * NEEDS_RESET instead of being half-processed.
 */
#ifndef ALCATRAZ_VIRTIO_H
#define ALCATRAZ_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include "vmm.h"

#define VIRTIO_MMIO_BASE 0xd0000000ULL
#define VIRTIO_MMIO_SIZE 0x1000ULL
#define VIRTIO_FIRST_IRQ 5
#define VIRTIO_MAX_DEVICES 12
#define VIRTIO_MAX_QUEUES 8 /* a two-port console has 6 */
#define VIRTQ_MAX_SIZE 256
/* Segments in one chain, in each direction; longer chains are refused. */
#define VQ_MAX_SEGS 128
/* Chains a device takes from one queue per notification. A driver (or a
 * ring the device's own writes refill) can keep a queue busy for ever; past
 * this the device signals the queue again and returns, so the device thread
 * serves the other devices, releases the device lock and can stop. */
#define VQ_NOTIFY_BUDGET VIRTQ_MAX_SIZE

#define VIRTIO_F_VERSION_1_BIT 32

/* ------------------------------------------------------------ queue.c */

struct virtq {
	uint16_t num;          /* size the driver chose (power of two) */
	bool ready;
	uint64_t desc, avail, used;
	uint16_t last_avail;   /* next avail ring slot to consume */
	uint16_t used_idx;     /* our copy of used->idx */
	int kick_fd;           /* eventfd signalled on QueueNotify */
};

/* One popped descriptor chain: device-readable (out) then device-writable
 * (in) segments, as host iovecs into guest RAM. */
struct vq_elem {
	uint16_t head;
	unsigned int n_out, n_in;
	uint64_t out_len, in_len;
	struct iovec out[VQ_MAX_SEGS];
	struct iovec in[VQ_MAX_SEGS];
};

/* Checks that the rings of a queue of q->num entries lie in guest RAM and
 * are aligned as the spec requires. 0 or -EINVAL. */
int vq_check_layout(const struct guest_mem *m, const struct virtq *q);
/* True when the driver has made a chain available that we did not pop. */
bool vq_has_avail(const struct guest_mem *m, const struct virtq *q);
/* Pops the next chain: 1 = got one, 0 = ring empty, -EINVAL = malformed
 * (the queue must then be considered broken). */
int vq_pop(const struct guest_mem *m, struct virtq *q, struct vq_elem *e);
/* Puts a chain back unconsumed (for a device that popped too early). */
void vq_unpop(struct virtq *q);
/* Returns a chain to the driver with `len` bytes written. */
int vq_push(struct guest_mem *m, struct virtq *q, uint16_t head, uint32_t len);
/* Returns n chains at once: the elements first, then one index update, so
 * the driver sees all of them or none (a frame in merged buffers). */
int vq_push_many(struct guest_mem *m, struct virtq *q, const uint16_t *heads,
		 const uint32_t *lens, unsigned int n);
/* Whether the driver wants an interrupt now (avail->flags). */
bool vq_wants_interrupt(const struct guest_mem *m, const struct virtq *q);

/* Copy between iovecs and a flat buffer, starting `off` bytes in; return
 * the number of bytes copied (short when the iovecs end). */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t off, void *buf, size_t len);
size_t buf_to_iov(const struct iovec *iov, unsigned int n, size_t off, const void *buf,
		  size_t len);
/* Builds in `dst` the iovecs covering [off, off+len) of `src`; returns the
 * count (at most max). */
unsigned int iov_slice(const struct iovec *src, unsigned int n, size_t off, size_t len,
		       struct iovec *dst, unsigned int max);

/* ------------------------------------------------------------- mmio.c */

struct virtio_dev;

struct virtio_dev_ops {
	/* Event thread, device lock held: queue `q` was notified. */
	void (*notify)(struct virtio_dev *d, unsigned int q);
	/* vCPU thread, device lock held: the driver set DRIVER_OK. */
	void (*driver_ok)(struct virtio_dev *d);
	/* vCPU thread, device lock held: the driver reset the device. */
	void (*reset)(struct virtio_dev *d);
	/* Teardown after the event thread stopped. */
	void (*free)(struct virtio_dev *d);
	/* Queues (bit per index) whose notification is handled right in the
	 * vCPU thread that wrote QueueNotify, for drivers that spin until the
	 * buffer is used (hvc's put_chars): no thread hand-off per buffer. */
	uint32_t inline_queues;
	/* Snapshots (vstate/snapshot_virtio.c), device lock held. A device
	 * without `snapshot` makes a snapshot refuse, naming it. save writes
	 * the device's own state (at most cap bytes) and returns its length or
	 * a negative errno with *why; restore checks every field of it before
	 * it changes anything. NULL: the device keeps no state of its own. */
	bool snapshot;
	int (*save)(struct virtio_dev *d, uint8_t *buf, size_t cap, const char **why);
	int (*restore)(struct virtio_dev *d, const uint8_t *buf, size_t len, const char **why);
};

struct virtio_dev {
	struct vm *vm;
	const char *name;
	const struct virtio_dev_ops *ops;
	void *priv;
	uint32_t device_id;
	uint64_t base;
	uint32_t irq;
	uint64_t features;        /* offered */
	uint64_t driver_features; /* accepted */
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint32_t status;
	uint32_t isr;
	uint32_t config_gen;
	uint8_t config[64];
	uint32_t config_len;
	unsigned int nr_queues;
	struct virtq vqs[VIRTIO_MAX_QUEUES];
	pthread_mutex_t lock;
	bool ioeventfd;           /* KVM signals kick_fd itself */
};

/* Creates a device, its kick eventfds and its bus region; the device is
 * added to vm->virtio and its cmdline fragment to vm->virtio_cmdline. */
int virtio_dev_add(struct vm *vm, const char *name, uint32_t device_id, uint64_t features,
		   unsigned int nr_queues, const struct virtio_dev_ops *ops, void *priv,
		   struct virtio_dev **out) __must_check;
void virtio_dev_free(struct virtio_dev *d);
/* True when the driver has finished setup and the device is not broken. */
bool virtio_dev_live(const struct virtio_dev *d);
/* Raise the used-buffer interrupt for queue q if the driver wants it. */
void virtio_signal_used(struct virtio_dev *d, unsigned int q);
/* The guest did something illegal: stop the device until it resets it. */
void virtio_dev_needs_reset(struct virtio_dev *d, const char *why);
/* Pops from queue q of a live device; on a malformed chain marks the device
 * NEEDS_RESET and returns 0. */
int virtio_pop(struct virtio_dev *d, unsigned int q, struct vq_elem *e);
/* A device used its VQ_NOTIFY_BUDGET of queue q: signal q again, so the
 * device thread comes back to it after the rest of its work. */
void virtio_notify_again(struct virtio_dev *d, unsigned int q);
/* MMIO register handlers (exposed for unit tests). */
extern const struct bus_ops virtio_mmio_ops;

/* ------------------------------------------------------- device files */

int virtio_console_init(struct vm *vm) __must_check;
int virtio_vsock_init(struct vm *vm) __must_check;
int virtio_rng_init(struct vm *vm) __must_check;
/* fs.c: a vhost-user-fs device; takes vol->sock_fd (sets it to -1). */
int virtio_fs_init(struct vm *vm, struct vm_volume *vol) __must_check;
bool virtio_fs_tag_valid(const char *tag);
/* The volumes for alcatraz-init's command line: alcatraz.volumes=TAG:ro|rw:
 * PATH;... (PATH %XX-encoded) and alcatraz.root=virtiofs:TAG:overlay|rw for
 * the one mounted on "/". */
void virtio_fs_cmdline(const struct vm *vm, FILE *f);
/* Closes the sockets no device took, frees the volume list. */
void virtio_fs_config_free(struct vm_config *cfg);
/* Takes d->fd over (or opens d->path when it is -1). */
/* net.c: virtio-net on vm->cfg.net_fd (taken over, also on failure). */
int virtio_net_init(struct vm *vm) __must_check;
int virtio_blk_init(struct vm *vm, struct vm_disk *d) __must_check;

/* console.c: push every byte the guest queued for output to the sink now
 * (called when STATUS arrives, so output precedes the exit). */
void virtio_console_drain(struct vm *vm);
/* vsock.c: send what the control channel has queued (any thread except
 * with the vsock device lock held). */
void virtio_vsock_flush(struct vm *vm);

#endif
