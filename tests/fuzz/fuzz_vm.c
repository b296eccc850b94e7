// SPDX-License-Identifier: LGPL-2.1-or-later
/* The fake VM of the fuzz targets (fuzz_vm.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "evloop.h"
#include "fake_vm.h"
#include "fuzz_vm.h"

#define DISK_SECTORS 64
#define STATUS_ACK 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8

const char *const fuzz_dev_names[FDEV_NR] = { "blk", "blk-ro", "rng", "console", "vsock" };

static char *argv_true[] = { "true", NULL };

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ALCATRAZ FUZZ FINDING at %s:%d (%s): ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

size_t fin_bytes(struct fuzz_in *in, void *dst, size_t n)
{
	if (n > in->left)
		n = in->left;
	memcpy(dst, in->p, n);
	in->p += n;
	in->left -= n;
	return n;
}

#define FIN_INT(name, type)                                 \
	type name(struct fuzz_in *in)                       \
	{                                                   \
		type v = 0;                                 \
		fin_bytes(in, &v, sizeof(v));               \
		return v;                                   \
	}
FIN_INT(fin_u8, uint8_t)
FIN_INT(fin_u16, uint16_t)
FIN_INT(fin_u32, uint32_t)
FIN_INT(fin_u64, uint64_t)

static void setup_failed(const char *what, int err)
{
	fprintf(stderr, "fuzz harness: %s: %s\n", what, strerror(err < 0 ? -err : err));
	abort();
}

/* Where device logs go: formatted (that code runs too), then dropped. */
static int devnull(void)
{
	static int fd = -1;

	if (fd < 0 && (fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		setup_failed("/dev/null", errno);
	return fd;
}

/* One small disk image for every blk device of the process, reopened by
 * path like a user's image. Its contents are whatever earlier runs wrote:
 * no code path depends on them. */
static const char *disk_path(void)
{
	static char path[64];

	if (!path[0]) {
		char tmpl[] = "/tmp/alcatraz-fuzz-disk-XXXXXX";
		int fd = mkstemp(tmpl);
		if (fd < 0 || ftruncate(fd, DISK_SECTORS * 512) < 0)
			setup_failed("disk image", errno);
		unlink(tmpl);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	return path;
}

/*
 * Disk I/O through the preadv/pwritev engine: an io_uring per VM costs a
 * ring setup per input, and its asynchronous teardown keeps the image's
 * lock after the VM is gone (see /work/notes/fuzz-findings.md). The
 * requests parsed are the same.
 */
static void no_io_uring(void)
{
	static bool done;
	scmp_filter_ctx ctx;

	if (done)
		return;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0) ||
	    seccomp_load(ctx))
		setup_failed("seccomp", EINVAL);
	seccomp_release(ctx);
	done = true;
}

struct vm *fvm_new(uint64_t mem_bytes, bool with_control)
{
	struct vm *vm;
	int ret;

	no_io_uring();
	vm = fake_vm_new(mem_bytes);
	vm->cfg.log_fd = devnull();
	vm->cfg.stdout_fd = -1;
	vm->cfg.vcpus = 1;
	if (with_control) {
		/* The console writes the command's output here. */
		vm->cfg.argv = argv_true;
		vm->cfg.stdout_fd = devnull();
		if ((ret = control_new(vm)))
			setup_failed("control_new", ret);
	}
	return vm;
}

void fvm_free(struct vm *vm)
{
	fake_vm_free(vm);
}

struct virtio_dev *fvm_add_device(struct vm *vm, enum fuzz_dev kind)
{
	unsigned int before = vm->nr_virtio;
	int ret;

	switch (kind) {
	case FDEV_BLK:
	case FDEV_BLK_RO: {
		struct vm_disk d = { .path = (char *)disk_path(), .fd = -1,
				     .readonly = kind == FDEV_BLK_RO };
		ret = virtio_blk_init(vm, &d);
		break;
	}
	case FDEV_RNG:
		ret = virtio_rng_init(vm);
		break;
	case FDEV_CONSOLE:
		ret = virtio_console_init(vm);
		break;
	default:
		ret = virtio_vsock_init(vm);
		break;
	}
	if (ret || vm->nr_virtio != before + 1)
		setup_failed(fuzz_dev_names[kind], ret);
	return vm->virtio[before];
}

void fvm_reg_write(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

uint32_t fvm_reg_read(struct virtio_dev *d, uint32_t off)
{
	uint32_t v;

	virtio_mmio_ops.read(d, off, &v, 4);
	return v;
}

void fvm_driver_init(struct virtio_dev *d, const uint16_t *num, const uint64_t *desc,
		     const uint64_t *avail, const uint64_t *used)
{
	uint32_t feat[2];

	fvm_reg_write(d, 0x070, 0);
	fvm_reg_write(d, 0x070, STATUS_ACK);
	fvm_reg_write(d, 0x070, STATUS_ACK | STATUS_DRIVER);
	for (uint32_t sel = 0; sel < 2; sel++) {
		fvm_reg_write(d, 0x014, sel);
		feat[sel] = fvm_reg_read(d, 0x010);
		fvm_reg_write(d, 0x024, sel);
		fvm_reg_write(d, 0x020, feat[sel]);
	}
	fvm_reg_write(d, 0x070, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK);
	for (unsigned int q = 0; q < d->nr_queues; q++) {
		fvm_reg_write(d, 0x030, q);
		fvm_reg_write(d, 0x038, num[q]);
		fvm_reg_write(d, 0x080, (uint32_t)desc[q]);
		fvm_reg_write(d, 0x084, (uint32_t)(desc[q] >> 32));
		fvm_reg_write(d, 0x090, (uint32_t)avail[q]);
		fvm_reg_write(d, 0x094, (uint32_t)(avail[q] >> 32));
		fvm_reg_write(d, 0x0a0, (uint32_t)used[q]);
		fvm_reg_write(d, 0x0a4, (uint32_t)(used[q] >> 32));
		fvm_reg_write(d, 0x044, 1);
	}
	fvm_reg_write(d, 0x070, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
}

void fvm_notify(struct virtio_dev *d, unsigned int q)
{
	pthread_mutex_lock(&d->lock);
	if (q < d->nr_queues && virtio_dev_live(d) && d->ops->notify)
		d->ops->notify(d, q);
	pthread_mutex_unlock(&d->lock);
}

void fvm_deliver_kicks(struct virtio_dev *d)
{
	for (unsigned int q = 0; q < d->nr_queues; q++) {
		uint64_t cnt;

		if (d->vqs[q].kick_fd >= 0 && read(d->vqs[q].kick_fd, &cnt, sizeof(cnt)) == sizeof(cnt))
			fvm_notify(d, q);
	}
}
