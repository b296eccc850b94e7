// SPDX-License-Identifier: LGPL-2.1-or-later
/* Description: split-virtqueue parsing refuses every hostile descriptor chain. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "evloop.h"
#include "fake_vm.h"
#include "virtio/virtio.h"
#include "vmm.h"

#define MEM (1 << 20)
#define NUM 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

static struct guest_mem m;
static struct virtq q;
static struct vq_elem e;

static void setup(void)
{
	ck_assert_int_eq(gmem_init(&m, MEM), 0);
	memset(&q, 0, sizeof(q));
	q.num = NUM;
	q.desc = DESC;
	q.avail = AVAIL;
	q.used = USED;
	q.ready = true;
	q.kick_fd = -1;
	ck_assert_int_eq(vq_check_layout(&m, &q), 0);
}

static void teardown(void)
{
	gmem_fini(&m);
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t d[16];
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	ck_assert_int_eq(gmem_write(&m, DESC + 16ULL * i, d, 16), 0);
}

/* Makes `head` available as the next chain. */
static void avail(uint16_t head)
{
	uint16_t idx;
	ck_assert_int_eq(gmem_read(&m, AVAIL + 2, &idx, 2), 0);
	ck_assert_int_eq(gmem_write(&m, AVAIL + 4 + 2 * (idx % NUM), &head, 2), 0);
	idx++;
	ck_assert_int_eq(gmem_write(&m, AVAIL + 2, &idx, 2), 0);
}

START_TEST(valid_chain)
{
	desc(0, 0x10000, 16, F_NEXT, 1);
	desc(1, 0x20000, 100, F_NEXT, 2);
	desc(2, 0x30000, 1, F_WRITE, 0);
	avail(0);
	ck_assert(vq_has_avail(&m, &q));
	ck_assert_int_eq(vq_pop(&m, &q, &e), 1);
	ck_assert_int_eq(e.n_out, 2);
	ck_assert_int_eq(e.n_in, 1);
	ck_assert_int_eq(e.out_len, 116);
	ck_assert_int_eq(e.in_len, 1);
	ck_assert_ptr_eq(e.in[0].iov_base, m.host + 0x30000);
	ck_assert_int_eq(vq_pop(&m, &q, &e), 0); /* empty now */
	ck_assert_int_eq(vq_push(&m, &q, e.head, 1), 0);
	uint16_t used_idx;
	ck_assert_int_eq(gmem_read(&m, USED + 2, &used_idx, 2), 0);
	ck_assert_int_eq(used_idx, 1);
}
END_TEST

START_TEST(address_out_of_ram)
{
	desc(0, MEM - 4, 8, 0, 0); /* last bytes outside */
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(address_wraps)
{
	desc(0, UINT64_MAX - 2, 16, 0, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(huge_length)
{
	desc(0, 0x10000, 0xffffffffu, 0, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(loop)
{
	desc(0, 0x10000, 8, F_NEXT, 1);
	desc(1, 0x10000, 8, F_NEXT, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(self_loop)
{
	desc(3, 0x10000, 8, F_NEXT, 3);
	avail(3);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(next_beyond_queue)
{
	desc(0, 0x10000, 8, F_NEXT, NUM);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(head_beyond_queue)
{
	avail(NUM + 5);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(avail_index_jump)
{
	uint16_t idx = NUM + 1; /* more chains than ring slots */
	ck_assert_int_eq(gmem_write(&m, AVAIL + 2, &idx, 2), 0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(readable_after_writable)
{
	desc(0, 0x10000, 8, F_WRITE | F_NEXT, 1);
	desc(1, 0x20000, 8, 0, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(indirect_refused)
{
	desc(0, 0x10000, 16, F_INDIRECT, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
}
END_TEST

START_TEST(failed_pop_consumes_nothing)
{
	desc(0, MEM, 8, 0, 0);
	avail(0);
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
	ck_assert_int_eq(q.last_avail, 0);
}
END_TEST

START_TEST(layout_checks)
{
	struct virtq b = q;
	b.num = 6; /* not a power of two */
	ck_assert_int_eq(vq_check_layout(&m, &b), -EINVAL);
	b = q;
	b.num = 512; /* beyond the maximum */
	ck_assert_int_eq(vq_check_layout(&m, &b), -EINVAL);
	b = q;
	b.desc = DESC + 8; /* misaligned */
	ck_assert_int_eq(vq_check_layout(&m, &b), -EINVAL);
	b = q;
	b.used = MEM - 8; /* ring runs out of RAM */
	ck_assert_int_eq(vq_check_layout(&m, &b), -EINVAL);
	b = q;
	b.avail = UINT64_MAX - 1;
	ck_assert_int_eq(vq_check_layout(&m, &b), -EINVAL);
}
END_TEST

/* A queue the device uses although its size is 0 (never made ready through
 * the transport, which checks the layout): refused, no division by zero. */
START_TEST(zero_size_queue)
{
	desc(0, 0x10000, 8, 0, 0);
	avail(0);
	q.num = 0;
	ck_assert_int_eq(vq_pop(&m, &q, &e), -EINVAL);
	ck_assert_int_eq(q.last_avail, 0);
	ck_assert_int_eq(vq_push(&m, &q, 0, 8), -EINVAL);
	uint16_t used_idx = 0xffff;
	ck_assert_int_eq(gmem_read(&m, USED + 2, &used_idx, 2), 0);
	ck_assert_int_eq(used_idx, 0);
}
END_TEST

START_TEST(iov_helpers)
{
	char a[4], b[6], out[10];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } }, sl[2];
	ck_assert_uint_eq(buf_to_iov(iov, 2, 2, "0123456789", 10), 8);
	ck_assert_uint_eq(iov_to_buf(iov, 2, 2, out, 10), 8);
	ck_assert_mem_eq(out, "01234567", 8);
	ck_assert_uint_eq(iov_slice(iov, 2, 3, 4, sl, 2), 2);
	ck_assert_uint_eq(sl[0].iov_len, 1);
	ck_assert_uint_eq(sl[1].iov_len, 3);
}
END_TEST

/* ------------------------------------------------- transport (mmio.c) */

/* Beyond fake_vm.h's registers and status bits: */
#define R_QUEUE_NUM_MAX 0x034
#define R_ISR 0x060
#define NEEDS_RESET 0x40
#define FAILED 0x80
#define OFFERED_BIT 3  /* a device feature the test device offers */
#define NEW_DESC 0x4000
#define NEW_AVAIL 0x5000
#define NEW_USED 0x6000

static struct vm *vm;
static struct virtio_dev *d;
static unsigned int n_driver_ok, n_reset, n_served;

/* The test device uses every chain of queue 0 and returns it with len 1. */
static void t_notify(struct virtio_dev *dev, unsigned int qi)
{
	struct vq_elem el;

	while (virtio_pop(dev, qi, &el) > 0) {
		ck_assert_int_eq(vq_push(&dev->vm->mem, &dev->vqs[qi], el.head, 1), 0);
		n_served++;
	}
}

static void t_driver_ok(struct virtio_dev *dev)
{
	(void)dev;
	n_driver_ok++;
}

static void t_reset(struct virtio_dev *dev)
{
	(void)dev;
	n_reset++;
}

static const struct virtio_dev_ops t_ops = {
	.notify = t_notify, .driver_ok = t_driver_ok, .reset = t_reset,
};

static void wr(uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

static uint32_t rd(uint32_t off)
{
	uint32_t v;
	virtio_mmio_ops.read(d, off, &v, 4);
	return v;
}

static void mmio_setup(void)
{
	vm = fake_vm_new(MEM);
	ck_assert_int_eq(virtio_dev_add(vm, "test", 99, 1ULL << OFFERED_BIT, 2, &t_ops, NULL, &d),
			 0);
	n_driver_ok = n_reset = n_served = 0;
}

static void mmio_teardown(void)
{
	fake_vm_free(vm);
}

static void set_features(uint64_t f)
{
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, (uint32_t)f);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, (uint32_t)(f >> 32));
}

static void set_queue(uint32_t sel, uint32_t num, uint32_t dsc, uint32_t drv, uint32_t dev)
{
	wr(R_QUEUE_SEL, sel);
	wr(R_QUEUE_NUM, num);
	wr(R_DESC, dsc);
	wr(R_DESC + 4, 0);
	wr(R_DRIVER, drv);
	wr(R_DRIVER + 4, 0);
	wr(R_DEVICE, dev);
	wr(R_DEVICE + 4, 0);
}

/* The spec's initialisation sequence (3.1.1) up to FEATURES_OK. */
static void up_to_features_ok(void)
{
	wr(R_STATUS, ACK);
	wr(R_STATUS, ACK | DRV);
	set_features(1ULL << VIRTIO_F_VERSION_1_BIT);
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | FEAT_OK);
}

/* ... and on to DRIVER_OK with queue 0 at DESC/AVAIL/USED. */
static void bring_up(void)
{
	unsigned int before = n_driver_ok;

	up_to_features_ok();
	set_queue(0, NUM, DESC, AVAIL, USED);
	wr(R_QUEUE_READY, 1);
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert(virtio_dev_live(d));
	ck_assert_uint_eq(n_driver_ok, before + 1);
}

static void kick0(void)
{
	pthread_mutex_lock(&d->lock);
	if (virtio_dev_live(d))
		d->ops->notify(d, 0);
	pthread_mutex_unlock(&d->lock);
}

static uint16_t used_idx_at(uint64_t used)
{
	uint16_t idx;
	ck_assert_int_eq(gmem_read(&vm->mem, used + 2, &idx, 2), 0);
	return idx;
}

/* Makes chain `head` (one writable descriptor) available in the ring at
 * `av`, whose index the test keeps in guest memory. */
static void offer_at(uint64_t dtab, uint64_t av, uint16_t head)
{
	uint8_t b[16] = { 0 };
	uint64_t addr = 0x10000;
	uint32_t len = 64;
	uint16_t flags = F_WRITE, idx;

	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &flags, 2);
	ck_assert_int_eq(gmem_write(&vm->mem, dtab + 16ULL * head, b, 16), 0);
	ck_assert_int_eq(gmem_read(&vm->mem, av + 2, &idx, 2), 0);
	ck_assert_int_eq(gmem_write(&vm->mem, av + 4 + 2 * (idx % NUM), &head, 2), 0);
	idx++;
	ck_assert_int_eq(gmem_write(&vm->mem, av + 2, &idx, 2), 0);
}

START_TEST(status_bring_up_per_spec)
{
	bring_up();
	offer_at(DESC, AVAIL, 0);
	kick0();
	ck_assert_uint_eq(n_served, 1);
	ck_assert_uint_eq(used_idx_at(USED), 1);
	/* Writing the same bits again changes nothing. */
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert_uint_eq(n_driver_ok, 1);
}
END_TEST

/* Clearing DRIVER_OK without a reset: ignored, and the device asks for a
 * reset; the live queue stays where it was and is not served any more. */
START_TEST(status_clear_driver_ok_is_refused)
{
	bring_up();
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | FEAT_OK | DRV_OK | NEEDS_RESET);
	ck_assert_uint_eq(rd(R_ISR) & 2, 2); /* configuration change */
	ck_assert(!virtio_dev_live(d));
	/* The queue registers stay locked. */
	wr(R_QUEUE_SEL, 0);
	wr(R_QUEUE_READY, 0);
	set_queue(0, NUM / 2, NEW_DESC, NEW_AVAIL, NEW_USED);
	wr(R_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(R_QUEUE_READY), 1);
	ck_assert_uint_eq(rd(R_QUEUE_NUM), NUM);
	ck_assert_uint_eq(rd(R_DESC), DESC);
	ck_assert_uint_eq(rd(R_DRIVER), AVAIL);
	ck_assert_uint_eq(rd(R_DEVICE), USED);
	/* Setting DRIVER_OK again does not revive it. */
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert(!virtio_dev_live(d));
	ck_assert_uint_eq(n_driver_ok, 1);
	offer_at(DESC, AVAIL, 1);
	kick0();
	ck_assert_uint_eq(n_served, 0);
}
END_TEST

/* The attack of the review: clear DRIVER_OK, move and resize the live
 * queue, set DRIVER_OK again, kick. Nothing at the new place is used. */
START_TEST(status_moved_live_queue_not_served)
{
	bring_up();
	wr(R_STATUS, ACK | DRV);
	wr(R_QUEUE_SEL, 0);
	wr(R_QUEUE_READY, 0);
	set_queue(0, NUM / 2, NEW_DESC, NEW_AVAIL, NEW_USED);
	wr(R_QUEUE_READY, 1);
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	offer_at(NEW_DESC, NEW_AVAIL, 0);
	kick0();
	ck_assert_uint_eq(n_served, 0);
	ck_assert_uint_eq(used_idx_at(NEW_USED), 0);
	ck_assert_uint_eq(d->vqs[0].desc, DESC);
	ck_assert_uint_eq(d->vqs[0].num, NUM);
}
END_TEST

/* Clearing FEATURES_OK alone must not make the features writable. */
START_TEST(status_clear_features_ok_is_refused)
{
	up_to_features_ok();
	wr(R_STATUS, ACK | DRV);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | FEAT_OK | NEEDS_RESET);
	set_features((1ULL << VIRTIO_F_VERSION_1_BIT) | (1ULL << OFFERED_BIT));
	ck_assert_uint_eq(d->driver_features, 1ULL << VIRTIO_F_VERSION_1_BIT);
}
END_TEST

START_TEST(status_clear_ack_is_refused)
{
	wr(R_STATUS, ACK | DRV);
	wr(R_STATUS, DRV);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | NEEDS_RESET);
	/* Nothing but a reset or FAILED is taken from now on. */
	set_features(1ULL << VIRTIO_F_VERSION_1_BIT);
	ck_assert_uint_eq(d->driver_features, 0);
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | NEEDS_RESET);
	wr(R_STATUS, ACK | DRV | FAILED);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | NEEDS_RESET | FAILED);
}
END_TEST

START_TEST(status_features_frozen_after_features_ok)
{
	up_to_features_ok();
	set_features((1ULL << VIRTIO_F_VERSION_1_BIT) | (1ULL << OFFERED_BIT));
	ck_assert_uint_eq(d->driver_features, 1ULL << VIRTIO_F_VERSION_1_BIT);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | FEAT_OK);
}
END_TEST

/* Unacceptable features: FEATURES_OK is not set (the rest of the write is),
 * the driver may fix its features and try again. */
START_TEST(status_features_ok_refused)
{
	wr(R_STATUS, ACK | DRV);
	set_features(1ULL << OFFERED_BIT); /* no VERSION_1: a legacy driver */
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV);
	set_features((1ULL << VIRTIO_F_VERSION_1_BIT) | (1ULL << 5)); /* 5 not offered */
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV);
	set_features((1ULL << VIRTIO_F_VERSION_1_BIT) | (1ULL << OFFERED_BIT));
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | FEAT_OK);
}
END_TEST

START_TEST(status_driver_ok_without_features_ok)
{
	wr(R_STATUS, ACK | DRV);
	set_features(1ULL << VIRTIO_F_VERSION_1_BIT);
	set_queue(0, NUM, DESC, AVAIL, USED);
	wr(R_QUEUE_READY, 1);
	wr(R_STATUS, ACK | DRV | DRV_OK);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | DRV_OK | NEEDS_RESET);
	ck_assert_uint_eq(n_driver_ok, 0);
	ck_assert(!virtio_dev_live(d));
}
END_TEST

/* FAILED stops the device; only a reset brings it back. */
START_TEST(status_failed_then_reset)
{
	bring_up();
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK | FAILED);
	ck_assert(!virtio_dev_live(d));
	offer_at(DESC, AVAIL, 0);
	kick0();
	ck_assert_uint_eq(n_served, 0);
	wr(R_STATUS, 0);
	ck_assert_uint_eq(rd(R_STATUS), 0);
	ck_assert_uint_eq(n_reset, 1);
	bring_up();
}
END_TEST

/* Write 0 resets every register; the device then comes up again. */
START_TEST(status_reset_clears_everything)
{
	bring_up();
	wr(R_STATUS, ACK | DRV); /* NEEDS_RESET */
	wr(R_STATUS, 0);
	ck_assert_uint_eq(rd(R_STATUS), 0);
	ck_assert_uint_eq(rd(R_ISR), 0);
	ck_assert_uint_eq(d->driver_features, 0);
	wr(R_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(R_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(R_QUEUE_NUM), 0);
	ck_assert_uint_eq(rd(R_DESC), 0);
	ck_assert_uint_eq(n_reset, 1);
	memset(vm->mem.host + AVAIL, 0, 0x3000); /* fresh rings */
	bring_up();
	offer_at(DESC, AVAIL, 0);
	kick0();
	ck_assert_uint_eq(n_served, 1);
}
END_TEST

/* 0x10 and 0x20 are undefined and 0x40 is the device's: ignored in writes. */
START_TEST(status_undefined_bits_ignored)
{
	wr(R_STATUS, ACK | 0x10 | 0x20 | NEEDS_RESET);
	ck_assert_uint_eq(rd(R_STATUS), ACK);
	wr(R_STATUS, ACK | DRV | 0x30);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV);
}
END_TEST

/* Before DRIVER_OK: a queue's registers are writable while it is not ready,
 * frozen while it is, writable again once it is disabled. */
START_TEST(queue_registers_follow_ready)
{
	up_to_features_ok();
	set_queue(0, NUM, DESC, AVAIL, USED);
	wr(R_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(R_QUEUE_READY), 1);
	set_queue(0, NUM / 2, NEW_DESC, NEW_AVAIL, NEW_USED);
	ck_assert_uint_eq(rd(R_QUEUE_NUM), NUM);
	ck_assert_uint_eq(rd(R_DESC), DESC);
	ck_assert_uint_eq(rd(R_DRIVER), AVAIL);
	ck_assert_uint_eq(rd(R_DEVICE), USED);
	wr(R_QUEUE_READY, 0);
	set_queue(0, NUM / 2, NEW_DESC, NEW_AVAIL, NEW_USED);
	ck_assert_uint_eq(rd(R_QUEUE_NUM), NUM / 2);
	ck_assert_uint_eq(rd(R_DESC), NEW_DESC);
	ck_assert_uint_eq(rd(R_DRIVER), NEW_AVAIL);
	ck_assert_uint_eq(rd(R_DEVICE), NEW_USED);
	wr(R_QUEUE_READY, 1);
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert(virtio_dev_live(d));
	offer_at(NEW_DESC, NEW_AVAIL, 0);
	kick0();
	ck_assert_uint_eq(used_idx_at(NEW_USED), 1);
}
END_TEST

/* After DRIVER_OK: no queue register changes, QueueReady included, for a
 * ready queue and for one the driver never enabled. */
START_TEST(queue_registers_frozen_when_live)
{
	bring_up();
	wr(R_QUEUE_SEL, 0);
	wr(R_QUEUE_READY, 0);
	ck_assert_uint_eq(rd(R_QUEUE_READY), 1);
	set_queue(0, NUM / 2, NEW_DESC, NEW_AVAIL, NEW_USED);
	ck_assert_uint_eq(rd(R_QUEUE_NUM), NUM);
	ck_assert_uint_eq(rd(R_DESC), DESC);
	set_queue(1, NUM, NEW_DESC, NEW_AVAIL, NEW_USED);
	wr(R_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(R_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(R_QUEUE_NUM), 0);
	ck_assert_uint_eq(rd(R_DESC), 0);
	ck_assert(virtio_dev_live(d));
}
END_TEST

START_TEST(queue_bad_layout_needs_reset)
{
	up_to_features_ok();
	set_queue(0, 6, DESC, AVAIL, USED); /* not a power of two */
	wr(R_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(R_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | FEAT_OK | NEEDS_RESET);
	wr(R_STATUS, 0);
	up_to_features_ok();
	set_queue(0, VIRTQ_MAX_SIZE + 1, DESC, AVAIL, USED);
	ck_assert_uint_eq(rd(R_QUEUE_NUM), 0);
	wr(R_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(R_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(R_STATUS) & NEEDS_RESET, NEEDS_RESET);
	wr(R_STATUS, 0);
	up_to_features_ok();
	set_queue(0, NUM, DESC, AVAIL, MEM - 8); /* used ring leaves RAM */
	wr(R_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(R_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(R_STATUS) & NEEDS_RESET, NEEDS_RESET);
}
END_TEST

START_TEST(queue_sel_out_of_range)
{
	up_to_features_ok();
	set_queue(2, NUM, DESC, AVAIL, USED);
	wr(R_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(R_QUEUE_NUM_MAX), 0);
	ck_assert_uint_eq(rd(R_QUEUE_NUM), 0);
	ck_assert_uint_eq(rd(R_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(R_DESC), 0);
	ck_assert_uint_eq(rd(R_STATUS), ACK | DRV | FEAT_OK);
	wr(R_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(R_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	ck_assert_uint_eq(rd(R_QUEUE_NUM), 0);
}
END_TEST

/* A full ring of 256 chains for virtio-rng: one notification uses the
 * budget, all 256, and signals the queue again for whatever the driver adds
 * meanwhile (from another vCPU) instead of looping on. */
START_TEST(rng_budget_signals_again)
{
	const uint16_t n = VQ_NOTIFY_BUDGET;
	uint64_t cnt = 0;
	uint8_t b[16];

	ck_assert_int_eq(virtio_rng_init(vm), 0);
	d = vm->virtio[vm->nr_virtio - 1];
	up_to_features_ok();
	set_queue(0, n, DESC, AVAIL, USED);
	wr(R_QUEUE_READY, 1);
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert(virtio_dev_live(d));
	for (uint16_t i = 0; i < n; i++) {
		uint64_t addr = 0x10000 + 16ULL * i;
		uint32_t len = 16;
		uint16_t flags = F_WRITE;
		memset(b, 0, sizeof(b));
		memcpy(b, &addr, 8);
		memcpy(b + 8, &len, 4);
		memcpy(b + 12, &flags, 2);
		ck_assert_int_eq(gmem_write(&vm->mem, DESC + 16ULL * i, b, 16), 0);
		ck_assert_int_eq(gmem_write(&vm->mem, AVAIL + 4 + 2ULL * i, &i, 2), 0);
	}
	ck_assert_int_eq(gmem_write(&vm->mem, AVAIL + 2, &n, 2), 0);
	pthread_mutex_lock(&d->lock);
	d->ops->notify(d, 0);
	pthread_mutex_unlock(&d->lock);
	ck_assert_uint_eq(used_idx_at(USED), n);
	ck_assert_int_eq(read(d->vqs[0].kick_fd, &cnt, sizeof(cnt)), (ssize_t)sizeof(cnt));
	ck_assert_uint_eq(cnt, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio");
	TCase *tm = tcase_create("mmio");
	tcase_add_checked_fixture(tm, mmio_setup, mmio_teardown);
	tcase_add_test(tm, status_bring_up_per_spec);
	tcase_add_test(tm, status_clear_driver_ok_is_refused);
	tcase_add_test(tm, status_moved_live_queue_not_served);
	tcase_add_test(tm, status_clear_features_ok_is_refused);
	tcase_add_test(tm, status_clear_ack_is_refused);
	tcase_add_test(tm, status_features_frozen_after_features_ok);
	tcase_add_test(tm, status_features_ok_refused);
	tcase_add_test(tm, status_driver_ok_without_features_ok);
	tcase_add_test(tm, status_failed_then_reset);
	tcase_add_test(tm, status_reset_clears_everything);
	tcase_add_test(tm, status_undefined_bits_ignored);
	tcase_add_test(tm, queue_registers_follow_ready);
	tcase_add_test(tm, queue_registers_frozen_when_live);
	tcase_add_test(tm, queue_bad_layout_needs_reset);
	tcase_add_test(tm, queue_sel_out_of_range);
	tcase_add_test(tm, rng_budget_signals_again);
	suite_add_tcase(s, tm);

	TCase *tc = tcase_create("queue");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, valid_chain);
	tcase_add_test(tc, address_out_of_ram);
	tcase_add_test(tc, address_wraps);
	tcase_add_test(tc, huge_length);
	tcase_add_test(tc, loop);
	tcase_add_test(tc, self_loop);
	tcase_add_test(tc, next_beyond_queue);
	tcase_add_test(tc, head_beyond_queue);
	tcase_add_test(tc, avail_index_jump);
	tcase_add_test(tc, readable_after_writable);
	tcase_add_test(tc, indirect_refused);
	tcase_add_test(tc, failed_pop_consumes_nothing);
	tcase_add_test(tc, layout_checks);
	tcase_add_test(tc, zero_size_queue);
	tcase_add_test(tc, iov_helpers);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
