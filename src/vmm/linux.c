// SPDX-License-Identifier: LGPL-2.1-or-later
/* Linux boot: not implemented yet (see issue 4). */
#include <errno.h>

#include "vmm.h"

int linux_load(struct vm *vm)
{
	vm_log(vm, LOG_ERR, "booting Linux kernels is not implemented yet");
	return -EOPNOTSUPP;
}

int linux_setup_vcpu(struct vm *vm, struct vcpu *vcpu)
{
	return -EOPNOTSUPP;
}
