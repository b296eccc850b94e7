// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Virtqueue walking (queue.c) with each device's request parsing (blk.c,
 * rng.c, console.c, vsock.c): the fuzzer writes guest RAM, rings and
 * descriptors included, and places the rings; a driver brings the device
 * up through the real MMIO registers and notifies every queue.
 *
 * Input: u8 sel (device = sel % 5, rounds of notifications = 1 + bits 4-5),
 * then per queue (3) u8 size (bit 7 set: the raw value, else 1 << (v % 9)),
 * u16 desc, u16 avail, u16 used (guest-physical), then guest RAM from 0.
 *
 * Beyond the sanitizers: a live device returns every chain it consumed
 * (but the console's one held for back-pressure).
 */
#include <string.h>

#include "fuzz_vm.h"

#define MEM (64 * 1024)
#define NQ 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fin_u8(&in);
	enum fuzz_dev kind = (enum fuzz_dev)(sel % FDEV_NR);
	unsigned int rounds = 1 + ((sel >> 4) & 3);
	uint16_t num[NQ];
	uint64_t desc[NQ], avail[NQ], used[NQ];
	struct vm *vm;
	struct virtio_dev *d;

	for (unsigned int q = 0; q < NQ; q++) {
		uint8_t n = fin_u8(&in);
		num[q] = n & 0x80 ? n : (uint16_t)(1u << (n % 9));
		desc[q] = fin_u16(&in);
		avail[q] = fin_u16(&in);
		used[q] = fin_u16(&in);
	}
	vm = fvm_new(MEM, kind == FDEV_VSOCK || kind == FDEV_CONSOLE);
	d = fvm_add_device(vm, kind);
	fin_bytes(&in, vm->mem.host, MEM);
	fvm_driver_init(d, num, desc, avail, used);

	for (unsigned int r = 0; r < rounds; r++)
		for (unsigned int q = 0; q < d->nr_queues; q++)
			fvm_notify(d, q);
	if (kind == FDEV_CONSOLE)
		virtio_console_drain(vm);
	if (kind == FDEV_VSOCK)
		virtio_vsock_flush(vm);

	pthread_mutex_lock(&d->lock);
	for (unsigned int q = 0; q < d->nr_queues && virtio_dev_live(d); q++) {
		const struct virtq *vq = &d->vqs[q];
		/* The console holds one output chain while its buffer is full
		 * (back-pressure; the device thread, not run here, drains it). */
		unsigned int held = kind == FDEV_CONSOLE && q == 1 ? 1 : 0;

		FUZZ_ASSERT((uint16_t)(vq->last_avail - vq->used_idx) <= held,
			    "%s queue %u: %u chains consumed, %u returned", fuzz_dev_names[kind], q,
			    vq->last_avail, vq->used_idx);
	}
	pthread_mutex_unlock(&d->lock);
	fvm_free(vm);
	return 0;
}
