// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Devices beyond the legacy PC set. Raw tiny guests get none; Linux guests
 * get their virtio-mmio devices here (added by the virtio layer).
 */
#include "vmm.h"

int platform_devices_init(struct vm *vm)
{
	return 0;
}

void platform_devices_fini(struct vm *vm)
{
}
