// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <string.h>

#include "vmm.h"

/* i8042: only what guests use to reset the machine (command 0xfe pulses the
 * CPU reset line) plus a status register that says "no data, ready". */
static void i8042_read(void *opaque, uint64_t offset, void *data, uint32_t size)
{
	memset(data, 0, size);
}

static void i8042_write(void *opaque, uint64_t offset, const void *data, uint32_t size)
{
	struct vm *vm = opaque;

	if (offset == I8042_PORT_CMD - I8042_PORT_DATA && ((const uint8_t *)data)[0] == 0xfe)
		vm_guest_ended(vm, ALCATRAZ_EXIT_RESET, "guest reset the machine (i8042)");
}

static const struct bus_ops i8042_ops = { .read = i8042_read, .write = i8042_write };

int i8042_device_init(struct vm *vm)
{
	return bus_register(&vm->pio, "i8042", I8042_PORT_DATA, 5, &i8042_ops, vm);
}

