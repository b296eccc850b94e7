// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /dev/kvm: open it, check the API, create the VM and its memory slot and
 * the in-kernel interrupt controllers. Raw ioctls only.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm.h"

/* Below 4 GiB, above any RAM size whose slot could start at 0 without
 * colliding: KVM needs three pages for the real-mode TSS and one for the
 * identity map on Intel; harmless elsewhere. */
#define KVM_TSS_ADDR 0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

/*
 * Facts about this host's KVM that cannot change while the process lives:
 * computed once, then only read. Every VM used to pay five ioctls for them,
 * and system calls are the bulk of VM creation time.
 */
static struct kvm_host_facts facts;
static pthread_once_t facts_once = PTHREAD_ONCE_INIT;

/* The descriptor the first prober brings (see kvm_open), or -1. */
static int facts_fd = -1;

static void facts_probe(void)
{
	size_t sz = sizeof(struct kvm_cpuid2) + KVM_CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	int fd = facts_fd >= 0 ? fcntl(facts_fd, F_DUPFD_CLOEXEC, 3) : open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		facts.err = -errno;
		return;
	}
	facts.err = -ENXIO;
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION ||
	    ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0 ||
	    ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0)
		goto out;
	facts.tsc_deadline = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	facts.vcpu_mmap_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (facts.vcpu_mmap_size < (int)sizeof(struct kvm_run))
		goto out;
	facts.cpuid = calloc(1, sz);
	if (!facts.cpuid) {
		facts.err = -ENOMEM;
		goto out;
	}
	facts.cpuid->nent = KVM_CPUID_MAX_ENTRIES;
	if (ioctl(fd, KVM_GET_SUPPORTED_CPUID, facts.cpuid) < 0) {
		facts.err = -errno;
		free(facts.cpuid);
		facts.cpuid = NULL;
		goto out;
	}
	facts.err = 0;
out:
	close(fd);
}

const struct kvm_host_facts *kvm_host_facts(void)
{
	pthread_once(&facts_once, facts_probe);
	return &facts;
}

int kvm_open(int given, int *kvm_fd)
{
	static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
	const struct kvm_host_facts *f;
	int fd = given;

	*kvm_fd = -1;
	if (fd < 0) {
		fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	/* A jailed VMM cannot open /dev/kvm: the facts come from the
	 * descriptor it was given. */
	pthread_mutex_lock(&probe_lock);
	facts_fd = fd;
	f = kvm_host_facts();
	facts_fd = -1;
	pthread_mutex_unlock(&probe_lock);
	if (f->err) {
		close(fd);
		return f->err;
	}
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		close(fd); /* not /dev/kvm, or another KVM than the probed one */
		return -ENXIO;
	}
	*kvm_fd = fd;
	return 0;
}

/* Only guests that start outside 64-bit mode (Linux's PVH entry) may need
 * KVM's real-mode helpers on Intel; raw guests start in 64-bit mode and
 * skip the two system calls. Failures are harmless elsewhere: vm may be
 * NULL (made ahead, no log yet). */
static void set_realmode_helpers(struct vm *vm, int fd)
{
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;

	if (ioctl(fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0 && vm)
		vm_log(vm, LOG_DEBUG, "KVM_SET_TSS_ADDR: %s (ignored)", strerror(errno));
	if (ioctl(fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0 && vm)
		vm_log(vm, LOG_DEBUG, "KVM_SET_IDENTITY_MAP_ADDR: %s (ignored)", strerror(errno));
}

/* The in-kernel irqchip and PIT (before any vCPU); which call failed goes
 * to *what. */
static int create_irqchip(int fd, const char **what)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	*what = "KVM_CREATE_IRQCHIP";
	if (ioctl(fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return -errno;
	*what = "KVM_CREATE_PIT2";
	if (ioctl(fd, KVM_CREATE_PIT2, &pit) < 0)
		return -errno;
	/*
	 * PIT ticks the guest missed are dropped, not replayed.  With
	 * reinjection a guest that fell behind (a loaded or nested host, where
	 * each acknowledgement is a slow exit) gets the backlog one tick after
	 * another and can spend all its time in the timer interrupt before its
	 * local APIC timer takes over.  Linux keeps time with the TSC and
	 * kvmclock, not by counting ticks. A failure only replays them.
	 */
	struct kvm_reinject_control reinject = { .pit_reinject = 0 };
	(void)!ioctl(fd, KVM_REINJECT_CONTROL, &reinject);
	return 0;
}

void kvm_ahead_release(struct vm_ahead *a)
{
	if (a->vcpu0_run)
		munmap(a->vcpu0_run, (size_t)kvm_host_facts()->vcpu_mmap_size);
	if (a->vcpu0_fd >= 0)
		close(a->vcpu0_fd);
	if (a->vm_fd >= 0)
		close(a->vm_fd);
	if (a->kvm_fd >= 0)
		close(a->kvm_fd);
	*a = (struct vm_ahead){ .kvm_fd = -1, .vm_fd = -1, .vcpu0_fd = -1 };
}

/* vCPU 0 of a VM made ahead; without it the configuration makes it. */
static void create_vcpu0_ahead(struct vm_ahead *a)
{
	void *run;

	a->vcpu0_fd = ioctl(a->vm_fd, KVM_CREATE_VCPU, 0UL);
	if (a->vcpu0_fd < 0)
		return;
	run = mmap(NULL, (size_t)kvm_host_facts()->vcpu_mmap_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, a->vcpu0_fd, 0);
	if (run == MAP_FAILED) {
		close(a->vcpu0_fd);
		a->vcpu0_fd = -1;
		return;
	}
	a->vcpu0_run = run;
}

int kvm_create_vm_ahead(int given, bool irqchip, struct vm_ahead *a)
{
	const char *what;
	int ret;

	*a = (struct vm_ahead){ .kvm_fd = -1, .vm_fd = -1, .vcpu0_fd = -1 };
	/* Checked before kvm_open(): the host's facts are probed once per
	 * process, and a descriptor that is not KVM must not fail them for
	 * the configuration's /dev/kvm later. */
	if (ioctl(given, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		close(given);
		return -ENXIO;
	}
	ret = kvm_open(given, &a->kvm_fd);
	if (ret)
		return ret;
	a->vm_fd = ioctl(a->kvm_fd, KVM_CREATE_VM, 0);
	if (a->vm_fd < 0) {
		ret = -errno;
		kvm_ahead_release(a);
		return ret;
	}
	if (irqchip) {
		set_realmode_helpers(NULL, a->vm_fd);
		ret = create_irqchip(a->vm_fd, &what);
		if (ret) {
			/* Half made: a configuration gets a VM made for it. */
			kvm_ahead_release(a);
			return ret;
		}
		a->irqchip = true;
	}
	create_vcpu0_ahead(a);
	return 0;
}

int kvm_setup_vm(struct vm *vm)
{
	const char *what;
	int fd = vm->vm_fd, ret;

	if (fd < 0) {
		fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
		if (fd < 0)
			return -errno;
		/* KVM returns VM and vCPU fds with O_CLOEXEC already set. */
		vm->vm_fd = fd;
	}
	/* Made ahead with the VM, when it has them (vm_ahead_fits). */
	if (!vm->ahead.irqchip) {
		if (!vm->cfg.image_path)
			set_realmode_helpers(vm, fd);
		if (vm->irqchip && (ret = create_irqchip(fd, &what))) {
			vm_log(vm, LOG_ERR, "%s: %s", what, strerror(-ret));
			return ret;
		}
	}

	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem.size,
		.userspace_addr = (uintptr_t)vm->mem.host,
	};
	if (ioctl(fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		ret = -errno;
		vm_log(vm, LOG_ERR, "KVM_SET_USER_MEMORY_REGION: %s", strerror(-ret));
		return ret;
	}
	return 0;
}
