// SPDX-License-Identifier: LGPL-2.1-or-later
/* Public VM handles: validation at the API boundary, then the VMM core. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "lib.h"
#include "sink.h"
#include "supervisor.h"
#include "vmm.h"

/* Exactly one of the two is set: the jailed VMM process (the default) or,
 * with the explicit insecure opt-out, a VMM inside this process. */
struct alcatraz_vm {
	struct jailed_vm *jailed;
	struct vm *vm;
};

/* MAP_NORESERVE lets any size map; refuse up front what the host could never
 * back, rather than letting the guest die later under the OOM killer. */
static int host_can_hold(uint64_t bytes)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return 0;
	uint64_t total = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
	return bytes <= total ? 0 : -ENOMEM;
}

static int dup_or_none(int fd)
{
	return fd >= 0 ? fcntl_dup_cloexec(fd) : -1;
}

int alcatraz_vm_create(const struct alcatraz_config *cfg, struct alcatraz_vm **out)
{
	struct vm_config vc;
	struct alcatraz_vm *h;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	ret = config_validate(cfg);
	if (ret)
		return ret;
	ret = host_can_hold(cfg->mem_mib << 20);
	if (ret)
		return ret;
	if (cfg->kernel_path && !cfg->allow_slow_kvm && kvm_is_pvm())
		return -ALCATRAZ_E_SLOWKVM;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	memset(&vc, 0, sizeof(vc));
	vc.vcpus = cfg->vcpus;
	vc.mem_bytes = cfg->mem_mib << 20;
	vc.image_path = cfg->image_path;
	vc.kernel_path = cfg->kernel_path;
	vc.initrd_path = cfg->initrd_path;
	vc.cmdline = cfg->cmdline;
	vc.timeout_ms = cfg->timeout_ms;
	vc.irqchip = cfg->irqchip;
	vc.output_filter = cfg->output_filter;
	/* Linux guests: command, stdio, disks, initramfs (guest_config.c). */
	ret = guest_config_fill(cfg, &vc);
	if (ret) {
		guest_vm_config_free(&vc);
		free(h);
		return ret;
	}
	/* The VM owns its own descriptors, so the config stays reusable. */
	vc.serial_fd = dup_or_none(cfg->serial_fd);
	vc.log_fd = dup_or_none(cfg->log_fd);
	if (cfg->no_sandbox) {
		sink_dprintf(vc.log_fd, "alcatraz: warning: INSECURE: the VMM runs without its "
					"sandbox, inside the calling process\n");
		ret = vm_create(&vc, &h->vm); /* takes the fds over */
	} else {
		vc.seccomp = true;
		ret = jailed_create(&vc, &h->jailed);
		/* The VMM process has its own copy of the guest part too. */
		guest_vm_config_free(&vc);
		/* The VMM process has its own copies now. */
		if (vc.serial_fd >= 0)
			close(vc.serial_fd);
		if (vc.log_fd >= 0)
			close(vc.log_fd);
	}
	if (ret) {
		free(h);
		return ret;
	}
	*out = h;
	return 0;
}

int alcatraz_vm_start(struct alcatraz_vm *h)
{
	if (!h)
		return -EINVAL;
	return h->jailed ? jailed_start(h->jailed) : vm_start(h->vm);
}

int alcatraz_vm_wait(struct alcatraz_vm *h, int timeout_ms)
{
	if (!h)
		return -EINVAL;
	return h->jailed ? jailed_wait(h->jailed, timeout_ms) : vm_wait(h->vm, timeout_ms);
}

int alcatraz_vm_kill(struct alcatraz_vm *h)
{
	if (!h)
		return -EINVAL;
	if (h->jailed)
		return jailed_kill(h->jailed);
	vm_kill(h->vm);
	return 0;
}

int alcatraz_vm_result(struct alcatraz_vm *h, struct alcatraz_result *res)
{
	int ret;

	if (!h || !res)
		return -EINVAL;
	if (h->jailed)
		return jailed_result(h->jailed, res);
	ret = vm_wait(h->vm, 0);
	if (ret == -ETIMEDOUT)
		return -EBUSY;
	if (ret == -EINVAL) {
		memset(res, 0, sizeof(*res));
		return -EBUSY;
	}
	pthread_mutex_lock(&h->vm->lock);
	*res = h->vm->result;
	pthread_mutex_unlock(&h->vm->lock);
	return 0;
}

void alcatraz_vm_destroy(struct alcatraz_vm *h)
{
	if (!h)
		return;
	if (h->jailed)
		jailed_destroy(h->jailed);
	else
		vm_destroy(h->vm);
	free(h);
}

int alcatraz_kvm_probe(char *msg, size_t len)
{
	int fd, ret;

	ret = kvm_open(&fd);
	if (ret) {
		if (msg && len)
			snprintf(msg, len, "%s",
				 ret == -ENOENT   ? "/dev/kvm does not exist: enable virtualization in the firmware and load kvm_intel or kvm_amd"
				 : ret == -EACCES ? "/dev/kvm is not accessible: add your user to the 'kvm' group or run as root"
						  : "/dev/kvm does not offer the KVM API this VMM needs");
		return ret;
	}
	close(fd);
	if (kvm_is_pvm()) {
		if (msg && len)
			snprintf(msg, len, "/dev/kvm is kvm_pvm: guest kernel code is emulated, so "
					   "Linux guests cannot boot here at a useful speed");
		return -ALCATRAZ_E_SLOWKVM;
	}
	if (msg && len)
		snprintf(msg, len, "/dev/kvm is usable");
	return 0;
}

#ifdef ALCATRAZ_TEST_HOOKS
/* Test builds only: the supervisor's pid, for inspecting the jailed VMM. */
pid_t jailed_reaper_pid(struct jailed_vm *j);
pid_t alcatraz_test_reaper_pid(struct alcatraz_vm *h);
pid_t alcatraz_test_reaper_pid(struct alcatraz_vm *h)
{
	return h && h->jailed ? jailed_reaper_pid(h->jailed) : -1;
}
#endif
