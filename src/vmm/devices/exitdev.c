// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <string.h>

#include "vmm.h"

/* The exit device: a guest writes its exit status (low 8 bits) to the port. */
static void exitdev_write(void *opaque, uint64_t offset, const void *data, uint32_t size)
{
	struct vm *vm = opaque;
	uint32_t v = 0;

	memcpy(&v, data, size < sizeof(v) ? size : sizeof(v));
	vm_end(vm, ALCATRAZ_EXIT_STATUS, (int)(v & 0xff), 0, "guest exited with status %u",
	       v & 0xff);
}

static const struct bus_ops exitdev_ops = { .write = exitdev_write };

int exitdev_device_init(struct vm *vm)
{
	return bus_register(&vm->pio, "exit", EXITDEV_PORT, 4, &exitdev_ops, vm);
}
