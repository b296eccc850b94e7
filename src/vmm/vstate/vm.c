// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * VM lifecycle: build (memory, KVM objects, devices, image, vCPUs), run
 * (vCPU threads plus a watchdog for the timeout), end exactly once, and tear
 * down in reverse. Creation stops at the first failing step and names it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "evloop.h"
#include "outbuf.h"
#include "prestart.h"
#include "sandbox.h"
#include "sink.h"
#include "vmm.h"
#include "vmm_test_hooks.h"

#define LOG_BUF_CAP (16u * 1024)

void vm_mark(struct vm *vm, uint64_t *milestone)
{
	uint64_t zero = 0, now = vmm_now_ns() - vm->start_ns;

	if (now == 0)
		now = 1;
	__atomic_compare_exchange_n(milestone, &zero, now, false, __ATOMIC_RELAXED,
				    __ATOMIC_RELAXED);
}

/*
 * The device thread emptied a buffer (any of the loop's, the log's too).
 * Why returning early before the end loses no wakeup: a waiter looks at
 * the buffers only after it saw ended set, and holds vm->lock from that
 * look into its wait. If it saw this buffer busy, the drain that emptied it
 * came later (the buffer's lock orders the two), so this load sees ended
 * set and the broadcast under vm->lock reaches the waiter. If ended is not
 * set yet, vm_end() sets it and broadcasts under vm->lock later, and the
 * waiter then looks again and finds the buffer idle.
 */
void vm_output_progress(struct vm *vm)
{
	if (!vm || !__atomic_load_n(&vm->ended, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vm->lock);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

bool vm_output_filtered_tty(const struct vm *vm, bool tty)
{
	switch (vm->cfg.output_filter) {
	case ALCATRAZ_OUTPUT_FILTER_ON:
		return true;
	case ALCATRAZ_OUTPUT_FILTER_OFF:
		return false;
	default:
		return tty;
	}
}

bool vm_output_filtered(const struct vm *vm, int fd)
{
	return fd >= 0 && vm_output_filtered_tty(vm, isatty(fd));
}

/* Stops waiting for the sinks (timeout, kill): what they have not taken
 * yet is dropped, so a reader that never reads cannot hold the VM. */
static void vm_abandon_output(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->output_abandoned = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

void vm_end(struct vm *vm, enum alcatraz_exit_kind kind, int status, int error,
	    const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (vm->ended) {
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	vm->result.kind = kind;
	vm->result.status = status;
	vm->result.error = error;
	va_start(ap, fmt);
	vsnprintf(vm->result.message, sizeof(vm->result.message), fmt, ap);
	va_end(ap);
	__atomic_store_n(&vm->ended, true, __ATOMIC_RELEASE); /* vm_output_progress() */
	__atomic_store_n(&vm->stopping, 1, __ATOMIC_SEQ_CST);
	vm_mark(vm, &vm->result.timings.end_ns);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	if (vm->end_fd >= 0) {
		uint64_t one = 1;
		(void)!write(vm->end_fd, &one, sizeof(one));
	}

	vm_log(vm, kind == ALCATRAZ_EXIT_STATUS ? LOG_DEBUG : LOG_INFO, "VM ended (%s): %s",
	       proto_exit_kind_name(kind), vm->result.message);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

void vm_guest_ended(struct vm *vm, enum alcatraz_exit_kind kind, const char *what)
{
	if (control_awaits_status(vm))
		vm_end(vm, ALCATRAZ_EXIT_CRASH, 0, 0,
		       "%s before alcatraz-init reported the command's status "
		       "(a guest kernel panic? --serial shows its log)", what);
	else
		vm_end(vm, kind, 0, 0, "%s", what);
}

static void deadline_after(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void vm_count_confined(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->confined_threads++;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

/* The watchdog's wait, on a thread whose filter (if any) is in already. */
static void *watchdog_run(void *arg)
{
	struct vm *vm = arg;
	struct timespec deadline;
	bool expired = false;

	sink_thread_block_sigpipe();
	deadline_after(&deadline, vm->cfg.timeout_ms);
	/* The timeout bounds the whole run, writing the guest's output included. */
	pthread_mutex_lock(&vm->lock);
	while (!expired && !(vm->ended && (vm->output_abandoned ||
					   (vm->outputs_ended && evloop_outputs_idle(vm->evloop)))))
		expired = pthread_cond_timedwait(&vm->cond, &vm->lock, &deadline) == ETIMEDOUT;
	pthread_mutex_unlock(&vm->lock);
	if (expired && !test_hook_ignore_timeout()) {
		vm_end(vm, ALCATRAZ_EXIT_TIMEOUT, 0, 0, "timed out after %llu ms",
		       (unsigned long long)vm->cfg.timeout_ms);
		vm_abandon_output(vm);
	}
	return NULL;
}

static void *watchdog_thread(void *arg)
{
	struct vm *vm = arg;

	if (vm->cfg.seccomp) {
		int err = seccomp_install(VMM_THREAD_WATCHDOG);
		if (err) {
			vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, -ALCATRAZ_E_SANDBOX,
			       "watchdog: cannot install its seccomp filter: %s", strerror(-err));
			return NULL;
		}
		vm_count_confined(vm);
	}
	return watchdog_run(vm);
}

/* A warm pool's process has a watchdog parked, confined since its birth
 * (prestart.c): counted as confined at once. Else one is started. A
 * failure ends the VM, saying why. */
static int start_watchdog(struct vm *vm)
{
	int ret = vm->cfg.seccomp ? prestart_take(VMM_THREAD_WATCHDOG, watchdog_run, vm,
						  &vm->watchdog) : 0;

	if (ret < 0) {
		vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, -ALCATRAZ_E_SANDBOX,
		       "watchdog: the thread started ahead is not confined: %s", strerror(-ret));
		return ret;
	}
	if (ret > 0) {
		vm_count_confined(vm);
		return 0;
	}
	ret = -pthread_create(&vm->watchdog, NULL, watchdog_thread, vm);
	if (ret)
		vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, ret, "cannot start the watchdog: %s",
		       strerror(-ret));
	return ret;
}

static int step_kvm(struct vm *vm)
{
	int ret = 0;

	if (vm->vm_fd < 0) {
		ret = kvm_open(vm->cfg.kvm_fd, &vm->kvm_fd);
	} else if (vm->cfg.kvm_fd >= 0) {
		/* Made ahead on the pool's /dev/kvm: the configuration's is not needed. */
		close(vm->cfg.kvm_fd);
	}
	vm->cfg.kvm_fd = -1; /* vm->kvm_fd has it now */
	if (ret)
		return ret;
	if (vm->restore) {
		/* gmem takes the memory file's descriptor. */
		ret = gmem_init_file(&vm->mem, vm->cfg.mem_bytes, vm->cfg.snap_mem_fd);
		vm->cfg.snap_mem_fd = -1;
		if (ret == -EINVAL)
			vm_log(vm, LOG_ERR, "snapshot refused: the memory file is not a regular "
			       "file of the snapshot's RAM size");
	} else {
		ret = gmem_init(&vm->mem, vm->cfg.mem_bytes);
	}
	if (ret)
		return ret;
	return kvm_setup_vm(vm);
}

/* The device thread exists for every VM: it writes all output to the sinks. */
static int step_evloop(struct vm *vm)
{
	int ret = evloop_new(vm, &vm->evloop);
	if (ret)
		return ret;
	return vm->cfg.log_fd >= 0 ? evloop_add_outbuf(vm->evloop, vm->log_ob) : 0;
}

static int step_evloop_start(struct vm *vm)
{
	return evloop_start(vm->evloop);
}

static int step_buses(struct vm *vm)
{
	int ret = bus_init(&vm->pio);
	if (ret)
		return ret;
	return bus_init(&vm->mmio);
}

static int step_image(struct vm *vm)
{
	if (vm->restore)
		return 0; /* RAM holds it, as the snapshot left it */
	if (vm->cfg.image_path)
		return raw_image_load(vm);
	if (vm->cfg.kernel_path)
		return linux_load(vm);
	return -EINVAL;
}

static int step_vcpus(struct vm *vm)
{
	int ret = cpuid_build(vm);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < vm->cfg.vcpus; i++) {
		ret = vcpu_create(vm, i);
		vm->nr_vcpus = i + 1; /* so teardown sees the partly built one */
		if (ret)
			return ret;
		ret = vm->restore ? snapshot_restore_vcpu(vm, &vm->vcpus[i])
		      : vm->cfg.image_path ? raw_image_setup_vcpu(vm, &vm->vcpus[i])
					   : linux_setup_vcpu(vm, &vm->vcpus[i]);
		if (ret)
			return ret;
	}
	return 0;
}

struct init_step {
	const char *name;
	int (*fn)(struct vm *vm);
};

/* Order matters: devices need the VM fd, the image needs RAM, and vCPUs need
 * the image's entry point and the CPUID that depends on the irqchip. */
static const struct init_step init_steps[] = {
	{ "snapshot", snapshot_load },
	{ "kvm", step_kvm },
	{ "buses", step_buses },
	{ "device thread", step_evloop },
	{ "serial", serial_device_init },
	{ "i8042", i8042_device_init },
	{ "exit device", exitdev_device_init },
	{ "image", step_image },
	{ "platform", platform_devices_init },
	{ "device thread start", step_evloop_start },
	{ "vcpus", step_vcpus },
	{ "snapshot state", snapshot_restore_vm },
};

static void vm_free(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	kvm_ahead_release(&vm->ahead); /* a vCPU 0 never taken */
	/* The device thread first: nothing may touch a device while it is
	 * freed. It writes what the sinks take at once and waits for nothing. */
	serial_flush(vm->serial);
	evloop_outputs_end(vm->evloop);
	evloop_free(vm->evloop);
	vm->evloop = NULL;
	platform_devices_fini(vm);
	serial_free(vm->serial);
	snapshot_restore_free(vm);
	free(vm->cpuid);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->end_fd >= 0)
		close(vm->end_fd);
	gmem_fini(&vm->mem);
	bus_fini(&vm->pio);
	bus_fini(&vm->mmio);
	vm_config_close_files(&vm->cfg);
	free(vm->cfg.image_path);
	free(vm->cfg.kernel_path);
	free(vm->cfg.initrd_path);
	free(vm->cfg.cmdline);
	struct outbuf *log_ob = vm->log_ob;
	vm->log_ob = NULL; /* its own last line must not come back to it */
	outbuf_free(log_ob);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
	pthread_mutex_destroy(&vm->log_lock);
	free(vm);
}

int vm_create(const struct vm_config *cfg, struct vm **out)
{
	return vm_create_on(cfg, NULL, out);
}

static bool wants_irqchip(const struct vm_config *cfg)
{
	return vmm_irqchip_wanted(cfg->irqchip, cfg->kernel_path != NULL);
}

bool vm_ahead_fits(const struct vm_ahead *ahead, const struct vm_config *cfg)
{
	return ahead->irqchip == wants_irqchip(cfg) || (!ahead->irqchip && ahead->vcpu0_fd < 0);
}

/* cfg's fds and what ahead holds are taken over by the VM (also on failure). */
int vm_create_on(const struct vm_config *cfg, struct vm_ahead *ahead, struct vm **out)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	pthread_condattr_t ca;
	int ret = 0;

	if (!vm) {
		struct vm_config files = *cfg;
		vm_config_close_files(&files);
		if (ahead)
			kvm_ahead_release(ahead);
		return -ENOMEM;
	}
	vm->cfg = *cfg;
	vm->ahead = (struct vm_ahead){ .kvm_fd = -1, .vm_fd = -1, .vcpu0_fd = -1 };
	if (ahead) {
		vm->ahead = *ahead;
		*ahead = (struct vm_ahead){ .kvm_fd = -1, .vm_fd = -1, .vcpu0_fd = -1 };
	}
	/* The VM's own now; vCPU 0 is taken by vcpu_create. */
	vm->kvm_fd = vm->ahead.kvm_fd;
	vm->vm_fd = vm->ahead.vm_fd;
	vm->ahead.kvm_fd = vm->ahead.vm_fd = -1;
	/* Lets a process that drives this VM (the jailed VMM's control loop)
	 * sleep in poll() until the VM ends, instead of polling. */
	vm->end_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->log_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (outbuf_new(NULL, "log", cfg->log_fd, LOG_BUF_CAP, false, &vm->log_ob)) {
		vm_free(vm);
		return -ENOMEM;
	}
	/* Strings are owned by the VM from here on. */
	vm->cfg.image_path = cfg->image_path ? strdup(cfg->image_path) : NULL;
	vm->cfg.kernel_path = cfg->kernel_path ? strdup(cfg->kernel_path) : NULL;
	vm->cfg.initrd_path = cfg->initrd_path ? strdup(cfg->initrd_path) : NULL;
	vm->cfg.cmdline = cfg->cmdline ? strdup(cfg->cmdline) : NULL;
	if ((cfg->image_path && !vm->cfg.image_path) || (cfg->kernel_path && !vm->cfg.kernel_path) ||
	    (cfg->initrd_path && !vm->cfg.initrd_path) || (cfg->cmdline && !vm->cfg.cmdline)) {
		vm_free(vm);
		return -ENOMEM;
	}
	vm->irqchip = wants_irqchip(cfg);
	vm->nr_vcpus = 0;

	for (size_t i = 0; i < ARRAY_SIZE(init_steps); i++) {
		ret = init_steps[i].fn(vm);
		vmm_trace_step(init_steps[i].name);
		if (ret) {
			vm_log(vm, LOG_ERR, "VM setup failed at step '%s': %s", init_steps[i].name,
			       proto_error_text(ret));
			vm_free(vm);
			return ret;
		}
	}
	*out = vm;
	return 0;
}

int vm_start(struct vm *vm)
{
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->started) {
		pthread_mutex_unlock(&vm->lock);
		return -EALREADY;
	}
	vm->started = true;
	vm->start_ns = vmm_now_ns();
	vm->running_vcpus = vm->nr_vcpus;
	pthread_mutex_unlock(&vm->lock);

	if (vm->cfg.timeout_ms) {
		if (start_watchdog(vm))
			return 0; /* ended, with the reason */
		vm->watchdog_started = true;
	}
	vm_mark(vm, &vm->result.timings.vmm_ready_ns);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_start(&vm->vcpus[i]);
		if (ret) {
			/* Threads that never started will not decrement the count. */
			pthread_mutex_lock(&vm->lock);
			vm->running_vcpus -= vm->nr_vcpus - i;
			pthread_mutex_unlock(&vm->lock);
			vm_end(vm, ALCATRAZ_EXIT_ERROR, 0, ret, "cannot start vcpu%u: %s", i,
			       strerror(-ret));
			break;
		}
	}
	if (vm->cfg.seccomp) {
		/* Report "started" only once every thread is confined, so no
		 * caller ever sees an unfiltered VMM thread. */
		unsigned int want = vm->nr_vcpus + (vm->watchdog_started ? 1 : 0);
		pthread_mutex_lock(&vm->lock);
		while (vm->confined_threads < want && !vm->ended)
			pthread_cond_wait(&vm->cond, &vm->lock);
		pthread_mutex_unlock(&vm->lock);
	}
	return 0;
}

/*
 * Ended for the caller: every vCPU thread has stopped and every byte of
 * output has reached its sink (or the sink is broken, or the output was
 * abandoned at the timeout or a kill). vm->lock held; dropped for a while.
 */
static bool vm_done_locked(struct vm *vm)
{
	if (!vm->ended || vm->running_vcpus)
		return false;
	if (!vm->outputs_ended) {
		/* The vCPUs are gone: hand over the last partial line. */
		vm->outputs_ended = true;
		pthread_mutex_unlock(&vm->lock);
		pthread_mutex_lock(&vm->pio.lock);
		serial_flush(vm->serial);
		pthread_mutex_unlock(&vm->pio.lock);
		evloop_outputs_end(vm->evloop);
		pthread_mutex_lock(&vm->lock);
	}
	return vm->output_abandoned || evloop_outputs_idle(vm->evloop);
}

int vm_wait(struct vm *vm, int timeout_ms)
{
	struct timespec deadline;
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (!vm->started) {
		pthread_mutex_unlock(&vm->lock);
		return -EINVAL;
	}
	if (timeout_ms >= 0)
		deadline_after(&deadline, (uint64_t)timeout_ms);
	while (!vm_done_locked(vm) && ret == 0) {
		if (timeout_ms < 0)
			ret = pthread_cond_wait(&vm->cond, &vm->lock);
		else
			ret = pthread_cond_timedwait(&vm->cond, &vm->lock, &deadline);
	}
	ret = vm_done_locked(vm) ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

void vm_kill(struct vm *vm)
{
	vm_abandon_output(vm);
	vm_end(vm, ALCATRAZ_EXIT_KILLED, 0, 0, "killed by the host");
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->started) {
		vm_kill(vm);
		for (unsigned int i = 0; i < vm->nr_vcpus; i++)
			if (vm->vcpus[i].thread_started)
				pthread_join(vm->vcpus[i].thread, NULL);
		if (vm->watchdog_started)
			pthread_join(vm->watchdog, NULL);
	}
	vm_free(vm);
}
