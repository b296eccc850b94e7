// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: virtio-console output behind a sink nobody reads: the vCPU's
 * notify returns at once, a chain that does not fit the buffer stays unused
 * (back-pressure to the guest), and once the reader reads, the device thread
 * writes everything out in order and uses the chain.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
#define DATA 0x10000
#define CHUNK (40 * 1024) /* two do not fit the 64 KiB buffer */
#define Q_TX 1


static char *argv_true[] = { "true", NULL };
static struct vm *vm;
static struct virtio_dev *d;
static int p[2];

static void wr(uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

static void bring_up(void)
{
	wr(R_STATUS, ACK);
	wr(R_STATUS, ACK | DRV);
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1u << (VIRTIO_F_VERSION_1_BIT - 32));
	wr(R_STATUS, ACK | DRV | FEAT_OK);
	wr(R_QUEUE_SEL, Q_TX);
	wr(R_QUEUE_NUM, NUM);
	wr(R_DESC, DESC);
	wr(R_DRIVER, AVAIL);
	wr(R_DEVICE, USED);
	wr(R_QUEUE_READY, 1);
	wr(R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	ck_assert(virtio_dev_live(d));
}

static void setup(void)
{
	ck_assert_int_eq(pipe(p), 0);
	vm = fake_vm_new(MEM);
	vm->cfg.argv = argv_true;
	vm->cfg.stdout_fd = p[1];
	ck_assert_int_eq(virtio_console_init(vm), 0);
	d = vm->console_dev;
	ck_assert_ptr_nonnull(d);
	bring_up();
}

static void teardown(void)
{
	fake_vm_free(vm);
	close(p[0]);
	close(p[1]);
}

/* Chain `head`: one readable descriptor of len bytes at addr. */
static void offer(uint16_t head, uint64_t addr, uint32_t len)
{
	uint8_t b[16] = { 0 };
	uint16_t idx;

	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	ck_assert_int_eq(gmem_write(&vm->mem, DESC + 16ULL * head, b, 16), 0);
	ck_assert_int_eq(gmem_read(&vm->mem, AVAIL + 2, &idx, 2), 0);
	ck_assert_int_eq(gmem_write(&vm->mem, AVAIL + 4 + 2 * (idx % NUM), &head, 2), 0);
	idx++;
	ck_assert_int_eq(gmem_write(&vm->mem, AVAIL + 2, &idx, 2), 0);
}

/* What a vCPU does on the guest's QueueNotify write (an inline queue). */
static void kick_tx(void)
{
	pthread_mutex_lock(&d->lock);
	d->ops->notify(d, Q_TX);
	pthread_mutex_unlock(&d->lock);
}

static uint16_t used_idx(void)
{
	uint16_t idx;
	ck_assert_int_eq(gmem_read(&vm->mem, USED + 2, &idx, 2), 0);
	return idx;
}

START_TEST(stalled_sink_leaves_chain_unused)
{
	static uint8_t want[2 * CHUNK], got[2 * CHUNK];
	size_t have = 0;

	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)('a' + i % 26);
	ck_assert_int_eq(gmem_write(&vm->mem, DATA, want, sizeof(want)), 0);
	fill_pipe(p[1]);

	offer(0, DATA, CHUNK);
	kick_tx(); /* returns: the vCPU never waits for the reader */
	ck_assert_uint_eq(used_idx(), 1);
	offer(1, DATA + CHUNK, CHUNK);
	kick_tx();
	ck_assert_uint_eq(used_idx(), 1); /* does not fit: the guest waits */
	kick_tx();
	ck_assert_uint_eq(used_idx(), 1);

	/* The device thread starts; the reader reads. */
	ck_assert_int_eq(evloop_start(vm->evloop), 0);
	for (int tries = 0; tries < 1000 && have < sizeof(got); tries++) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		char buf[4096];
		ssize_t n;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = read(p[0], buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != '#')
				got[have++] = (uint8_t)buf[i];
	}
	ck_assert_uint_eq(have, sizeof(got));
	ck_assert_mem_eq(got, want, sizeof(want));
	for (int tries = 0; tries < 100 && used_idx() != 2; tries++)
		usleep(10000);
	ck_assert_uint_eq(used_idx(), 2);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("console");
	TCase *tc = tcase_create("console");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, stalled_sink_leaves_chain_unused);
	suite_add_tcase(su, tc);
	return run_suite(su);
}
