// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CPUID: start from what KVM can virtualise and remove what this VMM does not
 * provide, so the guest never probes hardware that is not there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm.h"

/* Leaf 1 */
#define ECX_VMX (1u << 5)
#define ECX_MONITOR (1u << 3)
#define ECX_CX16 (1u << 13)
#define ECX_TSC_DEADLINE (1u << 24)
#define ECX_HYPERVISOR (1u << 31)
#define EDX_HTT (1u << 28)
/* Leaf 0x80000001 */
#define ECX_SVM (1u << 2)

void cpuid_filter_entry(struct kvm_cpuid_entry2 *e, bool deadline_timer, unsigned int nr_vcpus)
{
	switch (e->function) {
	case 1:
		/* No nested virtualisation, no MONITOR/MWAIT device model. */
		e->ecx &= ~(ECX_VMX | ECX_MONITOR);
		/* kvm_pvm's emulator cannot run cmpxchg16b in guest ring 0, and
		 * no guest we run needs it; hiding it keeps Linux off that path. */
		e->ecx &= ~ECX_CX16;
		/*
		 * KVM never reports the TSC-deadline timer as supported, because
		 * its LAPIC emulates it in software: the VMM says so.  Without it
		 * Linux calibrates the LAPIC timer against PIT ticks, and where
		 * that fails (a loaded or nested host) it runs with no per-CPU
		 * timer at all, waiting on whatever interrupt comes next.
		 */
		if (deadline_timer)
			e->ecx |= ECX_TSC_DEADLINE;
		else
			e->ecx &= ~ECX_TSC_DEADLINE;
		e->ecx |= ECX_HYPERVISOR;
		/* Logical processor count for the package. */
		e->ebx = (e->ebx & 0xff00ffffu) | ((nr_vcpus & 0xff) << 16);
		if (nr_vcpus > 1)
			e->edx |= EDX_HTT;
		break;
	case 6:  /* thermal and power management: not emulated */
	case 0xa: /* architectural PMU: not exposed */
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	case 0x80000001:
		e->ecx &= ~ECX_SVM;
		break;
	default:
		break;
	}
}

int cpuid_build(struct vm *vm)
{
	const struct kvm_cpuid2 *supported = kvm_host_facts()->cpuid;
	size_t sz = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);

	if (!c)
		return -ENOMEM;
	memcpy(c, supported, sz);
	for (uint32_t i = 0; i < c->nent; i++)
		cpuid_filter_entry(&c->entries[i], vm->irqchip && kvm_host_facts()->tsc_deadline,
				   vm->cfg.vcpus);
	vm->cpuid = c;
	return 0;
}

/* Each vCPU sees its own APIC id in leaves 1, 0xb and 0x1f. */
int cpuid_apply(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_cpuid2 *c = vm->cpuid;
	size_t sz = sizeof(*c) + c->nent * sizeof(c->entries[0]);
	struct kvm_cpuid2 *mine = malloc(sz);
	int ret = 0;

	if (!mine)
		return -ENOMEM;
	memcpy(mine, c, sz);
	for (uint32_t i = 0; i < mine->nent; i++) {
		struct kvm_cpuid_entry2 *e = &mine->entries[i];
		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffffu) | (vcpu->index << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = vcpu->index;
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, mine) < 0)
		ret = -errno;
	free(mine);
	return ret;
}
