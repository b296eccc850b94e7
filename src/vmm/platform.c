// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Devices beyond the legacy PC set. Raw tiny guests get none; Linux guests
 * get their virtio-mmio devices, announced on the kernel command line
 * (virtio_mmio.device=<size>@<base>:<irq>, in the order that names them:
 * the console is hvc0, the first disk /dev/vda). The device thread they
 * use is every VM's (vm.c starts it once the devices are in).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "evloop.h"
#include "virtio/virtio.h"

/* The kernel log goes to the serial port (hvc0 is the command's); no ACPI,
 * PCI or modules exist; a panic or reboot ends the VM at once. */
#define BASE_CMDLINE                                                                   \
	"console=ttyS0 reboot=k panic=-1 acpi=off pci=off nomodule i8042.noaux "       \
	"i8042.nomux i8042.dumbkbd tsc=reliable no_timer_check random.trust_cpu=on"

static char *build_cmdline(struct vm *vm)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	fputs(BASE_CMDLINE, f);
	/* Without a serial sink the log is never seen: do not spend exits on it. */
	if (vm->cfg.serial_fd < 0)
		fputs(" quiet", f);
	/* alcatraz-init comes from the library's initramfs and mounts the
	 * disk itself (src/guest/root.c): the image needs nothing of ours. */
	if (vm->cfg.root_disk)
		fputs(" alcatraz.root=ext4:/dev/vda:rw", f);
	if (vm->cfg.cmdline)
		fprintf(f, " %s", vm->cfg.cmdline);
	virtio_fs_cmdline(vm, f);
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		fprintf(f, " virtio_mmio.device=4K@%#llx:%u",
			(unsigned long long)vm->virtio[i]->base, vm->virtio[i]->irq);
	if (fclose(f)) {
		free(s);
		return NULL;
	}
	return s;
}

int platform_virtio_init(struct vm *vm)
{
	int ret;

	if (vm->cfg.argv) {
		ret = control_new(vm);
		if (ret) {
			vm_log(vm, LOG_ERR, "command: %s", ret == -E2BIG ? "too long" : "invalid");
			return ret;
		}
	}
	if ((ret = virtio_console_init(vm)) || (ret = virtio_vsock_init(vm)) ||
	    (ret = virtio_rng_init(vm)))
		return ret;
	for (unsigned int i = 0; i < vm->cfg.nr_disks; i++) {
		ret = virtio_blk_init(vm, &vm->cfg.disks[i]);
		if (ret)
			return ret;
	}
	if (vm->cfg.net_backend && (ret = virtio_net_init(vm)))
		return ret;
	for (unsigned int i = 0; i < vm->cfg.nr_volumes; i++)
		if ((ret = virtio_fs_init(vm, &vm->cfg.volumes[i])))
			return ret;
	return 0;
}

int platform_devices_init(struct vm *vm)
{
	char *cmdline;
	int ret;

	if (!vm->cfg.kernel_path)
		return platform_raw_init(vm);
	ret = platform_virtio_init(vm);
	if (ret || vm->restore) /* a restored guest's RAM has its boot data */
		return ret;
	cmdline = build_cmdline(vm);
	if (!cmdline)
		return -ENOMEM;
	vm_log(vm, LOG_DEBUG, "kernel command line: %s", cmdline);
	ret = linux_finish(vm, cmdline);
	free(cmdline);
	return ret;
}

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

void platform_devices_fini(struct vm *vm)
{
	/* vm_free() has stopped the device thread already. */
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		virtio_dev_free(vm->virtio[i]);
	vm->nr_virtio = 0;
	vm->console_dev = vm->vsock_dev = NULL;
	control_free(vm);
	linux_free(vm);

	if (vm->cfg.argv) {
		if (vm->cfg.stdin_fd >= 0)
			close(vm->cfg.stdin_fd);
		if (vm->cfg.stdout_fd >= 0)
			close(vm->cfg.stdout_fd);
		if (vm->cfg.stderr_fd >= 0)
			close(vm->cfg.stderr_fd);
	}
	free_strv(vm->cfg.argv);
	free_strv(vm->cfg.envp);
	free(vm->cfg.workdir);
	for (unsigned int i = 0; i < vm->cfg.nr_disks; i++) {
		if (vm->cfg.disks[i].fd >= 0) /* not taken by a device */
			close(vm->cfg.disks[i].fd);
		free(vm->cfg.disks[i].path);
	}
	free(vm->cfg.disks);
	virtio_fs_config_free(&vm->cfg);
	if (vm->cfg.net_backend && vm->cfg.net_fd >= 0) /* not taken by virtio-net */
		close(vm->cfg.net_fd);
	free(vm->cfg.initrd_data);
	vm->cfg.argv = vm->cfg.envp = NULL;
	vm->cfg.workdir = NULL;
	vm->cfg.disks = NULL;
	vm->cfg.nr_disks = 0;
	vm->cfg.initrd_data = NULL;
}
