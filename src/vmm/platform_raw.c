// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Test builds only: a raw tiny guest with the platform devices Linux guests
 * get (virtio console, vsock, rng, then the disks, at the same virtio-mmio
 * bases and IRQs, the control channel when a command is set, the device
 * thread), so hostile-device tests can be written as tiny guests
 * (tests/hostile/). The guest finds cfg.cmdline, NUL-terminated, at
 * RAW_TEST_CMDLINE. Release builds compile only the stub: nothing outside a
 * build with ALCATRAZ_TEST_HOOKS can give a raw guest these devices.
 */
#include <errno.h>
#include <string.h>

#include "vmm.h"

#ifdef ALCATRAZ_TEST_HOOKS
static int write_cmdline(struct vm *vm)
{
	const char *s = vm->cfg.cmdline ? vm->cfg.cmdline : "";
	size_t len = strlen(s) + 1;

	if (len > RAW_TEST_CMDLINE_MAX || RAW_TEST_CMDLINE + len > RAW_IMAGE_BASE)
		return -E2BIG;
	return gmem_write(&vm->mem, RAW_TEST_CMDLINE, s, len);
}

int platform_raw_init(struct vm *vm)
{
	int ret;

	if (!vm->cfg.test_raw_platform)
		return 0;
	vm_log(vm, LOG_WARN, "test build: the raw guest gets the platform devices");
	ret = write_cmdline(vm);
	if (ret)
		return ret;
	return platform_virtio_init(vm); /* vm.c starts the device thread */
}
#else
int platform_raw_init(struct vm *vm)
{
	return 0;
}
#endif
