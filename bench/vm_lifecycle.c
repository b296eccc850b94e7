// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmark: create a VM, run a tiny guest to its first exit, destroy it.
 * Alcatraz (public API, 64-bit entry, devices, vCPU thread) against a minimal
 * raw-KVM program doing the same in real mode on the calling thread, in the
 * same run, interleaved: the jailed VMM (alcatraz-vmm started by clone3 and
 * exec per VM: namespaces, cgroup, seccomp) without and with a warm pool
 * (alcatraz_pool_new: the process is started ahead), and for scale the VMM
 * without its sandbox (no namespaces, cgroup, seccomp). Prints medians, their
 * split into create / start+run / destroy, and ratios to the raw program
 * (goal with the pool: at most 1.5x), then the jailed VMM's private memory
 * beyond the guest RAM the guest touched. The raw program's time includes
 * closing its VM, which is when KVM tears it down, and says how long that
 * took: a pooled VM's destroy returns once its VMM is killed and leaves
 * that teardown to the pool's thread (alcatraz_pool_new(3)), an unpooled
 * one's waits for it.
 *
 *   bench_vm_lifecycle [IMAGE [RUNS]]   (RUNS also from $ALCATRAZ_BENCH_RUNS)
 *
 * $ALCATRAZ_BENCH_IDLE_MS: an untimed pause after each run from the pool,
 * for its refill thread (the lab has one CPU). $ALCATRAZ_BENCH_LOG_FD: the
 * timed VMs' log (with ALCATRAZ_TRACE_CREATE=1, the step times of each create).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#define RUNS_DEFAULT 200
#define RUNS_MAX 10000
#define POOL_SIZE 2
#define MEM_MIB 128

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Real mode at 0x1000: out %al, $0xf4 ; hlt */
static const uint8_t raw_code[] = { 0xe6, 0xf4, 0xf4 };

/* One raw lifecycle; *teardown_ns: its last part, closing the VM (KVM
 * tears it down then). */
static int raw_kvm_once(uint64_t *teardown_ns)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -1, vcpu = -1, ret = -1;
	size_t len = (size_t)MEM_MIB << 20;
	void *mem = MAP_FAILED;
	struct kvm_run *run = MAP_FAILED;
	int run_size;

	if (kvm < 0)
		return -1;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		goto out;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		goto out;
	memcpy((uint8_t *)mem + 0x1000, raw_code, sizeof(raw_code));
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = len, .userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		goto out;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || run_size <= 0)
		goto out;
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		goto out;
	struct kvm_sregs s;
	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		goto out;
	s.cs.base = 0;
	s.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0)
		goto out;
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		goto out;
	if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_IO)
		goto out;
	ret = 0;
out:
	*teardown_ns = now_ns();
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (mem != MAP_FAILED)
		munmap(mem, len);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	close(kvm);
	*teardown_ns = now_ns() - *teardown_ns;
	return ret;
}

static int log_fd = -1;

/* One lifecycle; its three phases' times go to t[0..2], the VMM's time
 * from start to its first KVM_RUN to t[3]. */
static int alcatraz_once(const char *image, struct alcatraz_pool *pool, bool jailed, uint64_t t[4])
{
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm;
	struct alcatraz_result res;
	uint64_t t0 = now_ns(), t1, t2;
	int ret;

	if ((ret = alcatraz_config_new(&cfg)))
		return ret;
	if ((ret = alcatraz_config_set_log_fd(cfg, log_fd)) ||
	    (ret = alcatraz_config_set_guest_image(cfg, image)) ||
	    (ret = alcatraz_config_set_memory_mib(cfg, MEM_MIB)) ||
	    (ret = alcatraz_config_set_pool(cfg, pool)) ||
	    (ret = alcatraz_config_set_insecure_no_sandbox(cfg, !jailed)) ||
	    (ret = alcatraz_vm_create(cfg, &vm))) {
		alcatraz_config_free(cfg);
		return ret;
	}
	alcatraz_config_free(cfg);
	t1 = now_ns();
	if ((ret = alcatraz_vm_start(vm)) || (ret = alcatraz_vm_wait(vm, 10000)) ||
	    (ret = alcatraz_vm_result(vm, &res))) {
		alcatraz_vm_destroy(vm);
		return ret;
	}
	t2 = now_ns();
	alcatraz_vm_destroy(vm);
	if (res.kind != ALCATRAZ_EXIT_STATUS)
		return -EPROTO;
	t[0] = t1 - t0;
	t[1] = t2 - t1;
	t[2] = now_ns() - t2;
	t[3] = res.timings.vmm_ready_ns;
	return 0;
}

/* kB of a smaps_rollup field of @pid, or of the mapping of @pid whose size is sz_kb. */
static long smaps_kb(pid_t pid, const char *field, long sz_kb)
{
	char path[64], line[512];
	long v = sz_kb ? -1 : 0, size = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, sz_kb ? "smaps" : "smaps_rollup");
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long n;
		if (sscanf(line, "Size: %ld kB", &n) == 1)
			size = n;
		else if (!strncmp(line, field, strlen(field)) &&
			 sscanf(line + strlen(field), " %ld kB", &n) == 1 &&
			 (!sz_kb || size == sz_kb)) {
			v = sz_kb ? n : v + n;
			if (sz_kb)
				break;
		}
	}
	fclose(f);
	return v;
}

/* The pid behind a pidfd (alcatraz_vm_fd), from its fdinfo. */
static pid_t pidfd_pid(int fd)
{
	char path[64], line[256];
	int pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	if (f)
		fclose(f);
	return pid;
}

static double median_us(uint64_t *t, int n)
{
	qsort(t, (size_t)n, sizeof(t[0]), cmp_u64);
	return t[n / 2] / 1e3;
}

static void report(const char *what, uint64_t *t[5], int n, double raw_us)
{
	double us = median_us(t[4], n);

	printf("  %-30s %9.1f us  ratio %5.2fx (goal with the pool <= 1.50x)\n", what, us,
	       us / raw_us);
	printf("  %-30s create %.1f + start/run %.1f (first KVM_RUN at %.1f) + destroy %.1f us"
	       " (medians)\n", "", median_us(t[0], n), median_us(t[1], n), median_us(t[3], n),
	       median_us(t[2], n));
}

static void keep(uint64_t *t[5], int i, const uint64_t ph[4])
{
	for (int k = 0; k < 4; k++)
		t[k][i] = ph[k];
	t[4][i] = ph[0] + ph[1] + ph[2];
}

int main(int argc, char **argv)
{
	const char *image = argc > 1 ? argv[1] : "tests/guests/first_exit.img";
	const char *runs_env = getenv("ALCATRAZ_BENCH_RUNS");
	int runs = argc > 2 ? atoi(argv[2]) : runs_env ? atoi(runs_env) : RUNS_DEFAULT;
	const char *idle_env = getenv("ALCATRAZ_BENCH_IDLE_MS");
	int idle_ms = idle_env ? atoi(idle_env) : 0;
	const char *log_env = getenv("ALCATRAZ_BENCH_LOG_FD");
	uint64_t *t_raw, *t_raw_down, *t_open[5], *t_exec[5], *t_pool[5], ph[4], down;
	struct alcatraz_pool *pool;
	char msg[256];
	int ret;

	if (alcatraz_kvm_probe(msg, sizeof(msg)) == -ENOENT || access("/dev/kvm", W_OK)) {
		printf("SKIP: %s\n", msg);
		return 77;
	}
	if (log_env)
		log_fd = atoi(log_env);
	if (runs < 1 || runs > RUNS_MAX) {
		fprintf(stderr, "bench: RUNS must be 1 to %d\n", RUNS_MAX);
		return 2;
	}
	t_raw = calloc((size_t)runs, sizeof(uint64_t));
	t_raw_down = calloc((size_t)runs, sizeof(uint64_t));
	for (int k = 0; k < 5; k++) {
		t_open[k] = calloc((size_t)runs, sizeof(uint64_t));
		t_exec[k] = calloc((size_t)runs, sizeof(uint64_t));
		t_pool[k] = calloc((size_t)runs, sizeof(uint64_t));
		if (!t_open[k] || !t_exec[k] || !t_pool[k] || !t_raw || !t_raw_down)
			return 1;
	}
	ret = alcatraz_pool_new(POOL_SIZE, NULL, &pool);
	if (ret) {
		fprintf(stderr, "bench: alcatraz_pool_new: %s\n", alcatraz_strerror(ret));
		return 1;
	}
	/* Warm every path, then interleave so drift hits all alike. */
	if (raw_kvm_once(&down) || alcatraz_once(image, NULL, false, ph) ||
	    alcatraz_once(image, NULL, true, ph) || alcatraz_once(image, pool, true, ph)) {
		fprintf(stderr, "bench: a warm-up run failed\n");
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		uint64_t t0 = now_ns();
		if (raw_kvm_once(&t_raw_down[i]))
			return 1;
		t_raw[i] = now_ns() - t0;
		if ((ret = alcatraz_once(image, NULL, false, ph)))
			goto fail;
		keep(t_open, i, ph);
		if ((ret = alcatraz_once(image, NULL, true, ph)))
			goto fail;
		keep(t_exec, i, ph);
		if ((ret = alcatraz_once(image, pool, true, ph)))
			goto fail;
		keep(t_pool, i, ph);
		/* The pool's thread starts the replacement now: on a machine with
		 * one CPU (the lab) it would otherwise run inside the next timed
		 * runs. A pool serves callers that are not always creating. */
		if (idle_ms > 0)
			usleep((useconds_t)idle_ms * 1000);
	}
	double raw_us = median_us(t_raw, runs);
	printf("create + run to first exit + destroy, median of %d (%d MiB guests; %d ms idle after"
	       " each run from the pool):\n", runs, MEM_MIB, idle_ms);
	printf("  %-30s %9.1f us, of which closing the VM %.1f us (KVM's teardown: a pooled VM's"
	       " destroy leaves it to the pool's thread)\n", "raw KVM program:", raw_us,
	       median_us(t_raw_down, runs));
	report("alcatraz, exec, no sandbox:", t_open, runs, raw_us);
	report("alcatraz, exec, no pool:", t_exec, runs, raw_us);
	report("alcatraz, exec, warm pool of 2:", t_pool, runs, raw_us);

	/* The jailed VMM's private memory while a guest that never ends
	 * keeps it alive, beyond the guest RAM it touched. */
	char endless[4096];
	const char *slash = strrchr(image, '/');
	snprintf(endless, sizeof(endless), "%.*sendless.img", slash ? (int)(slash - image + 1) : 0,
		 image);
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm;
	if (alcatraz_config_new(&cfg) || alcatraz_config_set_guest_image(cfg, endless) ||
	    alcatraz_config_set_memory_mib(cfg, MEM_MIB) || alcatraz_vm_create(cfg, &vm) ||
	    alcatraz_vm_start(vm)) {
		fprintf(stderr, "bench: cannot start %s\n", endless);
		return 1;
	}
	alcatraz_config_free(cfg);
	usleep(100000);
	pid_t vmm = pidfd_pid(alcatraz_vm_fd(vm));
	long priv = -1, gpriv = -1;
	if (vmm > 0) {
		priv = smaps_kb(vmm, "Private_Clean:", 0) + smaps_kb(vmm, "Private_Dirty:", 0);
		gpriv = smaps_kb(vmm, "Private_Dirty:", MEM_MIB << 10);
	}
	alcatraz_vm_destroy(vm);
	alcatraz_pool_free(pool);
	if (gpriv < 0) {
		fprintf(stderr, "bench: cannot read the jailed VMM's smaps\n");
		return 1;
	}
	printf("memory, VMM jailed: private %ld KiB, of which guest RAM %ld KiB: overhead %.2f MiB\n",
	       priv, gpriv, (priv - gpriv) / 1024.0);
	return 0;
fail:
	fprintf(stderr, "bench: a run failed: %s\n", alcatraz_strerror(ret));
	return 1;
}
