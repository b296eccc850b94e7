// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: virtio-blk answers every malformed or forbidden request
 * (beyond the disk, a length that is not whole sectors, an overflowing
 * sector, a write to a read-only disk, an unknown type) with an error
 * status, never touching the image, and moves whole sectors exactly.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "evloop.h"
#include "fake_vm.h"
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
static unsigned int qnum = NUM;        /* queue size make_vm sets */
static uint64_t disk_sectors = SECTORS;
static struct vm *vm;
static struct virtio_dev *d;
static uint16_t avail_idx;

static void reg(uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

/* A VM with only a blk device on the existing image at `path`. */
static int new_vm(bool readonly)
{
	vm = fake_vm_new(MEM);
	struct vm_disk disk = { .path = (char *)path, .fd = -1, .readonly = readonly };

	return virtio_blk_init(vm, &disk);
}

static void make_vm(bool readonly)
{
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)disk_sectors * 512), 0);
	close(fd);

	ck_assert_int_eq(new_vm(readonly), 0);
	d = vm->virtio[0];

	/* Driver bring-up as the virtio 1.2 spec orders it. */
	reg(0x070, 1);
	reg(0x070, 3);
	reg(0x024, 1);
	reg(0x020, 1); /* VIRTIO_F_VERSION_1 */
	reg(0x070, 0xb);
	reg(0x030, 0);
	reg(0x038, qnum);
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
	fake_vm_free(vm);
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

/*
 * A ring that feeds itself: the one chain reads a sector over the avail
 * ring and its own request header, and each sector makes 16 more chains
 * available and names the next sector, the last one the first. The device
 * alone keeps finding work, with no vCPU running. One notification must
 * still end, after a bounded number of chains, and ask to be called again
 * (the queue's eventfd signalled) so the device thread can serve others
 * or stop.
 */
#define FEED_NUM 16
#define FEED_SECTORS 4096 /* 16 * 4096 = 65536: the avail index wraps in step */
#define FEED_HDR 0x100    /* request header, inside the sector read */

START_TEST(self_feeding_ring_yields)
{
	uint8_t sec[512];
	uint64_t cnt = 0;
	uint16_t used;
	int fd;

	alarm(20); /* the failure this guards against is an endless loop */
	qnum = FEED_NUM;
	disk_sectors = FEED_SECTORS;
	make_vm(false);
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	for (uint32_t k = 0; k < FEED_SECTORS; k++) {
		uint16_t idx = (uint16_t)(FEED_NUM * (k + 2));
		uint64_t next = (k + 1) % FEED_SECTORS;
		memset(sec, 0, sizeof(sec));
		memcpy(sec + 2, &idx, 2);          /* avail->idx; ring[] all head 0 */
		memcpy(sec + FEED_HDR + 8, &next, 8); /* T_IN of the next sector */
		ck_assert_int_eq(pwrite(fd, sec, sizeof(sec), (off_t)k * 512), 512);
	}
	close(fd);
	/* The guest's one move: the same state sector FEED_SECTORS-1 leaves. */
	memset(sec, 0, sizeof(sec));
	uint16_t idx = FEED_NUM;
	memcpy(sec + 2, &idx, 2);
	ck_assert_int_eq(gmem_write(&vm->mem, AVAIL, sec, sizeof(sec)), 0);
	desc(0, AVAIL + FEED_HDR, 16, F_NEXT, 1);
	desc(1, AVAIL, 513, F_WRITE, 0); /* sector + status byte */
	pthread_mutex_lock(&d->lock);
	d->ops->notify(d, 0);
	pthread_mutex_unlock(&d->lock);
	alarm(0);
	ck_assert_int_eq(gmem_read(&vm->mem, USED + 2, &used, 2), 0);
	ck_assert_uint_eq(used, VQ_NOTIFY_BUDGET);
	ck_assert_int_eq(read(d->vqs[0].kick_fd, &cnt, sizeof(cnt)), (ssize_t)sizeof(cnt));
	ck_assert_uint_eq(cnt, 1);
	ck_assert(virtio_dev_live(d));
	teardown();
	qnum = NUM;
	disk_sectors = SECTORS;
}
END_TEST

/* A destroyed VM lets go of its image at once: the next VM on it must not
 * find it locked (the image is a registered file of the VM's io_uring,
 * whose teardown in the kernel finishes later). */
START_TEST(image_unlocked_when_freed)
{
	make_vm(false);
	fake_vm_free(vm);
	for (int i = 0; i < 10; i++) {
		ck_assert_msg(new_vm(false) == 0, "VM %d found the image locked", i + 2);
		fake_vm_free(vm);
	}
	ck_assert_int_eq(new_vm(true), 0); /* a shared lock too */
	teardown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blk");
	TCase *tc = tcase_create("requests");
	tcase_set_timeout(tc, 30); /* many VMs under valgrind */
	tcase_add_test(tc, sectors_round_trip);
	tcase_add_test(tc, malformed_requests_fail);
	tcase_add_test(tc, readonly_refuses_writes);
	tcase_add_test(tc, no_status_byte_resets_device);
	tcase_add_test(tc, self_feeding_ring_yields);
	tcase_add_test(tc, image_unlocked_when_freed);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
