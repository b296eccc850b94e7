// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Raw freestanding guests (the project's tiny test guests): a flat image
 * copied to 1 MiB and entered there in 64-bit mode. Each vCPU gets its own
 * stack below the top of RAM and its index in RDI.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "vmm.h"

int raw_image_load(struct vm *vm)
{
	uint8_t *img;
	uint64_t len, stacks, room;
	int ret;

	ret = vm_config_read(vm->cfg.image_fd, vm->cfg.image_path, vm->mem.size, &img, &len);
	if (ret)
		return ret;
	if (len == 0) {
		free(img);
		return -ALCATRAZ_E_BADIMAGE;
	}
	/* The image and every vCPU's stack must fit without overlapping. */
	stacks = (uint64_t)vm->nr_vcpus * RAW_STACK_PER_VCPU;
	if (vm->mem.size < RAW_IMAGE_BASE + stacks ||
	    (room = vm->mem.size - RAW_IMAGE_BASE - stacks) < len) {
		vm_log(vm, LOG_ERR, "image of %llu bytes does not fit in %llu MiB of guest RAM",
		       (unsigned long long)len, (unsigned long long)(vm->mem.size >> 20));
		free(img);
		return -EFBIG;
	}
	ret = gmem_write(&vm->mem, RAW_IMAGE_BASE, img, len);
	free(img);
	if (ret)
		return ret;
	return x86_build_identity_map(vm);
}

int raw_image_setup_vcpu(struct vm *vm, struct vcpu *vcpu)
{
	uint64_t rsp = vm->mem.size - (uint64_t)vcpu->index * RAW_STACK_PER_VCPU;
	int ret;

	ret = x86_enter_long_mode(vcpu, RAW_IMAGE_BASE, rsp, vcpu->index, vm->cfg.vcpus);
	if (ret)
		return ret;
	if (vm->irqchip) {
		/* With an in-kernel LAPIC, application processors wait for
		 * INIT/SIPI; a raw guest has no boot code for that, so start
		 * every vCPU directly at the image's entry. */
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
		if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0)
			return -errno;
	}
	return 0;
}
