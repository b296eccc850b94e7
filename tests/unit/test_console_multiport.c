// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: virtio-console with a stderr sink: a fake guest driver
 * negotiates VIRTIO_CONSOLE_F_MULTIPORT, walks the control-queue handshake
 * (virtio 1.2, 5.3.6.2) and gets port 1 named "alcatraz.stderr"; what it
 * writes to each port reaches only that port's sink, in order. Malformed
 * control messages put the device in NEEDS_RESET, and a reset brings it
 * back. Without a stderr sink the device stays single-port.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "evloop.h"
#include "fake_vm.h"
#include "outbuf.h"
#include "virtio/console.h"
#include "vmm.h"
#include "../../src/guest/control_proto.h"

#define MEM (1 << 20)
#define NUM 8
#define RINGS 0x1000   /* queue q's rings at RINGS + q * 0x1000 */
#define DATA 0x10000   /* chain buffers: 0x100 bytes per (queue, slot) */
#define NEEDS_RESET 0x40
#define R_DEV_FEAT 0x010
#define R_DEV_FEAT_SEL 0x014
#define R_CONFIG 0x100

static char *argv_true[] = { "true", NULL };
static struct vm *vm;
static struct virtio_dev *d;
static int out_p[2], err_p[2];
static uint16_t avail_idx[VIRTIO_MAX_QUEUES], used_seen[VIRTIO_MAX_QUEUES];

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

static uint64_t desc_of(unsigned int q) { return RINGS + q * 0x1000ULL; }
static uint64_t avail_of(unsigned int q) { return desc_of(q) + 0x200; }
static uint64_t used_of(unsigned int q) { return desc_of(q) + 0x400; }
static uint64_t buf_of(unsigned int q, unsigned int slot)
{
	return DATA + (q * NUM + slot) * 0x100ULL;
}

/* The driver side of the bring-up; `features_hi`/`lo` what it accepts. */
static void bring_up(uint32_t lo, unsigned int nr_queues)
{
	memset(avail_idx, 0, sizeof(avail_idx));
	memset(used_seen, 0, sizeof(used_seen));
	wr(R_STATUS, 0);
	wr(R_STATUS, ACK);
	wr(R_STATUS, ACK | DRV);
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, lo);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1u << (VIRTIO_F_VERSION_1_BIT - 32));
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	for (unsigned int q = 0; q < nr_queues; q++) {
		uint8_t zero[0x600] = { 0 };

		ck_assert_int_eq(gmem_write(&vm->mem, desc_of(q), zero, sizeof(zero)), 0);
		wr(R_QUEUE_SEL, q);
		wr(R_QUEUE_NUM, NUM);
		wr(R_DESC, (uint32_t)desc_of(q));
		wr(R_DRIVER, (uint32_t)avail_of(q));
		wr(R_DEVICE, (uint32_t)used_of(q));
		wr(R_QUEUE_READY, 1);
	}
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert(virtio_dev_live(d));
}

/* Makes a one-descriptor chain available on queue q: `data` (len bytes)
 * for the device to read, or (data NULL) len bytes for it to write. */
static void offer(unsigned int q, const void *data, uint32_t len)
{
	uint16_t slot = avail_idx[q] % NUM, flags = data ? 0 : 2 /* WRITE */;
	uint64_t addr = buf_of(q, slot);
	uint8_t b[16] = { 0 };

	ck_assert_uint_le(len, 0x100);
	if (data)
		ck_assert_int_eq(gmem_write(&vm->mem, addr, data, len), 0);
	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &flags, 2);
	ck_assert_int_eq(gmem_write(&vm->mem, desc_of(q) + 16ULL * slot, b, 16), 0);
	ck_assert_int_eq(gmem_write(&vm->mem, avail_of(q) + 4 + 2 * slot, &slot, 2), 0);
	avail_idx[q]++;
	ck_assert_int_eq(gmem_write(&vm->mem, avail_of(q) + 2, &avail_idx[q], 2), 0);
}

/* The driver's QueueNotify, as the vCPU or the device thread delivers it. */
static void kick(unsigned int q)
{
	pthread_mutex_lock(&d->lock);
	if (virtio_dev_live(d))
		d->ops->notify(d, q);
	pthread_mutex_unlock(&d->lock);
}

static uint16_t used_idx(unsigned int q)
{
	uint16_t idx;

	ck_assert_int_eq(gmem_read(&vm->mem, used_of(q) + 2, &idx, 2), 0);
	return idx;
}

/* The next used element of queue q: its buffer's bytes; returns the length. */
static uint32_t next_used(unsigned int q, uint8_t *buf)
{
	uint32_t id, len;
	uint16_t slot = used_seen[q] % NUM;

	ck_assert_uint_gt((uint16_t)(used_idx(q) - used_seen[q]), 0);
	ck_assert_int_eq(gmem_read(&vm->mem, used_of(q) + 4 + 8 * slot, &id, 4), 0);
	ck_assert_int_eq(gmem_read(&vm->mem, used_of(q) + 8 + 8 * slot, &len, 4), 0);
	ck_assert_uint_lt(id, NUM);
	ck_assert_uint_le(len, 0x100);
	if (buf && len)
		ck_assert_int_eq(gmem_read(&vm->mem, buf_of(q, id), buf, len), 0);
	used_seen[q]++;
	return len;
}

static void send_ctrl(uint32_t id, uint16_t event, uint16_t value)
{
	uint8_t m[CONSOLE_CTRL_LEN];

	alcatraz_ctl_put_le32(m, id);
	alcatraz_ctl_put_le16(m + 4, event);
	alcatraz_ctl_put_le16(m + 6, value);
	offer(CONSOLE_Q_CTRL_TX, m, sizeof(m));
	kick(CONSOLE_Q_CTRL_TX);
}

/* The next message the device sent on the control receive queue. */
static void expect_ctrl(uint32_t id, uint16_t event, uint16_t value, const char *name)
{
	uint8_t m[0x100];
	uint32_t len = next_used(CONSOLE_Q_CTRL_RX, m);

	ck_assert_uint_ge(len, CONSOLE_CTRL_LEN);
	ck_assert_uint_eq(alcatraz_ctl_get_le32(m), id);
	ck_assert_uint_eq(alcatraz_ctl_get_le16(m + 4), event);
	ck_assert_uint_eq(alcatraz_ctl_get_le16(m + 6), value);
	ck_assert_uint_eq(len - CONSOLE_CTRL_LEN, name ? strlen(name) : 0);
	if (name)
		ck_assert_mem_eq(m + CONSOLE_CTRL_LEN, name, strlen(name));
}

static void post_ctrl_buffers(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		offer(CONSOLE_Q_CTRL_RX, NULL, 0x100);
	kick(CONSOLE_Q_CTRL_RX);
}

static void make(bool with_stderr)
{
	ck_assert_int_eq(pipe2(out_p, O_NONBLOCK), 0);
	ck_assert_int_eq(pipe2(err_p, O_NONBLOCK), 0);
	vm = fake_vm_new(MEM);
	vm->cfg.argv = argv_true;
	vm->cfg.stdout_fd = out_p[1];
	vm->cfg.stderr_fd = with_stderr ? err_p[1] : -1;
	ck_assert_int_eq(virtio_console_init(vm), 0);
	d = vm->console_dev;
	ck_assert_ptr_nonnull(d);
}

static void setup(void)
{
	make(true);
}

static void teardown(void)
{
	fake_vm_free(vm);
	close(out_p[0]);
	close(out_p[1]);
	close(err_p[0]);
	close(err_p[1]);
}

/* The full handshake of a Linux driver. */
static void handshake(void)
{
	bring_up(1u << VIRTIO_CONSOLE_F_MULTIPORT, 6);
	post_ctrl_buffers(NUM);
	send_ctrl(0, CONSOLE_DEVICE_READY, 1);
	expect_ctrl(0, CONSOLE_DEVICE_ADD, 1, NULL);
	expect_ctrl(1, CONSOLE_DEVICE_ADD, 1, NULL);
	send_ctrl(0, CONSOLE_PORT_READY, 1);
	expect_ctrl(0, CONSOLE_CONSOLE_PORT, 1, NULL);
	expect_ctrl(0, CONSOLE_PORT_OPEN, 1, NULL);
	send_ctrl(1, CONSOLE_PORT_READY, 1);
	expect_ctrl(1, CONSOLE_PORT_NAME, 1, ALCATRAZ_CTL_STDERR_PORT_NAME);
	expect_ctrl(1, CONSOLE_PORT_OPEN, 1, NULL);
	ck_assert_uint_eq(used_idx(CONSOLE_Q_CTRL_RX), 6);
	ck_assert_uint_eq(used_idx(CONSOLE_Q_CTRL_TX), 3);
	/* The guest opening its ends needs no answer. */
	send_ctrl(0, CONSOLE_PORT_OPEN, 1);
	send_ctrl(1, CONSOLE_PORT_OPEN, 1);
	ck_assert_uint_eq(used_idx(CONSOLE_Q_CTRL_RX), 6);
	ck_assert(virtio_dev_live(d));
}

/* Everything the pipe holds, as a string (the outbufs are drained by hand:
 * the device thread does not run here). */
static size_t drain_to(int rfd, char *buf, size_t cap)
{
	size_t have = 0;
	ssize_t n;

	while (outbuf_drain(((struct console *)d->priv)->ports[0].ob) == -EAGAIN)
		;
	if (((struct console *)d->priv)->nr_ports > 1)
		while (outbuf_drain(((struct console *)d->priv)->ports[1].ob) == -EAGAIN)
			;
	while (have < cap - 1 && (n = read(rfd, buf + have, cap - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	return have;
}

START_TEST(config_announces_two_ports)
{
	wr(R_DEV_FEAT_SEL, 0);
	ck_assert_uint_eq(rd(R_DEV_FEAT) & (1u << VIRTIO_CONSOLE_F_MULTIPORT),
			  1u << VIRTIO_CONSOLE_F_MULTIPORT);
	ck_assert_uint_eq(rd(R_CONFIG + 4), 2); /* max_nr_ports */
	ck_assert_uint_eq(d->nr_queues, 6);
}
END_TEST

START_TEST(stdout_and_stderr_are_separate)
{
	char got[256];

	handshake();
	offer(CONSOLE_Q_TX, "out1\n", 5);
	kick(CONSOLE_Q_TX);
	offer(CONSOLE_Q_TX_PORT(1), "err1\n", 5);
	kick(CONSOLE_Q_TX_PORT(1));
	offer(CONSOLE_Q_TX, "out2\n", 5);
	offer(CONSOLE_Q_TX, "out3\n", 5);
	kick(CONSOLE_Q_TX);
	offer(CONSOLE_Q_TX_PORT(1), "err2\n", 5);
	kick(CONSOLE_Q_TX_PORT(1));
	ck_assert_uint_eq(used_idx(CONSOLE_Q_TX), 3);
	ck_assert_uint_eq(used_idx(CONSOLE_Q_TX_PORT(1)), 2);
	drain_to(out_p[0], got, sizeof(got));
	ck_assert_str_eq(got, "out1\nout2\nout3\n");
	drain_to(err_p[0], got, sizeof(got));
	ck_assert_str_eq(got, "err1\nerr2\n");
}
END_TEST

/* Control messages wait for receive buffers, in order. */
START_TEST(messages_wait_for_buffers)
{
	bring_up(1u << VIRTIO_CONSOLE_F_MULTIPORT, 6);
	send_ctrl(0, CONSOLE_DEVICE_READY, 1);
	ck_assert_uint_eq(used_idx(CONSOLE_Q_CTRL_RX), 0);
	post_ctrl_buffers(1);
	expect_ctrl(0, CONSOLE_DEVICE_ADD, 1, NULL);
	ck_assert_uint_eq(used_idx(CONSOLE_Q_CTRL_RX), 1);
	post_ctrl_buffers(1);
	expect_ctrl(1, CONSOLE_DEVICE_ADD, 1, NULL);
	/* A repeated PORT_READY announces the port once. */
	send_ctrl(1, CONSOLE_PORT_READY, 1);
	send_ctrl(1, CONSOLE_PORT_READY, 1);
	post_ctrl_buffers(4);
	expect_ctrl(1, CONSOLE_PORT_NAME, 1, ALCATRAZ_CTL_STDERR_PORT_NAME);
	expect_ctrl(1, CONSOLE_PORT_OPEN, 1, NULL);
	ck_assert_uint_eq(used_idx(CONSOLE_Q_CTRL_RX), 4);
	ck_assert(virtio_dev_live(d));
}
END_TEST

static void expect_needs_reset(void)
{
	ck_assert_uint_eq(rd(R_STATUS) & NEEDS_RESET, NEEDS_RESET);
	ck_assert(!virtio_dev_live(d));
}

START_TEST(malformed_control_messages)
{
	static const struct {
		uint32_t id;
		uint16_t event, value;
		bool ready_first;
	} bad[] = {
		{ 2, CONSOLE_PORT_READY, 1, true },          /* port id out of range */
		{ 0xffffffffu, CONSOLE_PORT_OPEN, 1, true },  /* port id out of range */
		{ 0, CONSOLE_DEVICE_ADD, 1, true },           /* the device's event */
		{ 0, CONSOLE_PORT_NAME, 1, true },            /* the device's event */
		{ 0, CONSOLE_RESIZE, 0, true },               /* the device's event */
		{ 0, 99, 0, true },                           /* unknown */
		{ 0, CONSOLE_DEVICE_READY, 1, true },         /* twice */
		{ 0, CONSOLE_PORT_READY, 1, false },          /* before DEVICE_READY */
	};
	char got[64];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		bring_up(1u << VIRTIO_CONSOLE_F_MULTIPORT, 6);
		post_ctrl_buffers(4);
		if (bad[i].ready_first)
			send_ctrl(0, CONSOLE_DEVICE_READY, 1);
		ck_assert(virtio_dev_live(d));
		send_ctrl(bad[i].id, bad[i].event, bad[i].value);
		expect_needs_reset();
	}
	/* Shorter than the 8-byte header. */
	bring_up(1u << VIRTIO_CONSOLE_F_MULTIPORT, 6);
	offer(CONSOLE_Q_CTRL_TX, "\0\0\0\0\0\0", 6);
	kick(CONSOLE_Q_CTRL_TX);
	expect_needs_reset();
	/* A receive buffer too small for the port's name. */
	bring_up(1u << VIRTIO_CONSOLE_F_MULTIPORT, 6);
	for (int i = 0; i < 2; i++) /* the two DEVICE_ADDs */
		offer(CONSOLE_Q_CTRL_RX, NULL, 0x100);
	offer(CONSOLE_Q_CTRL_RX, NULL, CONSOLE_CTRL_LEN + 4);
	send_ctrl(0, CONSOLE_DEVICE_READY, 1);
	send_ctrl(1, CONSOLE_PORT_READY, 1);
	expect_needs_reset();
	/* A broken device copies nothing; a reset brings it back. */
	offer(CONSOLE_Q_TX_PORT(1), "lost", 4);
	kick(CONSOLE_Q_TX_PORT(1));
	handshake();
	offer(CONSOLE_Q_TX_PORT(1), "back", 4);
	kick(CONSOLE_Q_TX_PORT(1));
	drain_to(err_p[0], got, sizeof(got));
	ck_assert_str_eq(got, "back");
}
END_TEST

/* A driver that does not take the feature gets a plain console; the
 * control queues are not looked at. */
START_TEST(driver_without_multiport)
{
	char got[64];

	bring_up(0, 2);
	send_ctrl(0, 99, 0); /* on an unconfigured queue: ignored */
	ck_assert(virtio_dev_live(d));
	offer(CONSOLE_Q_TX, "all", 3);
	kick(CONSOLE_Q_TX);
	drain_to(out_p[0], got, sizeof(got));
	ck_assert_str_eq(got, "all");
}
END_TEST

START_TEST(no_stderr_sink_no_multiport)
{
	teardown();
	make(false);
	wr(R_DEV_FEAT_SEL, 0);
	ck_assert_uint_eq(rd(R_DEV_FEAT), 0);
	ck_assert_uint_eq(rd(R_CONFIG + 4), 1);
	ck_assert_uint_eq(d->nr_queues, 2);
	/* The feature cannot be forced. */
	wr(R_STATUS, ACK);
	wr(R_STATUS, ACK | DRV);
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, 1u << VIRTIO_CONSOLE_F_MULTIPORT);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1u << (VIRTIO_F_VERSION_1_BIT - 32));
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	ck_assert_uint_eq(rd(R_STATUS) & FEAT_OK, 0);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("console_multiport");
	TCase *tc = tcase_create("multiport");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, config_announces_two_ports);
	tcase_add_test(tc, stdout_and_stderr_are_separate);
	tcase_add_test(tc, messages_wait_for_buffers);
	tcase_add_test(tc, malformed_control_messages);
	tcase_add_test(tc, driver_without_multiport);
	tcase_add_test(tc, no_stderr_sink_no_multiport);
	suite_add_tcase(su, tc);
	return run_suite(su);
}
