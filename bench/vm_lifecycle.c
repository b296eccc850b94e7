// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Benchmark: create a VM, run a tiny guest to its first exit, destroy it.
 * Alcatraz (public API, 64-bit entry, devices, vCPU thread) against a minimal
 * raw-KVM program doing the same in real mode on the calling thread, in the
 * same run, twice: with the VMM in-process (--insecure-no-sandbox) and jailed
 * in its own process (the default: fork, namespaces, seccomp). Prints
 * medians and ratios (goal: at most 1.2x), then the VMM's memory overhead:
 * what it holds beyond the guest RAM the guest touched (goal: at most 2 MiB).
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

#define RUNS 200
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

static int raw_kvm_once(void)
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
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (mem != MAP_FAILED)
		munmap(mem, len);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return ret;
}

static int alcatraz_once(const char *image, bool jailed, struct alcatraz_vm **keep)
{
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm;
	struct alcatraz_result res;
	int ret;

	if ((ret = alcatraz_config_new(&cfg)))
		return ret;
	if ((ret = alcatraz_config_set_guest_image(cfg, image)) ||
	    (ret = alcatraz_config_set_memory_mib(cfg, MEM_MIB)) ||
	    (ret = alcatraz_config_set_insecure_no_sandbox(cfg, !jailed)) ||
	    (ret = alcatraz_vm_create(cfg, &vm))) {
		alcatraz_config_free(cfg);
		return ret;
	}
	alcatraz_config_free(cfg);
	if ((ret = alcatraz_vm_start(vm)) || (ret = alcatraz_vm_wait(vm, 10000)) ||
	    (ret = alcatraz_vm_result(vm, &res))) {
		alcatraz_vm_destroy(vm);
		return ret;
	}
	if (res.kind != ALCATRAZ_EXIT_STATUS) {
		alcatraz_vm_destroy(vm);
		return -EPROTO;
	}
	if (keep)
		*keep = vm;
	else
		alcatraz_vm_destroy(vm);
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

/* First child of @pid (the library's reaper, then the VMM under it). */
static pid_t child_of(pid_t pid)
{
	char path[64];
	int child = -1;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &child) != 1)
			child = -1;
		fclose(f);
	}
	return child;
}

static void report(const char *what, const uint64_t *t, double raw_us)
{
	double us = t[RUNS / 2] / 1e3;
	printf("  %-26s %8.1f us  ratio %5.2fx (goal <= 1.20x)\n", what, us, us / raw_us);
}

int main(int argc, char **argv)
{
	const char *image = argc > 1 ? argv[1] : "tests/guests/first_exit.img";
	static uint64_t t_raw[RUNS], t_in[RUNS], t_jail[RUNS];
	char msg[256];

	if (alcatraz_kvm_probe(msg, sizeof(msg)) == -ENOENT || access("/dev/kvm", W_OK)) {
		printf("SKIP: %s\n", msg);
		return 77;
	}
	/* Warm every path, then interleave so drift hits all alike. */
	if (raw_kvm_once() || alcatraz_once(image, false, NULL) || alcatraz_once(image, true, NULL)) {
		fprintf(stderr, "bench: a warm-up run failed\n");
		return 1;
	}
	for (int i = 0; i < RUNS; i++) {
		uint64_t t0 = now_ns();
		if (raw_kvm_once())
			return 1;
		uint64_t t1 = now_ns();
		if (alcatraz_once(image, false, NULL))
			return 1;
		uint64_t t2 = now_ns();
		if (alcatraz_once(image, true, NULL))
			return 1;
		uint64_t t3 = now_ns();
		t_raw[i] = t1 - t0;
		t_in[i] = t2 - t1;
		t_jail[i] = t3 - t2;
	}
	qsort(t_raw, RUNS, sizeof(t_raw[0]), cmp_u64);
	qsort(t_in, RUNS, sizeof(t_in[0]), cmp_u64);
	qsort(t_jail, RUNS, sizeof(t_jail[0]), cmp_u64);
	double raw_us = t_raw[RUNS / 2] / 1e3;
	printf("create + run to first exit + destroy, median of %d (%d MiB guests):\n", RUNS, MEM_MIB);
	printf("  %-26s %8.1f us\n", "raw KVM program:", raw_us);
	report("alcatraz, VMM in-process:", t_in, raw_us);
	report("alcatraz, VMM jailed:", t_jail, raw_us);

	/* In-process: RSS growth minus the guest RAM mapping's resident pages. */
	struct alcatraz_vm *vm = NULL;
	long before = smaps_kb(getpid(), "Rss:", 0);
	if (alcatraz_once(image, false, &vm))
		return 1;
	long during = smaps_kb(getpid(), "Rss:", 0);
	long guest = smaps_kb(getpid(), "Rss:", MEM_MIB << 10);
	alcatraz_vm_destroy(vm);
	if (before < 0 || during < 0 || guest < 0) {
		fprintf(stderr, "bench: cannot read /proc/self/smaps\n");
		return 1;
	}
	printf("memory, VMM in-process: RSS grew %ld KiB, of which guest RAM touched %ld KiB:"
	       " overhead %.2f MiB (goal <= 2 MiB; Firecracker promises 5 MiB)\n",
	       during - before, guest, (during - before - guest) / 1024.0);

	/* Jailed: the private memory of the VMM and reaper processes (pages
	 * shared copy-on-write with this process cost nothing extra), read
	 * while a guest that never ends keeps the VMM process alive. */
	char endless[4096];
	const char *slash = strrchr(image, '/');
	snprintf(endless, sizeof(endless), "%.*sendless.img", slash ? (int)(slash - image + 1) : 0,
		 image);
	struct alcatraz_config *cfg;
	if (alcatraz_config_new(&cfg) || alcatraz_config_set_guest_image(cfg, endless) ||
	    alcatraz_config_set_memory_mib(cfg, MEM_MIB) || alcatraz_vm_create(cfg, &vm) ||
	    alcatraz_vm_start(vm)) {
		fprintf(stderr, "bench: cannot start %s\n", endless);
		return 1;
	}
	alcatraz_config_free(cfg);
	usleep(100000);
	pid_t reaper = child_of(getpid()), vmm = reaper > 0 ? child_of(reaper) : -1;
	long priv = 0, gpriv = -1;
	if (vmm > 0) {
		priv = smaps_kb(vmm, "Private_Clean:", 0) + smaps_kb(vmm, "Private_Dirty:", 0) +
		       smaps_kb(reaper, "Private_Clean:", 0) + smaps_kb(reaper, "Private_Dirty:", 0);
		gpriv = smaps_kb(vmm, "Private_Dirty:", MEM_MIB << 10);
	}
	alcatraz_vm_destroy(vm);
	if (gpriv < 0) {
		fprintf(stderr, "bench: cannot read the jailed VMM's smaps\n");
		return 1;
	}
	printf("memory, VMM jailed: private %ld KiB (VMM + reaper), of which guest RAM %ld KiB:"
	       " overhead %.2f MiB\n", priv, gpriv, (priv - gpriv) / 1024.0);
	return 0;
}
