// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The virtio-mmio register state machine (mmio.c): a sequence of guest
 * reads and writes at any offset and size, guest RAM stores, and the event
 * thread's kick delivery, on one device.
 *
 * Input: u8 device (% 5), then 7-byte operations: u8 op, u16 offset,
 * u32 value. op % 8: 0-3 register write of 1 << ((op >> 3) & 3) bytes
 * (mostly 4), 4 register read, 5 guest RAM store of value at 4 * offset,
 * 6 the event thread delivers pending kicks, 7 the event thread notifies
 * queue value % 4.
 *
 * Beyond the sanitizers, the transport's promises (virtio 1.2, 2.1 and
 * 4.2.2): status bits are cleared only by a reset (a write of 0); after
 * FEATURES_OK the driver features are frozen and after DRIVER_OK the queue
 * registers too, until a reset; MMIO reads never fault.
 */
#include <string.h>

#include "fuzz_vm.h"

#define MEM (64 * 1024)
#define REG_STATUS 0x070
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define MAX_OPS 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct snap {
	uint32_t status;
	uint64_t driver_features;
	struct virtq vqs[VIRTIO_MAX_QUEUES];
};

static void take(const struct virtio_dev *d, struct snap *s)
{
	s->status = d->status;
	s->driver_features = d->driver_features;
	memcpy(s->vqs, d->vqs, sizeof(s->vqs));
}

static bool same_layout(const struct virtq *a, const struct virtq *b)
{
	return a->num == b->num && a->desc == b->desc && a->avail == b->avail && a->used == b->used &&
	       a->ready == b->ready;
}

static void check(const struct virtio_dev *d, const struct snap *old, bool reset)
{
	if (reset)
		return;
	FUZZ_ASSERT((d->status & old->status) == old->status,
		    "status 0x%x became 0x%x without a reset", old->status, d->status);
	if (old->status & STATUS_FEATURES_OK)
		FUZZ_ASSERT(d->driver_features == old->driver_features,
			    "driver features changed after FEATURES_OK (status 0x%x)", d->status);
	if (!(old->status & STATUS_DRIVER_OK))
		return;
	for (unsigned int q = 0; q < d->nr_queues; q++)
		FUZZ_ASSERT(same_layout(&d->vqs[q], &old->vqs[q]),
			    "queue %u reconfigured after DRIVER_OK (status 0x%x)", q, d->status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	enum fuzz_dev kind = (enum fuzz_dev)(fin_u8(&in) % FDEV_NR);
	struct vm *vm = fvm_new(MEM, kind == FDEV_VSOCK || kind == FDEV_CONSOLE);
	struct virtio_dev *d = fvm_add_device(vm, kind);
	struct snap s;

	for (unsigned int n = 0; n < MAX_OPS && in.left; n++) {
		uint8_t op = fin_u8(&in), buf[8];
		uint16_t off = fin_u16(&in);
		uint32_t v = fin_u32(&in), size4 = 1u << ((op >> 3) & 3);
		bool reset = false;

		pthread_mutex_lock(&d->lock);
		take(d, &s);
		pthread_mutex_unlock(&d->lock);
		switch (op & 7) {
		case 0: case 1: case 2: case 3: {
			uint32_t sz = (op & 7) == 0 ? size4 : 4;
			uint64_t reg = off & 0x1ff;
			memset(buf, 0, sizeof(buf));
			memcpy(buf, &v, 4);
			reset = reg == REG_STATUS && sz == 4 && v == 0;
			virtio_mmio_ops.write(d, reg, buf, sz);
			break;
		}
		case 4:
			virtio_mmio_ops.read(d, off & 0x1ff, buf, size4);
			break;
		case 5:
			(void)gmem_write(&vm->mem, 4ULL * off, &v, 4);
			break;
		case 6:
			fvm_deliver_kicks(d);
			break;
		default:
			fvm_notify(d, v % VIRTIO_MAX_QUEUES);
			break;
		}
		pthread_mutex_lock(&d->lock);
		check(d, &s, reset);
		pthread_mutex_unlock(&d->lock);
	}
	fvm_free(vm);
	return 0;
}
