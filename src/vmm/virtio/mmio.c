// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The virtio-mmio transport, version 2 (virtio 1.2, section 4.2.2), modern
 * devices only. Queue configuration is accepted until the queue is enabled
 * and never after DRIVER_OK: the rings the event thread walks cannot move
 * under it. Queue notifications become eventfd signals for the event thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "evloop.h"
#include "virtio.h"

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_VENDOR_ID 0x00c
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DESC_HIGH 0x084
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4
#define REG_SHM_LEN_LOW 0x0b0
#define REG_SHM_LEN_HIGH 0x0b4
#define REG_CONFIG_GENERATION 0x0fc
#define REG_CONFIG 0x100

#define MMIO_MAGIC 0x74726976 /* "virt" */
#define MMIO_VERSION 2
#define MMIO_VENDOR 0x5a54434c /* "LCTZ" */

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define STATUS_NEEDS_RESET 0x40
#define STATUS_FAILED 0x80
/* The bits a driver sets; 0x10 and 0x20 are undefined, NEEDS_RESET is the
 * device's. */
#define STATUS_DRIVER_BITS \
	(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK | STATUS_FAILED)

#define ISR_USED 1
#define ISR_CONFIG 2

static void pulse_irq(struct virtio_dev *d)
{
	struct vm *vm = d->vm;
	struct kvm_irq_level irq = { .irq = d->irq, .level = 1 };

	if (!vm->irqchip)
		return;
	/* The line is edge-triggered (ISA conforming in the MP table): a
	 * pulse raises one interrupt, and the driver reads InterruptStatus. */
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return;
	irq.level = 0;
	(void)ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq);
}

bool virtio_dev_live(const struct virtio_dev *d)
{
	return (d->status & STATUS_DRIVER_OK) && !(d->status & (STATUS_NEEDS_RESET | STATUS_FAILED));
}

void virtio_signal_used(struct virtio_dev *d, unsigned int q)
{
	if (q >= d->nr_queues || !vq_wants_interrupt(&d->vm->mem, &d->vqs[q]))
		return;
	d->isr |= ISR_USED;
	pulse_irq(d);
}

void virtio_dev_needs_reset(struct virtio_dev *d, const char *why)
{
	if (d->status & STATUS_NEEDS_RESET)
		return;
	vm_log(d->vm, LOG_WARN, "virtio-%s: %s: device needs reset", d->name, why);
	d->status |= STATUS_NEEDS_RESET;
	d->isr |= ISR_CONFIG;
	pulse_irq(d);
}

int virtio_pop(struct virtio_dev *d, unsigned int q, struct vq_elem *e)
{
	int ret;

	if (!virtio_dev_live(d) || q >= d->nr_queues)
		return 0;
	ret = vq_pop(&d->vm->mem, &d->vqs[q], e);
	if (ret < 0) {
		virtio_dev_needs_reset(d, "malformed descriptor chain");
		return 0;
	}
	return ret;
}

void virtio_notify_again(struct virtio_dev *d, unsigned int q)
{
	uint64_t one = 1;

	if (q < d->nr_queues && d->vqs[q].kick_fd >= 0)
		(void)!write(d->vqs[q].kick_fd, &one, sizeof(one));
}

static void dev_reset(struct virtio_dev *d)
{
	d->status = 0;
	d->isr = 0;
	d->driver_features = 0;
	d->dev_feat_sel = d->drv_feat_sel = d->queue_sel = 0;
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		struct virtq *q = &d->vqs[i];
		int fd = q->kick_fd;
		memset(q, 0, sizeof(*q));
		q->kick_fd = fd;
	}
	if (d->ops->reset)
		d->ops->reset(d);
}

static struct virtq *selected_queue(struct virtio_dev *d)
{
	return d->queue_sel < d->nr_queues ? &d->vqs[d->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_dev *d, uint64_t off)
{
	struct virtq *q = selected_queue(d);

	switch (off) {
	case REG_MAGIC:
		return MMIO_MAGIC;
	case REG_VERSION:
		return MMIO_VERSION;
	case REG_DEVICE_ID:
		return d->device_id;
	case REG_VENDOR_ID:
		return MMIO_VENDOR;
	case REG_DEVICE_FEATURES:
		return d->dev_feat_sel == 0   ? (uint32_t)d->features
		       : d->dev_feat_sel == 1 ? (uint32_t)(d->features >> 32)
					      : 0;
	case REG_QUEUE_NUM_MAX:
		return q ? VIRTQ_MAX_SIZE : 0;
	case REG_QUEUE_NUM:
		return q ? q->num : 0;
	case REG_QUEUE_READY:
		return q ? q->ready : 0;
	case REG_INTERRUPT_STATUS:
		return d->isr;
	case REG_STATUS:
		return d->status;
	case REG_QUEUE_DESC_LOW:
		return q ? (uint32_t)q->desc : 0;
	case REG_QUEUE_DESC_HIGH:
		return q ? (uint32_t)(q->desc >> 32) : 0;
	case REG_QUEUE_DRIVER_LOW:
		return q ? (uint32_t)q->avail : 0;
	case REG_QUEUE_DRIVER_HIGH:
		return q ? (uint32_t)(q->avail >> 32) : 0;
	case REG_QUEUE_DEVICE_LOW:
		return q ? (uint32_t)q->used : 0;
	case REG_QUEUE_DEVICE_HIGH:
		return q ? (uint32_t)(q->used >> 32) : 0;
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH:
		return 0xffffffff; /* no shared memory regions */
	case REG_CONFIG_GENERATION:
		return d->config_gen;
	default:
		return 0;
	}
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffULL) | ((uint64_t)val << 32);
	else
		*v = (*v & ~0xffffffffULL) | val;
}

/* Queue registers may change only while the queue is disabled and the
 * device is not live: after that the rings are frozen. */
static struct virtq *writable_queue(struct virtio_dev *d)
{
	struct virtq *q = selected_queue(d);

	if (!q || q->ready || (d->status & STATUS_DRIVER_OK))
		return NULL;
	return q;
}

/* Acceptable: only offered features, and only modern drivers. */
static bool features_ok(const struct virtio_dev *d)
{
	return !(d->driver_features & ~d->features) &&
	       (d->driver_features & (1ULL << VIRTIO_F_VERSION_1_BIT));
}

/*
 * The device status state machine (virtio 1.2, 2.1 and 3.1.1). Writing 0
 * resets; any other write may only add bits. The driver MUST NOT clear a
 * status bit (2.1.1), and clearing DRIVER_OK or FEATURES_OK would unlock the
 * queue and feature registers of a live device, so such a write is ignored
 * as a whole and the device asks for a reset (DEVICE_NEEDS_RESET, 2.1.2).
 * Once NEEDS_RESET or FAILED is set, only a reset brings the device back; the
 * driver may still add FAILED. FEATURES_OK is not set when the features are
 * unacceptable (2.2.2), which the driver sees when it reads Status back.
 */
static void write_status(struct virtio_dev *d, uint32_t v)
{
	uint32_t old = d->status & STATUS_DRIVER_BITS, add;

	if (v == 0) {
		dev_reset(d);
		return;
	}
	v &= STATUS_DRIVER_BITS;
	if (old & ~v) {
		virtio_dev_needs_reset(d, "driver cleared a status bit without a reset");
		return;
	}
	add = v & ~old;
	if (d->status & (STATUS_NEEDS_RESET | STATUS_FAILED))
		add &= STATUS_FAILED;
	if ((add & STATUS_FEATURES_OK) && !features_ok(d))
		add &= ~STATUS_FEATURES_OK;
	d->status |= add;
	if (!(add & STATUS_DRIVER_OK))
		return;
	if (!(d->status & STATUS_FEATURES_OK)) {
		virtio_dev_needs_reset(d, "DRIVER_OK without FEATURES_OK");
		return;
	}
	if (d->ops->driver_ok)
		d->ops->driver_ok(d);
}

static void kick(struct virtio_dev *d, uint32_t qi)
{
	uint64_t one = 1;

	if (qi >= d->nr_queues)
		return;
	if (d->ops->inline_queues & (1u << qi)) {
		/* Device lock held (reg_write). */
		if (virtio_dev_live(d) && d->ops->notify)
			d->ops->notify(d, qi);
		return;
	}
	ssize_t n = write(d->vqs[qi].kick_fd, &one, sizeof(one));
	(void)n;
}

static void reg_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	struct virtq *q;

	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		d->dev_feat_sel = v;
		break;
	case REG_DRIVER_FEATURES:
		/* Frozen from FEATURES_OK on (3.1.1), which only a reset clears. */
		if (!(d->status & (STATUS_FEATURES_OK | STATUS_NEEDS_RESET | STATUS_FAILED)) &&
		    d->drv_feat_sel < 2)
			set_half(&d->driver_features, d->drv_feat_sel == 1, v);
		break;
	case REG_DRIVER_FEATURES_SEL:
		d->drv_feat_sel = v;
		break;
	case REG_QUEUE_SEL:
		d->queue_sel = v;
		break;
	case REG_QUEUE_NUM:
		if ((q = writable_queue(d)))
			q->num = v <= VIRTQ_MAX_SIZE ? (uint16_t)v : 0;
		break;
	case REG_QUEUE_READY:
		q = selected_queue(d);
		if (!q || (d->status & STATUS_DRIVER_OK))
			break;
		if (v == 1 && !q->ready) {
			if (vq_check_layout(&d->vm->mem, q)) {
				virtio_dev_needs_reset(d, "queue rings outside RAM or misaligned");
				break;
			}
			q->last_avail = q->used_idx = 0;
			q->ready = true;
		} else if (v == 0) {
			q->ready = false;
		}
		break;
	case REG_QUEUE_NOTIFY:
		kick(d, v);
		break;
	case REG_INTERRUPT_ACK:
		d->isr &= ~v;
		break;
	case REG_STATUS:
		write_status(d, v);
		break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		if ((q = writable_queue(d)))
			set_half(&q->desc, off == REG_QUEUE_DESC_HIGH, v);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		if ((q = writable_queue(d)))
			set_half(&q->avail, off == REG_QUEUE_DRIVER_HIGH, v);
		break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		if ((q = writable_queue(d)))
			set_half(&q->used, off == REG_QUEUE_DEVICE_HIGH, v);
		break;
	default:
		break; /* read-only or unknown: ignored */
	}
}

static void mmio_read(void *opaque, uint64_t off, void *data, uint32_t size)
{
	struct virtio_dev *d = opaque;

	memset(data, 0, size);
	pthread_mutex_lock(&d->lock);
	if (off >= REG_CONFIG) {
		uint64_t c = off - REG_CONFIG;
		if (c < d->config_len && size <= d->config_len - c)
			memcpy(data, d->config + c, size);
	} else if (size == 4 && !(off & 3)) {
		uint32_t v = reg_read(d, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&d->lock);
}

static void mmio_write(void *opaque, uint64_t off, const void *data, uint32_t size)
{
	struct virtio_dev *d = opaque;
	uint32_t v;

	/* Config space is read-only for every device here; registers are
	 * 32-bit only (4.2.2.2). */
	if (off >= REG_CONFIG || size != 4 || (off & 3))
		return;
	memcpy(&v, data, 4);
	pthread_mutex_lock(&d->lock);
	reg_write(d, off, v);
	pthread_mutex_unlock(&d->lock);
}

const struct bus_ops virtio_mmio_ops = { .read = mmio_read, .write = mmio_write };

static void on_kick(void *opaque, int fd, short revents)
{
	struct virtio_dev *d = opaque;
	uint64_t cnt;
	unsigned int qi;

	if (read(fd, &cnt, sizeof(cnt)) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	for (qi = 0; qi < d->nr_queues; qi++)
		if (d->vqs[qi].kick_fd == fd)
			break;
	if (qi < d->nr_queues && virtio_dev_live(d) && d->ops->notify)
		d->ops->notify(d, qi);
	pthread_mutex_unlock(&d->lock);
}

static void register_ioeventfd(struct virtio_dev *d, unsigned int qi, bool assign)
{
	struct kvm_ioeventfd io = {
		.datamatch = qi,
		.addr = d->base + REG_QUEUE_NOTIFY,
		.len = 4,
		.fd = d->vqs[qi].kick_fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(d->vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		if (assign)
			d->ioeventfd = false;
	}
}

int virtio_dev_add(struct vm *vm, const char *name, uint32_t device_id, uint64_t features,
		   unsigned int nr_queues, const struct virtio_dev_ops *ops, void *priv,
		   struct virtio_dev **out)
{
	struct virtio_dev *d;
	int ret;

	if (vm->nr_virtio >= ARRAY_SIZE(vm->virtio) || nr_queues > VIRTIO_MAX_QUEUES)
		return -ENOSPC;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->vm = vm;
	d->name = name;
	d->ops = ops;
	d->priv = priv;
	d->device_id = device_id;
	d->features = features | (1ULL << VIRTIO_F_VERSION_1_BIT);
	d->nr_queues = nr_queues;
	d->base = VIRTIO_MMIO_BASE + vm->nr_virtio * VIRTIO_MMIO_SIZE;
	d->irq = VIRTIO_FIRST_IRQ + vm->nr_virtio;
	d->ioeventfd = true;
	pthread_mutex_init(&d->lock, NULL);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		d->vqs[i].kick_fd = -1;
	for (unsigned int i = 0; i < nr_queues; i++) {
		d->vqs[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->vqs[i].kick_fd < 0) {
			ret = -errno;
			goto fail;
		}
		ret = evloop_add(vm->evloop, d->vqs[i].kick_fd, NULL, on_kick, d);
		if (ret)
			goto fail;
	}
	ret = bus_register(&vm->mmio, name, d->base, VIRTIO_MMIO_SIZE, &virtio_mmio_ops, d);
	if (ret)
		goto fail;
	/* With ioeventfds a notification costs no exit to user space. */
	for (unsigned int i = 0; i < nr_queues && d->ioeventfd; i++)
		if (!(ops->inline_queues & (1u << i)))
			register_ioeventfd(d, i, true);
	if (!d->ioeventfd)
		vm_log(vm, LOG_DEBUG, "virtio-%s: no ioeventfd, notifications exit", name);
	vm->virtio[vm->nr_virtio++] = d;
	*out = d;
	return 0;
fail:
	for (unsigned int i = 0; i < nr_queues; i++)
		if (d->vqs[i].kick_fd >= 0)
			close(d->vqs[i].kick_fd);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return ret;
}

void virtio_dev_free(struct virtio_dev *d)
{
	if (!d)
		return;
	if (d->ops->free)
		d->ops->free(d);
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		if (d->vqs[i].kick_fd < 0)
			continue;
		if (d->ioeventfd && d->vm->vm_fd >= 0 && !(d->ops->inline_queues & (1u << i)))
			register_ioeventfd(d, i, false);
		close(d->vqs[i].kick_fd);
	}
	pthread_mutex_destroy(&d->lock);
	free(d);
}
