// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vCPU threads and the exit dispatcher. Each vCPU thread loops on KVM_RUN and
 * hands every exit to a handler from a const table indexed by exit reason;
 * an unknown reason ends the VM with an error instead of crashing the VMM.
 *
 * Stopping: the kick signal stays blocked in the vCPU thread and is unblocked
 * only inside KVM_RUN (KVM_SET_SIGNAL_MASK), so it interrupts the guest but is
 * never delivered to a handler. The library therefore installs no signal
 * handler and cannot disturb the embedding program's own.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "prestart.h"
#include "sandbox.h"
#include "vmm.h"
#include "vmm_test_hooks.h"

enum exit_action { EXIT_CONTINUE, EXIT_STOP };

typedef enum exit_action (*exit_handler_t)(struct vcpu *vcpu);

int vcpu_create(struct vm *vm, unsigned int index)
{
	struct vcpu *vcpu = &vm->vcpus[index];
	int mmap_size, ret;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = -1;

	mmap_size = kvm_host_facts()->vcpu_mmap_size;
	if (index == 0 && vm->ahead.vcpu0_fd >= 0) {
		/* Made with the VM while a pool's process waited. */
		vcpu->fd = vm->ahead.vcpu0_fd;
		vcpu->run = vm->ahead.vcpu0_run;
		vcpu->run_size = (size_t)mmap_size;
		vm->ahead.vcpu0_fd = -1;
		vm->ahead.vcpu0_run = NULL;
		return cpuid_apply(vm, vcpu);
	}
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (vcpu->fd < 0) {
		ret = -errno;
		vcpu->fd = -1;
		return ret;
	}
	vcpu->run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return -errno;
	}
	vcpu->run_size = (size_t)mmap_size;
	return cpuid_apply(vm, vcpu);
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

void vcpu_dump_regs(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct vm *vm = vcpu->vm;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		vm_log(vm, LOG_ERR, "vcpu%u: cannot read registers: %s", vcpu->index, strerror(errno));
		return;
	}
	vm_log(vm, LOG_ERR,
	       "vcpu%u: rip=%016llx rsp=%016llx rflags=%08llx rax=%016llx rbx=%016llx "
	       "rcx=%016llx rdx=%016llx rsi=%016llx rdi=%016llx rbp=%016llx",
	       vcpu->index, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
	       r.rbp);
	vm_log(vm, LOG_ERR,
	       "vcpu%u: cr0=%llx cr2=%llx cr3=%llx cr4=%llx efer=%llx cs=%04x(l=%u dpl=%u) "
	       "idt=%llx/%x gdt=%llx/%x",
	       vcpu->index, s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.cs.selector, s.cs.l, s.cs.dpl,
	       s.idt.base, s.idt.limit, s.gdt.base, s.gdt.limit);
}

static enum exit_action handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint64_t span, end;
	uint8_t *data;

	/* KVM fills these, but the page is shared memory: check before use. */
	if (run->io.size != 1 && run->io.size != 2 && run->io.size != 4)
		goto bad;
	span = (uint64_t)run->io.size * run->io.count;
	if (__builtin_add_overflow(run->io.data_offset, span, &end) || end > vcpu->run_size)
		goto bad;
	data = (uint8_t *)run + run->io.data_offset;
	for (uint32_t i = 0; i < run->io.count; i++)
		bus_access(&vcpu->vm->pio, run->io.port, data + i * run->io.size, run->io.size,
			   run->io.direction == KVM_EXIT_IO_OUT);
	return EXIT_CONTINUE;
bad:
	vm_end(vcpu->vm, ALCATRAZ_EXIT_ERROR, 0, -EPROTO, "vcpu%u: malformed I/O exit", vcpu->index);
	return EXIT_STOP;
}

static enum exit_action handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len;

	if (len == 0 || len > sizeof(run->mmio.data)) {
		vm_end(vcpu->vm, ALCATRAZ_EXIT_ERROR, 0, -EPROTO, "vcpu%u: malformed MMIO exit",
		       vcpu->index);
		return EXIT_STOP;
	}
	if (!bus_access(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len,
			run->mmio.is_write)) {
		/* Rate-limit: a guest probing memory must not flood the log. */
		uint64_t n = vcpu->vm->mmio.unclaimed;
		if (n <= 8)
			vm_log(vcpu->vm, LOG_WARN,
			       "vcpu%u: %s of %u bytes at unowned guest-physical %#llx ignored%s",
			       vcpu->index, run->mmio.is_write ? "write" : "read", len,
			       (unsigned long long)run->mmio.phys_addr,
			       n == 8 ? " (further ones not logged)" : "");
	}
	return EXIT_CONTINUE;
}

static enum exit_action handle_hlt(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	bool all;

	pthread_mutex_lock(&vm->lock);
	vcpu->halted = true;
	all = ++vm->halted_vcpus == vm->nr_vcpus;
	pthread_mutex_unlock(&vm->lock);
	if (all)
		vm_end(vm, ALCATRAZ_EXIT_HALT, 0, 0, "every vCPU halted");
	/* Without an irqchip nothing can wake this vCPU again. */
	return EXIT_STOP;
}

static enum exit_action handle_shutdown(struct vcpu *vcpu)
{
	vcpu_dump_regs(vcpu);
	vm_end(vcpu->vm, ALCATRAZ_EXIT_CRASH, 0, 0, "vcpu%u: triple fault", vcpu->index);
	return EXIT_STOP;
}

static enum exit_action handle_system_event(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_guest_ended(vm, ALCATRAZ_EXIT_SHUTDOWN, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_guest_ended(vm, ALCATRAZ_EXIT_RESET, "guest requested a reset");
		break;
	default:
		vcpu_dump_regs(vcpu);
		vm_end(vm, ALCATRAZ_EXIT_CRASH, 0, 0, "vcpu%u: system event %u", vcpu->index,
		       vcpu->run->system_event.type);
		break;
	}
	return EXIT_STOP;
}

/*
 * What KVM says beside an internal error: its data words, and for an
 * emulation failure the instruction bytes it fetched (none when the fetch
 * itself failed) and, after the flags (and those bytes), the exit that led
 * to it: reason, info1, info2, interrupt info, error code. ndata is the
 * kernel's; it is clamped to the array all the same.
 */
static void log_internal_data(struct vcpu *vcpu)
{
	const struct kvm_run *run = vcpu->run;
	uint32_t n = run->internal.ndata;
	char words[ARRAY_SIZE(run->internal.data) * sizeof(" 0x0123456789abcdef")] = "";
	size_t off = 0;

	if (n > ARRAY_SIZE(run->internal.data))
		n = ARRAY_SIZE(run->internal.data);
	for (uint32_t i = 0; i < n; i++)
		off += (size_t)snprintf(words + off, sizeof(words) - off, " %#llx",
					(unsigned long long)run->internal.data[i]);
	vm_log(vcpu->vm, LOG_ERR, "vcpu%u: KVM internal error %u, %u data words:%s", vcpu->index,
	       run->internal.suberror, n, words);
	if (run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION || n < 3 ||
	    !(run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
		return;
	char bytes[sizeof(run->emulation_failure.insn_bytes) * 3 + 1] = "";
	unsigned int len = run->emulation_failure.insn_size;

	if (len > sizeof(run->emulation_failure.insn_bytes))
		len = sizeof(run->emulation_failure.insn_bytes);
	for (unsigned int i = 0; i < len; i++)
		snprintf(bytes + 3 * i, sizeof(bytes) - 3 * i, " %02x", run->emulation_failure.insn_bytes[i]);
	vm_log(vcpu->vm, LOG_ERR, "vcpu%u: instruction bytes KVM fetched (%u):%s", vcpu->index, len,
	       len ? bytes : " none");
}

static enum exit_action handle_internal_error(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t sub = run->internal.suberror;

	vcpu_dump_regs(vcpu);
	log_internal_data(vcpu);
	vm_end(vcpu->vm, ALCATRAZ_EXIT_CRASH, 0, 0, "vcpu%u: KVM internal error %u%s", vcpu->index,
	       sub, sub == KVM_INTERNAL_ERROR_EMULATION ? " (instruction emulation failed)" : "");
	return EXIT_STOP;
}

static enum exit_action handle_fail_entry(struct vcpu *vcpu)
{
	vcpu_dump_regs(vcpu);
	vm_end(vcpu->vm, ALCATRAZ_EXIT_CRASH, 0, 0, "vcpu%u: VM entry failed, reason %#llx",
	       vcpu->index,
	       (unsigned long long)vcpu->run->fail_entry.hardware_entry_failure_reason);
	return EXIT_STOP;
}

static enum exit_action handle_intr(struct vcpu *vcpu)
{
	return EXIT_CONTINUE;
}

static const exit_handler_t exit_handlers[] = {
	[KVM_EXIT_IO] = handle_io,
	[KVM_EXIT_MMIO] = handle_mmio,
	[KVM_EXIT_HLT] = handle_hlt,
	[KVM_EXIT_SHUTDOWN] = handle_shutdown,
	[KVM_EXIT_SYSTEM_EVENT] = handle_system_event,
	[KVM_EXIT_INTERNAL_ERROR] = handle_internal_error,
	[KVM_EXIT_FAIL_ENTRY] = handle_fail_entry,
	[KVM_EXIT_INTR] = handle_intr,
};

static enum exit_action dispatch_exit(struct vcpu *vcpu)
{
	uint32_t reason = vcpu->run->exit_reason;

	if (reason < ARRAY_SIZE(exit_handlers) && exit_handlers[reason])
		return exit_handlers[reason](vcpu);
	vcpu_dump_regs(vcpu);
	vm_end(vcpu->vm, ALCATRAZ_EXIT_ERROR, 0, -ENOSYS, "vcpu%u: unhandled KVM exit reason %u",
	       vcpu->index, reason);
	return EXIT_STOP;
}

static void drain_kick(void)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

/* Parked by vm_pause(): KVM_RUN with immediate_exit has completed this
 * vCPU's pending I/O and returned at once, so its state is whole. */
static void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->lock);
	vm->parked_vcpus++;
	pthread_cond_broadcast(&vm->cond);
	while (vm->pause_req && !vm->stopping)
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->parked_vcpus--;
	pthread_mutex_unlock(&vm->lock);
	/* A stop sets stopping before its kick: the loop's check sees it. */
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

int vm_pause(struct vm *vm)
{
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	__atomic_store_n(&vm->pause_req, true, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&vm->lock);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->lock);
	while (vm->parked_vcpus < vm->running_vcpus && !vm->ended)
		pthread_cond_wait(&vm->cond, &vm->lock);
	if (vm->ended)
		ret = -ESHUTDOWN;
	pthread_mutex_unlock(&vm->lock);
	if (ret)
		vm_resume(vm);
	return ret;
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	__atomic_store_n(&vm->pause_req, false, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

static void vcpu_finish(struct vcpu *vcpu);

/*
 * Makes this thread kickable before its first look at vm->stopping. The
 * starter marks the thread started only once pthread_create() returns, and
 * a VM may end before that (a guest that is done at once, an AP started
 * late): a kick keyed on that mark would miss a thread that has already
 * entered KVM_RUN, and an AP waiting for a SIPI would stay there for good.
 * Both sides store, then load, sequentially consistent: either vcpu_kick()
 * sees the thread published and signals it, or the thread sees stopping.
 */
static void vcpu_publish(struct vcpu *vcpu)
{
	vcpu->self = pthread_self();
	__atomic_store_n(&vcpu->kickable, 1, __ATOMIC_SEQ_CST);
}

/* The guest's loop, on a thread whose filter (if any) is in already. */
static void *vcpu_run(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	bool first = true;

	vcpu_publish(vcpu);
	while (!vm->stopping) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				drain_kick();
				if (__atomic_load_n(&vm->pause_req, __ATOMIC_ACQUIRE))
					vcpu_park(vcpu);
				continue;
			}
			int err = -errno;
			vcpu_dump_regs(vcpu);
			vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, err, "vcpu%u: KVM_RUN: %s", vcpu->index,
			       strerror(-err));
			break;
		}
		if (first) {
			vm_mark(vm, &vm->result.timings.first_exit_ns);
			first = false;
		}
		if (dispatch_exit(vcpu) == EXIT_STOP)
			break;
	}
	vcpu_finish(vcpu);
	return NULL;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;

	/* Before the first guest instruction: a vCPU thread that cannot be
	 * confined never runs the guest (fail closed). */
	if (vm->cfg.seccomp) {
		int err = seccomp_install(VMM_THREAD_VCPU);
		if (err) {
			vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, -ALCATRAZ_E_SANDBOX,
			       "vcpu%u: cannot install its seccomp filter: %s", vcpu->index,
			       strerror(-err));
			vcpu_finish(vcpu);
			return NULL;
		}
		vm_count_confined(vm);
	}
	return vcpu_run(vcpu);
}

/* The thread's end: its CPU time, and the VM's end once no vCPU runs. */
static void vcpu_finish(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct timespec cpu;
	bool have_cpu = clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0;
	pthread_mutex_lock(&vm->lock);
	if (have_cpu)
		vm->result.usage.vcpu_cpu_ns += (uint64_t)cpu.tv_sec * 1000000000ULL +
						(uint64_t)cpu.tv_nsec;
	bool last = --vm->running_vcpus == 0;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	if (last)
		vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, -EPIPE, "every vCPU stopped");
}

int vcpu_start(struct vcpu *vcpu)
{
	sigset_t kick, old, run_mask;
	struct {
		struct kvm_signal_mask hdr;
		uint8_t bits[8];
	} km;
	int ret;

	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	/* The mask KVM_RUN runs with: the thread's own, minus the kick. */
	pthread_sigmask(SIG_BLOCK, NULL, &run_mask);
	sigdelset(&run_mask, VCPU_KICK_SIGNAL);
	km.hdr.len = 8; /* the kernel's sigset size on x86-64 */
	memcpy(km.bits, &run_mask, 8);
	if (ioctl(vcpu->fd, KVM_SET_SIGNAL_MASK, &km) < 0)
		return -errno;

	/* A warm pool's process has a vCPU thread parked, confined with the
	 * vCPU filter and the kick blocked since its birth: it is counted as
	 * confined here, without waiting for it to be scheduled. */
	ret = vcpu->vm->cfg.seccomp ? prestart_take(VMM_THREAD_VCPU, vcpu_run, vcpu, &vcpu->thread)
				    : 0;
	if (ret < 0) {
		vm_end(vcpu->vm, ALCATRAZ_EXIT_ERROR, 0, -ALCATRAZ_E_SANDBOX,
		       "vcpu%u: the thread started ahead is not confined: %s", vcpu->index,
		       strerror(-ret));
		return ret;
	}
	if (ret > 0) {
		vcpu->thread_started = true;
		vm_count_confined(vcpu->vm);
		return 0;
	}

	/* The new thread inherits the kick blocked. */
	pthread_sigmask(SIG_BLOCK, &kick, &old);
	ret = -pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret == 0) {
		test_hook_vcpu_started(vcpu);
		vcpu->thread_started = true;
	}
	return ret;
}

/* Callers set vm->stopping (or pause_req) before the kick; see vcpu_publish(). */
void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->run)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vcpu->kickable, __ATOMIC_SEQ_CST))
		pthread_kill(vcpu->self, VCPU_KICK_SIGNAL);
}
