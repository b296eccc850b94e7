// SPDX-License-Identifier: LGPL-2.1-or-later
/* Public VM handles: validation at the API boundary, then the VMM process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "lib.h"
#include "supervisor.h"

struct alcatraz_vm {
	struct jailed_vm *jailed;
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

int alcatraz_vm_create(const struct alcatraz_config *cfg, struct alcatraz_vm **out)
{
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
	if (cfg->kernel_path && !cfg->allow_slow_kvm && lib_kvm_is_pvm())
		return -ALCATRAZ_E_SLOWKVM;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (cfg->no_sandbox)
		lib_log(cfg->log_fd, "alcatraz: warning: INSECURE: the VMM runs without its jail "
				     "and seccomp lists\n");
	ret = jailed_create(cfg, &h->jailed);
	if (ret) {
		free(h);
		return ret;
	}
	*out = h;
	return 0;
}

struct jailed_vm *vm_jailed(struct alcatraz_vm *h)
{
	return h->jailed;
}

int alcatraz_vm_start(struct alcatraz_vm *h)
{
	return h ? jailed_start(h->jailed) : -EINVAL;
}

int alcatraz_vm_wait(struct alcatraz_vm *h, int timeout_ms)
{
	return h ? jailed_wait(h->jailed, timeout_ms) : -EINVAL;
}

int alcatraz_vm_kill(struct alcatraz_vm *h)
{
	return h ? jailed_kill(h->jailed) : -EINVAL;
}

int alcatraz_vm_result(struct alcatraz_vm *h, struct alcatraz_result *res)
{
	if (!h || !res)
		return -EINVAL;
	return jailed_result(h->jailed, res);
}

int alcatraz_vm_fd(struct alcatraz_vm *h)
{
	return h ? jailed_fd(h->jailed) : -EINVAL;
}

void alcatraz_vm_destroy(struct alcatraz_vm *h)
{
	if (!h)
		return;
	jailed_destroy(h->jailed);
	free(h);
}

#ifdef ALCATRAZ_TEST_HOOKS
/* Test builds only: the VMM's pid, for inspecting the jailed process. */
pid_t alcatraz_test_vmm_pid(struct alcatraz_vm *h);
pid_t alcatraz_test_vmm_pid(struct alcatraz_vm *h)
{
	return h ? jailed_pid(h->jailed) : -1;
}
#endif
