// SPDX-License-Identifier: LGPL-2.1-or-later
/* The test VM without KVM (fake_vm.h). No Check: the fuzz targets use it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "evloop.h"
#include "fake_vm.h"
#include "virtio/virtio.h"

static void setup_failed(const char *what, int err)
{
	fprintf(stderr, "fake_vm: %s: %s\n", what, strerror(err < 0 ? -err : err));
	abort();
}

struct vm *fake_vm_new(uint64_t mem_bytes)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int ret;

	if (!vm)
		setup_failed("vm", ENOMEM);
	vm_config_defaults(&vm->cfg);
	vm->vm_fd = vm->kvm_fd = vm->end_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->log_lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	if ((ret = bus_init(&vm->mmio)))
		setup_failed("bus_init", ret);
	if (mem_bytes && ((ret = gmem_init(&vm->mem, mem_bytes)) ||
			  (ret = evloop_new(vm, &vm->evloop))))
		setup_failed("guest memory or event loop", ret);
	return vm;
}

void fake_vm_free(struct vm *vm)
{
	evloop_free(vm->evloop);
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		virtio_dev_free(vm->virtio[i]);
	control_free(vm);
	bus_fini(&vm->mmio);
	gmem_fini(&vm->mem);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->log_lock);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

void fill_pipe(int wfd)
{
	char path[32], junk[4096];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", wfd);
	fd = open(path, O_WRONLY | O_NONBLOCK);
	if (fd < 0)
		setup_failed(path, errno);
	memset(junk, '#', sizeof(junk));
	while (write(fd, junk, sizeof(junk)) > 0 || errno == EINTR)
		;
	/* Less than a page can still be free: fill it byte by byte. */
	while (write(fd, junk, 1) == 1)
		;
	close(fd);
}

static void mmio_wr(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, &v, 4);
}

bool fake_virtio_bring_up(struct virtio_dev *d, uint32_t num, uint32_t rings)
{
	mmio_wr(d, R_STATUS, 0);
	mmio_wr(d, R_STATUS, ACK);
	mmio_wr(d, R_STATUS, ACK | DRV);
	mmio_wr(d, R_DRV_FEAT_SEL, 0);
	mmio_wr(d, R_DRV_FEAT, (uint32_t)d->features);
	mmio_wr(d, R_DRV_FEAT_SEL, 1);
	mmio_wr(d, R_DRV_FEAT, 1u << (VIRTIO_F_VERSION_1_BIT - 32));
	mmio_wr(d, R_STATUS, ACK | DRV | FEAT_OK);
	for (unsigned int q = 0; q < d->nr_queues; q++) {
		uint32_t at = rings + q * 0x1000u;

		mmio_wr(d, R_QUEUE_SEL, q);
		mmio_wr(d, R_QUEUE_NUM, num);
		mmio_wr(d, R_DESC, at);
		mmio_wr(d, R_DRIVER, at + 0x200);
		mmio_wr(d, R_DEVICE, at + 0x400);
		mmio_wr(d, R_QUEUE_READY, 1);
	}
	mmio_wr(d, R_STATUS, ACK | DRV | FEAT_OK | DRV_OK);
	return virtio_dev_live(d);
}
