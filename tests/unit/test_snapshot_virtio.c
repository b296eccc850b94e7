// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: a virtio-mmio device's snapshot section (issue 18): the
 * transport's registers and queues and the console's port state go from one
 * VM's device to another's unchanged; the parser refuses every bad field of
 * a section (truncated, wrong version, bad counts, status, sizes, flags,
 * lengths) and the restore a section of another device or with rings outside
 * RAM, leaving the device as it was; a device snapshots cannot hold (one
 * without the hook: net, virtio-fs, blk) and a console with output half
 * copied out are refused with a reason.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "control.h"
#include "fake_vm.h"
#include "virtio/console.h"
#include "virtio/virtio.h"
#include "vmm.h"
#include "vstate/snapshot_virtio.h"

#define MEM (1 << 20)
#define NUM 8
#define RINGS 0x1000 /* queue q's rings at RINGS + q * 0x1000 */
#define R_INTERRUPT_STATUS 0x060
#define R_CONFIG_GEN 0x0fc
#define ISR_USED 1

static char *argv_true[] = { "true", NULL };
static int out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 };

static void wr(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

static uint32_t rd(struct virtio_dev *d, uint32_t off)
{
	uint32_t v;

	virtio_mmio_ops.read(d, off, &v, 4);
	return v;
}

static void bring_up(struct virtio_dev *d)
{
	ck_assert(fake_virtio_bring_up(d, NUM, RINGS));
}

static struct vm *new_vm(void)
{
	struct vm *vm = fake_vm_new(MEM);

	ck_assert_int_eq(virtio_rng_init(vm), 0);
	return vm;
}

static int save(struct virtio_dev *d, uint8_t *buf, const char **why)
{
	int len;

	pthread_mutex_lock(&d->lock);
	len = snap_virtio_save(d, buf, why);
	pthread_mutex_unlock(&d->lock);
	return len;
}

/* A live rng device with traffic behind it, saved. */
static int saved_rng(struct vm *vm, uint8_t *buf)
{
	struct virtio_dev *d = vm->virtio[0];
	const char *why = NULL;
	int len;

	bring_up(d);
	wr(d, R_QUEUE_SEL, 0);
	d->vqs[0].last_avail = 5;
	d->vqs[0].used_idx = 4;
	d->isr = ISR_USED;
	d->config_gen = 3;
	len = save(d, buf, &why);
	ck_assert_msg(len > 0, "save: %s", why);
	ck_assert_int_eq(len, SNAP_VIRTIO_HDR + SNAP_VIRTIO_QUEUE);
	return len;
}

START_TEST(transport_round_trip)
{
	struct vm *a = new_vm(), *b = new_vm();
	struct virtio_dev *da = a->virtio[0], *db = b->virtio[0];
	uint8_t buf[SNAP_VIRTIO_MAX];
	int len = saved_rng(a, buf);
	struct snap_virtio s;
	const char *why = NULL;

	ck_assert_int_eq(snap_virtio_parse(buf, (size_t)len, &s, &why), 0);
	pthread_mutex_lock(&db->lock);
	ck_assert_int_eq(snap_virtio_apply(db, &s, &why), 0);
	pthread_mutex_unlock(&db->lock);
	/* What the guest's driver reads back, register by register. */
	ck_assert(virtio_dev_live(db));
	ck_assert_uint_eq(rd(db, R_STATUS), ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert_uint_eq(rd(db, R_INTERRUPT_STATUS), ISR_USED);
	ck_assert_uint_eq(rd(db, R_CONFIG_GEN), 3);
	ck_assert_uint_eq(rd(db, R_QUEUE_NUM), NUM);
	ck_assert_uint_eq(rd(db, R_QUEUE_READY), 1);
	ck_assert_uint_eq(rd(db, R_DESC), RINGS);
	ck_assert_uint_eq(rd(db, R_DRIVER), RINGS + 0x200);
	ck_assert_uint_eq(rd(db, R_DEVICE), RINGS + 0x400);
	ck_assert_uint_eq(db->driver_features, da->driver_features);
	ck_assert_uint_eq(db->vqs[0].last_avail, 5);
	ck_assert_uint_eq(db->vqs[0].used_idx, 4);
	/* Frozen as on the original: DRIVER_OK locks the queue registers. */
	wr(db, R_QUEUE_NUM, 4);
	ck_assert_uint_eq(rd(db, R_QUEUE_NUM), NUM);
	fake_vm_free(a);
	fake_vm_free(b);
}
END_TEST

/* Where each field lies in the section (snapshot_virtio.h). */
#define OFF_VERSION 0
#define OFF_QUEUES 8
#define OFF_STATUS 12
#define OFF_FEATURES 16
#define OFF_DRV_FEATURES 24
#define OFF_ISR 32
#define OFF_OWN_LEN 52
#define OFF_Q0 SNAP_VIRTIO_HDR
#define OFF_Q0_NUM (OFF_Q0 + 24)
#define OFF_Q0_READY (OFF_Q0 + 30)
#define OFF_Q0_PAD (OFF_Q0 + 31)

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

struct bad_field {
	const char *what;
	size_t off;
	uint32_t value;
	unsigned int width;
	int err;
};

static const struct bad_field bad_fields[] = {
	{ "version 2", OFF_VERSION, 2, 4, -EPROTONOSUPPORT },
	{ "version 0", OFF_VERSION, 0, 4, -EPROTONOSUPPORT },
	{ "no queues", OFF_QUEUES, 0, 4, -EINVAL },
	{ "too many queues", OFF_QUEUES, VIRTIO_MAX_QUEUES + 1, 4, -EINVAL },
	{ "huge queue count", OFF_QUEUES, 0xffffffffu, 4, -EINVAL },
	{ "undefined status bit", OFF_STATUS, 0x1f, 4, -EINVAL },
	{ "DRIVER_OK without FEATURES_OK", OFF_STATUS, ACK | DRV | DRV_OK, 4, -EINVAL },
	{ "undefined interrupt bit", OFF_ISR, 4, 4, -EINVAL },
	{ "features not offered", OFF_DRV_FEATURES, 0x80000000u, 4, -EINVAL },
	{ "own state too long", OFF_OWN_LEN, SNAP_VIRTIO_MAX_OWN + 1, 4, -EINVAL },
	{ "own state past the end", OFF_OWN_LEN, 8, 4, -EINVAL },
	{ "queue size not a power of two", OFF_Q0_NUM, 3, 2, -EINVAL },
	{ "queue size too large", OFF_Q0_NUM, 512, 2, -EINVAL },
	{ "ready queue of size 0", OFF_Q0_NUM, 0, 2, -EINVAL },
	{ "ready flag 2", OFF_Q0_READY, 2, 1, -EINVAL },
	{ "padding", OFF_Q0_PAD, 1, 1, -EINVAL },
};

START_TEST(parse_refuses_bad_fields)
{
	struct vm *a = new_vm();
	uint8_t good[SNAP_VIRTIO_MAX], buf[SNAP_VIRTIO_MAX];
	int len = saved_rng(a, good);
	const struct bad_field *f = &bad_fields[_i];
	struct snap_virtio s;
	const char *why = NULL;

	memcpy(buf, good, (size_t)len);
	if (f->width == 4)
		put32(buf + f->off, f->value);
	else if (f->width == 2)
		memcpy(buf + f->off, &(uint16_t){ (uint16_t)f->value }, 2);
	else
		buf[f->off] = (uint8_t)f->value;
	ck_assert_msg(snap_virtio_parse(buf, (size_t)len, &s, &why) == f->err, "%s accepted",
		      f->what);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(snap_virtio_parse(good, (size_t)len, &s, &why), 0);
	fake_vm_free(a);
}
END_TEST

START_TEST(parse_refuses_wrong_lengths)
{
	struct vm *a = new_vm();
	uint8_t buf[SNAP_VIRTIO_MAX + 1] = { 0 };
	int len = saved_rng(a, buf);
	struct snap_virtio s;
	const char *why = NULL;

	for (int n = 0; n < len; n++) {
		why = NULL;
		ck_assert_msg(snap_virtio_parse(buf, (size_t)n, &s, &why) == -EINVAL,
			      "truncated to %d accepted", n);
		ck_assert_ptr_nonnull(why);
	}
	ck_assert_int_eq(snap_virtio_parse(buf, (size_t)len + 1, &s, &why), -EINVAL);
	/* Two queues claimed where the bytes hold one. */
	put32(buf + OFF_QUEUES, 2);
	ck_assert_int_eq(snap_virtio_parse(buf, (size_t)len, &s, &why), -EINVAL);
	fake_vm_free(a);
}
END_TEST

/* Refused by the device it is applied to; the device keeps its state. */
static void expect_apply_refused(uint8_t *buf, int len)
{
	struct vm *b = new_vm();
	struct virtio_dev *db = b->virtio[0];
	struct snap_virtio s;
	const char *why = NULL;

	ck_assert_int_eq(snap_virtio_parse(buf, (size_t)len, &s, &why), 0);
	pthread_mutex_lock(&db->lock);
	ck_assert_int_eq(snap_virtio_apply(db, &s, &why), -EINVAL);
	pthread_mutex_unlock(&db->lock);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_eq(db->status, 0);
	ck_assert_uint_eq(db->vqs[0].num, 0);
	ck_assert(!db->vqs[0].ready);
	fake_vm_free(b);
}

START_TEST(apply_refuses_another_device)
{
	struct vm *a = new_vm();
	uint8_t buf[SNAP_VIRTIO_MAX];
	int len = saved_rng(a, buf);

	put32(buf + 4, 3); /* a console's ID */
	expect_apply_refused(buf, len);
	len = saved_rng(a, buf);
	put32(buf + OFF_FEATURES, 1); /* offered features another device has */
	expect_apply_refused(buf, len);
	fake_vm_free(a);
}
END_TEST

START_TEST(apply_refuses_rings_outside_ram)
{
	struct vm *a = new_vm();
	uint8_t buf[SNAP_VIRTIO_MAX];
	int len = saved_rng(a, buf);

	put32(buf + OFF_Q0, MEM - 16); /* the descriptor table runs past RAM */
	expect_apply_refused(buf, len);
	len = saved_rng(a, buf);
	put32(buf + OFF_Q0 + 8, RINGS + 0x201); /* a misaligned avail ring */
	expect_apply_refused(buf, len);
	len = saved_rng(a, buf);
	put32(buf + OFF_Q0 + 20, 1); /* the used ring above 4 GiB */
	expect_apply_refused(buf, len);
	fake_vm_free(a);
}
END_TEST

static struct vm *new_console_vm(void)
{
	struct vm *vm = fake_vm_new(MEM);

	vm->cfg.argv = argv_true;
	vm->cfg.stdout_fd = out_p[1];
	vm->cfg.stderr_fd = err_p[1];
	ck_assert_int_eq(virtio_console_init(vm), 0);
	return vm;
}

START_TEST(console_ports_round_trip)
{
	struct vm *a, *b;
	struct console *ca, *cb;
	uint8_t buf[SNAP_VIRTIO_MAX];
	struct snap_virtio s;
	const char *why = NULL;
	int len;

	ck_assert_int_eq(pipe2(out_p, O_NONBLOCK), 0);
	ck_assert_int_eq(pipe2(err_p, O_NONBLOCK), 0);
	a = new_console_vm();
	b = new_console_vm();
	ca = a->console_dev->priv;
	cb = b->console_dev->priv;
	ck_assert_uint_eq(ca->nr_ports, 2);
	bring_up(a->console_dev);
	/* The handshake's end: the driver said DEVICE_READY and port 0's
	 * PORT_READY; port 1's announcement is still owed. */
	ca->dev_ready = true;
	ca->ports[0].ready = true;
	ca->ports[1].owe = 1;
	len = save(a->console_dev, buf, &why);
	ck_assert_msg(len > 0, "save: %s", why);
	ck_assert_int_eq(snap_virtio_parse(buf, (size_t)len, &s, &why), 0);
	ck_assert_uint_eq(s.own_len, 8 + 8 * 2);
	pthread_mutex_lock(&b->console_dev->lock);
	ck_assert_int_eq(snap_virtio_apply(b->console_dev, &s, &why), 0);
	pthread_mutex_unlock(&b->console_dev->lock);
	ck_assert(cb->dev_ready && cb->ports[0].ready && !cb->ports[1].ready);
	ck_assert_uint_eq(cb->ports[1].owe, 1);
	ck_assert_uint_eq(cb->ports[0].owe, 0);

	/* A port flag of 2 and an unknown owed message are refused, and the
	 * device keeps what it had. */
	uint8_t *own = buf + SNAP_VIRTIO_HDR + SNAP_VIRTIO_QUEUE * s.nr_queues;
	put32(own + 8, 2);
	ck_assert_int_eq(snap_virtio_parse(buf, (size_t)len, &s, &why), 0);
	cb->dev_ready = false;
	pthread_mutex_lock(&b->console_dev->lock);
	ck_assert_int_eq(snap_virtio_apply(b->console_dev, &s, &why), -EINVAL);
	put32(own + 8, 1);
	put32(own + 12, 0x100);
	ck_assert_int_eq(snap_virtio_apply(b->console_dev, &s, &why), -EINVAL);
	/* A console of one port is not this one. */
	put32(own + 12, 0);
	put32(own, 1);
	ck_assert_int_eq(snap_virtio_apply(b->console_dev, &s, &why), -EINVAL);
	pthread_mutex_unlock(&b->console_dev->lock);
	ck_assert(!cb->dev_ready);

	/* Output half copied out is not state a snapshot holds. */
	ca->ports[1].tx_busy = true;
	ck_assert_int_eq(save(a->console_dev, buf, &why), -EBUSY);
	ca->ports[1].tx_busy = false;
	fake_vm_free(a);
	fake_vm_free(b);
	for (int i = 0; i < 2; i++) {
		close(out_p[i]);
		close(err_p[i]);
	}
}
END_TEST

static struct vm *new_vsock_vm(void)
{
	struct vm *vm = fake_vm_new(MEM);

	vm->cfg.argv = argv_true;
	vm->cfg.stdin_fd = vm->cfg.stdout_fd = vm->cfg.stderr_fd = -1;
	ck_assert_int_eq(control_new(vm), 0);
	ck_assert_int_eq(virtio_vsock_init(vm), 0);
	return vm;
}

/* vsock's own state: flags, port, five counters, the guest's CID, then
 * the channel's. */
#define VS_CID 28
#define VS_LEN 36
#define CTL_LEN 24

static int apply_own(struct vm *vm, const uint8_t *own, uint32_t own_len)
{
	struct virtio_dev *d = vm->vsock_dev;
	uint8_t buf[SNAP_VIRTIO_MAX];
	struct snap_virtio s;
	const char *why = NULL;
	int len, ret;

	len = save(d, buf, &why);
	ck_assert_msg(len == SNAP_VIRTIO_HDR + 3 * SNAP_VIRTIO_QUEUE + VS_LEN, "save: %d %s", len,
		      why);
	memcpy(buf + SNAP_VIRTIO_HDR + 3 * SNAP_VIRTIO_QUEUE, own, own_len);
	put32(buf + OFF_OWN_LEN, own_len);
	ck_assert_int_eq(snap_virtio_parse(buf, SNAP_VIRTIO_HDR + 3 * SNAP_VIRTIO_QUEUE + own_len,
					   &s, &why), 0);
	pthread_mutex_lock(&d->lock);
	ret = snap_virtio_apply(d, &s, &why);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

START_TEST(vsock_connection_state)
{
	struct vm *vm = new_vsock_vm();
	uint8_t own[VS_LEN + CTL_LEN] = { 0 };
	uint8_t rec[64];

	/* A CID that is no guest's. */
	ck_assert_int_eq(apply_own(vm, own, VS_LEN), -EINVAL);
	/* Never used: nothing of the channel. */
	put32(own + VS_CID, 3);
	ck_assert_int_eq(apply_own(vm, own, VS_LEN), 0);
	ck_assert(!control_has_output(vm));
	/* Connected without the channel's state, used but not connected,
	 * connected but not used, unknown flags: refused. */
	put32(own, 3);
	ck_assert_int_eq(apply_own(vm, own, VS_LEN), -EINVAL);
	put32(own, 1);
	ck_assert_int_eq(apply_own(vm, own, VS_LEN + CTL_LEN), -EINVAL);
	put32(own, 2);
	ck_assert_int_eq(apply_own(vm, own, VS_LEN), -EINVAL);
	put32(own, 7);
	ck_assert_int_eq(apply_own(vm, own, VS_LEN + CTL_LEN), -EINVAL);
	/* A channel whose command never started, and one with unknown bits. */
	put32(own, 3);
	put32(own + VS_LEN, 1 | 2 | 32);
	ck_assert_int_eq(apply_own(vm, own, VS_LEN + CTL_LEN), -EINVAL);
	put32(own + VS_LEN, 0x8000 | 1 | 2 | 4 | 32);
	ck_assert_int_eq(apply_own(vm, own, VS_LEN + CTL_LEN), -EINVAL);
	put32(own + VS_LEN + 4, 1000); /* more events than a guest may send */
	put32(own + VS_LEN, 1 | 2 | 4 | 32);
	ck_assert_int_eq(apply_own(vm, own, VS_LEN + CTL_LEN), -EINVAL);
	ck_assert(!control_has_output(vm));
	/* At rest, with an init that takes RESEED: restored, and the clone's
	 * first record is RESEED with 64 bytes of host entropy. */
	put32(own + VS_LEN + 4, 2);
	put32(own + VS_LEN, 1 | 2 | 4 | 8 | 16 | 32 | 128);
	ck_assert_int_eq(apply_own(vm, own, VS_LEN + CTL_LEN), 0);
	ck_assert(control_has_output(vm));
	ck_assert_uint_eq(control_take(vm, rec, sizeof(rec)), sizeof(rec));
	ck_assert_uint_eq(rec[4], 13); /* ALCATRAZ_CTL_RESEED */
	ck_assert_uint_eq(rec[8], 64);
	fake_vm_free(vm);
}
END_TEST

static const struct virtio_dev_ops plain_ops = { 0 };

START_TEST(unsupported_devices_refused)
{
	struct vm *vm = fake_vm_new(MEM);
	struct virtio_dev *d;
	uint8_t buf[SNAP_VIRTIO_MAX];
	const char *why = NULL;

	/* A device without the hook (virtio-fs and blk today). */
	ck_assert_int_eq(virtio_dev_add(vm, "plain", 1, 0, 1, &plain_ops, NULL, &d), 0);
	ck_assert_int_eq(save(d, buf, &why), -ENOTSUP);
	ck_assert_ptr_nonnull(why);
	fake_vm_free(vm);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("snapshot_virtio");
	TCase *tc = tcase_create("snapshot_virtio");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, transport_round_trip);
	tcase_add_loop_test(tc, parse_refuses_bad_fields, 0,
			    (int)(sizeof(bad_fields) / sizeof(bad_fields[0])));
	tcase_add_test(tc, parse_refuses_wrong_lengths);
	tcase_add_test(tc, apply_refuses_another_device);
	tcase_add_test(tc, apply_refuses_rings_outside_ram);
	tcase_add_test(tc, console_ports_round_trip);
	tcase_add_test(tc, unsupported_devices_refused);
	tcase_add_test(tc, vsock_connection_state);
	suite_add_tcase(su, tc);
	return run_suite(su);
}
