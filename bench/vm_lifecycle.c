/*
 * Benchmark: create a VM, run a tiny guest to its first exit, destroy it.
 * Alcatraz (public API, 64-bit entry, devices, vCPU thread) against a minimal
 * raw-KVM program doing the same in real mode on the calling thread, in the
 * same run. Prints medians and their ratio (goal: at most 1.2x), then the
 * VMM's memory overhead: RSS growth minus the guest RAM the guest touched
 * (goal: at most 2 MiB).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
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

static int alcatraz_once(const char *image, struct alcatraz_vm **keep)
{
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm;
	struct alcatraz_result res;
	int ret;

	if ((ret = alcatraz_config_new(&cfg)))
		return ret;
	if ((ret = alcatraz_config_set_guest_image(cfg, image)) ||
	    (ret = alcatraz_config_set_memory_mib(cfg, MEM_MIB)) ||
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

/* kB of a /proc/self/smaps_rollup field, or of the mapping whose size is sz_kb. */
static long smaps_kb(const char *field, long sz_kb)
{
	FILE *f = fopen(sz_kb ? "/proc/self/smaps" : "/proc/self/smaps_rollup", "r");
	char line[512];
	long v = -1, size = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long n;
		if (sscanf(line, "Size: %ld kB", &n) == 1)
			size = n;
		else if (!strncmp(line, field, strlen(field)) &&
			 sscanf(line + strlen(field), " %ld kB", &n) == 1 &&
			 (!sz_kb || size == sz_kb)) {
			v = n;
			if (sz_kb)
				break;
		}
	}
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	const char *image = argc > 1 ? argv[1] : "tests/guests/first_exit.img";
	static uint64_t t_raw[RUNS], t_alc[RUNS];
	char msg[256];

	if (alcatraz_kvm_probe(msg, sizeof(msg)) == -ENOENT || access("/dev/kvm", W_OK)) {
		printf("SKIP: %s\n", msg);
		return 77;
	}
	/* Warm both paths, then interleave so drift hits both alike. */
	if (raw_kvm_once() || alcatraz_once(image, NULL)) {
		fprintf(stderr, "bench: a warm-up run failed\n");
		return 1;
	}
	for (int i = 0; i < RUNS; i++) {
		uint64_t t0 = now_ns();
		if (raw_kvm_once())
			return 1;
		uint64_t t1 = now_ns();
		if (alcatraz_once(image, NULL))
			return 1;
		uint64_t t2 = now_ns();
		t_raw[i] = t1 - t0;
		t_alc[i] = t2 - t1;
	}
	qsort(t_raw, RUNS, sizeof(t_raw[0]), cmp_u64);
	qsort(t_alc, RUNS, sizeof(t_alc[0]), cmp_u64);
	double raw_us = t_raw[RUNS / 2] / 1e3, alc_us = t_alc[RUNS / 2] / 1e3;
	printf("create + run to first exit + destroy, median of %d (%d MiB guests):\n", RUNS, MEM_MIB);
	printf("  raw KVM program: %8.1f us\n", raw_us);
	printf("  alcatraz:        %8.1f us\n", alc_us);
	printf("  ratio:           %8.2fx (goal <= 1.20x)\n", alc_us / raw_us);

	long before = smaps_kb("Rss:", 0);
	struct alcatraz_vm *vm = NULL;
	if (alcatraz_once(image, &vm))
		return 1;
	long during = smaps_kb("Rss:", 0);
	/* Guest RAM is its own mapping of exactly MEM_MIB (the PROT_NONE guard
	 * pages around it are separate mappings). */
	long guest = smaps_kb("Rss:", MEM_MIB << 10);
	alcatraz_vm_destroy(vm);
	if (before < 0 || during < 0 || guest < 0) {
		fprintf(stderr, "bench: cannot read /proc/self/smaps\n");
		return 1;
	}
	printf("memory: RSS grew %ld KiB with a VM alive, of which guest RAM touched %ld KiB\n",
	       during - before, guest);
	printf("  VMM overhead:    %8.2f MiB (goal <= 2 MiB; Firecracker promises 5 MiB)\n",
	       (during - before - guest) / 1024.0);
	return 0;
}
