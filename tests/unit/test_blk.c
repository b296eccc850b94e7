// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: virtio-blk answers every malformed or forbidden request
 * (beyond the disk, a length that is not whole sectors, an overflowing
 * sector, a write to a read-only disk, an unknown type) with an error
 * status, never touching the image, and moves whole sectors exactly.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "evloop.h"
#include "virtio/virtio.h"
#include "vmm.h"

#define MEM (4 << 20)
#define NUM 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define HDR 0x10000
#define DATA 0x20000
#define STATUS 0x30000
#define F_NEXT 1
#define F_WRITE 2
#define SECTORS 128
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2

static char path[] = "/tmp/alcatraz-blk-XXXXXX";
static struct vm *vm;
static struct virtio_dev *d;
static uint16_t avail_idx;

static void reg(uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

static void make_vm(bool readonly)
{
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, SECTORS * 512), 0);
	close(fd);

	vm = calloc(1, sizeof(*vm));
	vm->cfg.log_fd = vm->cfg.serial_fd = -1;
	vm->vm_fd = vm->kvm_fd = vm->end_fd = -1;
	pthread_mutex_init(&vm->log_lock, NULL);
	ck_assert_int_eq(gmem_init(&vm->mem, MEM), 0);
	ck_assert_int_eq(bus_init(&vm->mmio), 0);
	ck_assert_int_eq(evloop_new(vm, &vm->evloop), 0);
	ck_assert_int_eq(virtio_blk_init(vm, path, readonly), 0);
	d = vm->virtio[0];

	/* Driver bring-up as the virtio 1.2 spec orders it. */
	reg(0x070, 1);
	reg(0x070, 3);
	reg(0x024, 1);
	reg(0x020, 1); /* VIRTIO_F_VERSION_1 */
	reg(0x070, 0xb);
	reg(0x030, 0);
	reg(0x038, NUM);
	reg(0x080, DESC);
	reg(0x090, AVAIL);
	reg(0x0a0, USED);
	reg(0x044, 1);
	reg(0x070, 0xf);
	ck_assert(virtio_dev_live(d));
	avail_idx = 0;
}

static void teardown(void)
{
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		virtio_dev_free(vm->virtio[i]);
	evloop_free(vm->evloop);
	bus_fini(&vm->mmio);
	gmem_fini(&vm->mem);
	free(vm);
	unlink(path);
	strcpy(path, "/tmp/alcatraz-blk-XXXXXX");
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t b[16];
	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &flags, 2);
	memcpy(b + 14, &next, 2);
	ck_assert_int_eq(gmem_write(&vm->mem, DESC + 16ULL * i, b, 16), 0);
}

/* Sends one request (header, data of len bytes, status) and returns the
 * status byte the device wrote (0xee if it wrote none). */
static int request(uint32_t type, uint64_t sector, uint32_t len)
{
	uint8_t hdr[16] = { 0 }, st = 0xee;
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	ck_assert_int_eq(gmem_write(&vm->mem, HDR, hdr, 16), 0);
	ck_assert_int_eq(gmem_write(&vm->mem, STATUS, &st, 1), 0);
	desc(0, HDR, 16, F_NEXT, len ? 1 : 2);
	if (len)
		desc(1, DATA, len, F_NEXT | (type == T_IN ? F_WRITE : 0), 2);
	desc(2, STATUS, 1, F_WRITE, 0);
	uint16_t head = 0;
	ck_assert_int_eq(gmem_write(&vm->mem, AVAIL + 4 + 2 * (avail_idx % NUM), &head, 2), 0);
	avail_idx++;
	ck_assert_int_eq(gmem_write(&vm->mem, AVAIL + 2, &avail_idx, 2), 0);
	pthread_mutex_lock(&d->lock);
	d->ops->notify(d, 0);
	pthread_mutex_unlock(&d->lock);
	ck_assert_int_eq(gmem_read(&vm->mem, STATUS, &st, 1), 0);
	return st;
}

START_TEST(sectors_round_trip)
{
	uint8_t out[1024], in[1024];
	make_vm(false);
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13 + 7);
	ck_assert_int_eq(gmem_write(&vm->mem, DATA, out, sizeof(out)), 0);
	ck_assert_int_eq(request(T_OUT, 2, sizeof(out)), S_OK);
	ck_assert_int_eq(request(T_FLUSH, 0, 0), S_OK);
	memset(in, 0, sizeof(in));
	ck_assert_int_eq(gmem_write(&vm->mem, DATA, in, sizeof(in)), 0);
	ck_assert_int_eq(request(T_IN, 2, sizeof(in)), S_OK);
	ck_assert_int_eq(gmem_read(&vm->mem, DATA, in, sizeof(in)), 0);
	ck_assert_mem_eq(in, out, sizeof(out));
	/* The last sector is reachable, the one after it is not. */
	ck_assert_int_eq(request(T_IN, SECTORS - 1, 512), S_OK);
	teardown();
}
END_TEST

START_TEST(malformed_requests_fail)
{
	make_vm(false);
	ck_assert_int_eq(request(T_IN, SECTORS - 1, 1024), S_IOERR);   /* beyond the end */
	ck_assert_int_eq(request(T_OUT, SECTORS, 512), S_IOERR);       /* beyond the end */
	ck_assert_int_eq(request(T_OUT, 0, 100), S_IOERR);             /* not whole sectors */
	ck_assert_int_eq(request(T_IN, UINT64_MAX / 256, 512), S_IOERR); /* sector * 512 overflows */
	ck_assert_int_eq(request(99, 0, 512), S_UNSUPP);
	ck_assert(virtio_dev_live(d)); /* errors, not a broken device */
	teardown();
}
END_TEST

START_TEST(readonly_refuses_writes)
{
	uint8_t junk[512];
	make_vm(true);
	memset(junk, 0x5a, sizeof(junk));
	ck_assert_int_eq(gmem_write(&vm->mem, DATA, junk, sizeof(junk)), 0);
	ck_assert_int_eq(request(T_OUT, 0, 512), S_IOERR);
	ck_assert_int_eq(request(T_IN, 0, 512), S_OK);
	ck_assert_int_eq(gmem_read(&vm->mem, DATA, junk, sizeof(junk)), 0);
	ck_assert_uint_eq(junk[0], 0); /* the image is still zeros */
	teardown();
}
END_TEST

START_TEST(no_status_byte_resets_device)
{
	make_vm(false);
	/* A chain with only the header: nowhere to put a status. */
	desc(0, HDR, 16, 0, 0);
	uint16_t head = 0;
	ck_assert_int_eq(gmem_write(&vm->mem, AVAIL + 4, &head, 2), 0);
	avail_idx = 1;
	ck_assert_int_eq(gmem_write(&vm->mem, AVAIL + 2, &avail_idx, 2), 0);
	pthread_mutex_lock(&d->lock);
	d->ops->notify(d, 0);
	pthread_mutex_unlock(&d->lock);
	ck_assert(!virtio_dev_live(d));
	ck_assert_uint_eq(d->status & 0x40, 0x40); /* NEEDS_RESET */
	teardown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blk");
	TCase *tc = tcase_create("requests");
	tcase_add_test(tc, sectors_round_trip);
	tcase_add_test(tc, malformed_requests_fail);
	tcase_add_test(tc, readonly_refuses_writes);
	tcase_add_test(tc, no_status_byte_resets_device);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
