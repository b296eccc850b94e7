// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: the warm pool (alcatraz_pool_new). VMs created from a pool
 * of 2 by 4 threads run their guests right; a pool process killed from
 * outside is never handed out and is replaced; freeing the pool leaves no
 * process and no descriptor behind, and VMs made from it outlive it; the
 * pool reaps its destroyed VMs' processes and removes their cgroups; a
 * pooled VM gets its cgroup limits (as root: cgroup v2 is mounted in a mount
 * namespace of the test's own where the machine has none); a pool's
 * process makes its KVM VM and vCPU 0 while it waits, with the irqchip the
 * pool guesses from the last configuration, and the VM it is handed to runs
 * on them (irqchip on and off), or on a VM made after its configuration
 * where the guess was wrong; one that could not make it ahead (no
 * /dev/kvm when it started) makes it after its configuration; a pool's
 * processes wait with the lowest CPU claim (cpu.idle) and the VM that takes
 * one runs with the normal claim, and where they can have no cgroup of
 * their own the first VM's log says so; a pool's process killed at the
 * moment it is handed out is replaced once by a fresh VMM, whose guest runs,
 * while one that ends another way before its VM is built fails the create.
 * Skips (77) where /dev/kvm is unusable.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#include "check_main.h"
#include "pool_util.h"
#include "thread_confinement.h"

pid_t alcatraz_test_vmm_pid(struct alcatraz_vm *h);

#define POOL_SIZE 2
#define THREADS 4
#define VMS_PER_THREAD 4
/* alcatraz_pool_free() with a process still starting behind a busy CPU:
 * 0.1-2.7 s in the ASan lab when it kills that process, 5.8 s when it
 * waited for its greeting. */
#define FREE_MAX_S 4.5

static char endless[4096], hello[4096];

/* A VM of image from pool, its console on out_fd and its log on log_fd
 * (-1: none): alcatraz_vm_create's result. */
static int create_logged(struct alcatraz_pool *pool, const char *image, int out_fd, int log_fd,
			 struct alcatraz_vm **vm)
{
	struct alcatraz_config *cfg;
	int ret;

	*vm = NULL;
	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, image), 0);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(cfg, 16), 0);
	ck_assert_int_eq(alcatraz_config_set_timeout_ms(cfg, 20000), 0);
	ck_assert_int_eq(alcatraz_config_set_pool(cfg, pool), 0);
	if (out_fd >= 0)
		ck_assert_int_eq(alcatraz_config_set_serial_fd(cfg, out_fd), 0);
	if (log_fd >= 0)
		ck_assert_int_eq(alcatraz_config_set_log_fd(cfg, log_fd), 0);
	ret = alcatraz_vm_create(cfg, vm);
	alcatraz_config_free(cfg);
	return ret;
}

static struct alcatraz_vm *create(struct alcatraz_pool *pool, const char *image, int serial_fd)
{
	struct alcatraz_vm *vm;
	int ret = create_logged(pool, image, serial_fd, -1, &vm);

	ck_assert_msg(ret == 0, "create from the pool: %s", alcatraz_strerror(ret));
	return vm;
}

/* hello says its line and exits 0. */
static void run_hello(struct alcatraz_pool *pool)
{
	struct alcatraz_result res;
	char out[256] = "";
	ssize_t n, total = 0;
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	struct alcatraz_vm *vm = create(pool, hello, p[1]);
	close(p[1]);
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 30000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	alcatraz_vm_destroy(vm);
	while ((n = read(p[0], out + total, sizeof(out) - 1 - (size_t)total)) > 0)
		total += n;
	close(p[0]);
	ck_assert_str_eq(out, "Hello from an Alcatraz tiny guest!\n");
	ck_assert_msg(res.kind == ALCATRAZ_EXIT_STATUS && res.status == 0, "hello: %s: %s",
		      alcatraz_exit_kind_name(res.kind), res.message);
}

/* endless runs until killed, and ends as killed. */
static void run_endless(struct alcatraz_pool *pool)
{
	struct alcatraz_result res;
	struct alcatraz_vm *vm = create(pool, endless, -1);

	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 50), -ETIMEDOUT);
	ck_assert_int_eq(alcatraz_vm_kill(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 30000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_msg(res.kind == ALCATRAZ_EXIT_KILLED, "endless: %s: %s",
		      alcatraz_exit_kind_name(res.kind), res.message);
	alcatraz_vm_destroy(vm);
}

static void *creator(void *arg)
{
	for (int i = 0; i < VMS_PER_THREAD; i++) {
		if (i % 2)
			run_endless(arg);
		else
			run_hello(arg);
	}
	return NULL;
}

START_TEST(threads_share_one_pool)
{
	struct alcatraz_pool *pool;
	pthread_t t[THREADS];

	ck_assert_int_eq(alcatraz_pool_new(POOL_SIZE, NULL, &pool), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, creator, pool), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	/* Refilled: the pool's processes are all that is left. */
	await_pool_full(POOL_SIZE, 0);
	alcatraz_pool_free(pool);
	ck_assert_int_eq(children((pid_t[MAX_CHILDREN]){ 0 }, MAX_CHILDREN), 0);
}
END_TEST

START_TEST(killed_pool_process_is_not_handed_out)
{
	struct alcatraz_pool *pool;
	pid_t kids[MAX_CHILDREN], victim;

	ck_assert_int_eq(alcatraz_pool_new(POOL_SIZE, NULL, &pool), 0);
	ck_assert_int_eq(children(kids, MAX_CHILDREN), POOL_SIZE);
	victim = kids[0]; /* the oldest: the first handed out */
	ck_assert_int_eq(kill(victim, SIGKILL), 0);
	/* Dead (its socket closed), whether or not the pool reaped it yet. */
	int waited = 0;
	for (; waited < 20000 && !is_gone(victim); waited++)
		usleep(1000);
	printf("killed_pool_process_is_not_handed_out: victim gone after %d ms\n", waited);
	ck_assert(is_gone(victim));
	for (int i = 0; i < POOL_SIZE + 1; i++) {
		int p[2];
		char out[256] = "";
		struct alcatraz_result res;

		ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
		struct alcatraz_vm *vm = create(pool, hello, p[1]);
		close(p[1]);
		ck_assert_int_ne(alcatraz_test_vmm_pid(vm), victim);
		ck_assert_int_eq(alcatraz_vm_start(vm), 0);
		ck_assert_int_eq(alcatraz_vm_wait(vm, 30000), 0);
		ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
		alcatraz_vm_destroy(vm);
		ck_assert_int_gt(read(p[0], out, sizeof(out) - 1), 0);
		close(p[0]);
		ck_assert_str_eq(out, "Hello from an Alcatraz tiny guest!\n");
		ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_STATUS);
	}
	/* Replaced: the pool is full again, the victim reaped. */
	await_pool_full(POOL_SIZE, victim);
	alcatraz_pool_free(pool);
}
END_TEST

START_TEST(free_leaves_nothing)
{
	struct alcatraz_pool *pool;
	struct alcatraz_result res;
	int fds = count_fds();

	ck_assert_int_eq(children((pid_t[MAX_CHILDREN]){ 0 }, MAX_CHILDREN), 0);
	ck_assert_int_eq(alcatraz_pool_new(POOL_SIZE, NULL, &pool), 0);
	ck_assert_int_eq(children((pid_t[MAX_CHILDREN]){ 0 }, MAX_CHILDREN), POOL_SIZE);
	/* A VM made from the pool outlives it. */
	struct alcatraz_vm *vm = create(pool, endless, -1);
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	alcatraz_pool_free(pool);
	ck_assert_int_eq(children((pid_t[MAX_CHILDREN]){ 0 }, MAX_CHILDREN), 1);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 50), -ETIMEDOUT);
	ck_assert_int_eq(alcatraz_vm_kill(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 30000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_KILLED);
	alcatraz_vm_destroy(vm);
	ck_assert_int_eq(children((pid_t[MAX_CHILDREN]){ 0 }, MAX_CHILDREN), 0);
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/*
 * A pooled VM's process keeps the cgroup it was born in, with the VM's
 * limits written there; the cgroup goes with the VM, the pool's waiting
 * ones with the pool. In a mount namespace of this test's own, with
 * cgroup v2 mounted where the machine (the lab) has none.
 */
START_TEST(pooled_vm_gets_its_limits)
{
	struct alcatraz_pool *pool;
	struct alcatraz_result res;
	char cg[1024];
	int before;

	mount_cgroup2();
	before = count_alcatraz_cgroups();
	ck_assert_int_eq(alcatraz_pool_new(POOL_SIZE, NULL, &pool), 0);
	struct alcatraz_vm *vm = create(pool, endless, -1);
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	cgroup_of(alcatraz_test_vmm_pid(vm), cg, sizeof(cg));
	ck_assert_msg(strstr(cg, "/alcatraz-vm-") != NULL, "the VMM is in %s", cg);
	/* create(): 16 MiB of RAM and one vCPU */
	ck_assert_int_eq(read_number(cg, "memory.max"), (16LL + 64) << 20);
	ck_assert_int_eq(read_number(cg, "pids.max"), 1 + 8);
	ck_assert_int_eq(alcatraz_vm_kill(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 30000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_KILLED);
	alcatraz_vm_destroy(vm);
	/* Removed by the pool's thread once the kernel let go of it. */
	await_gone(cg);
	alcatraz_pool_free(pool);
	ck_assert_int_eq(count_alcatraz_cgroups(), before);
}
END_TEST

/* Runs hello from the pool to its result; its VMM's pid and cgroup. */
static struct alcatraz_vm *hello_done(struct alcatraz_pool *pool, pid_t *pid, char *cg,
				      size_t len)
{
	struct alcatraz_result res;
	struct alcatraz_vm *vm = create(pool, hello, -1);

	*pid = alcatraz_test_vmm_pid(vm);
	cgroup_of(*pid, cg, len);
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 30000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_msg(res.kind == ALCATRAZ_EXIT_STATUS && res.status == 0, "hello: %s: %s",
		      alcatraz_exit_kind_name(res.kind), res.message);
	return vm;
}

/*
 * A pooled VM's destroy leaves its process's teardown to the pool: the
 * pool's thread reaps it and removes its cgroup on its own, and
 * alcatraz_pool_free() waits for the ones still being torn down, so
 * nothing of them is left after it.
 */
START_TEST(pool_reaps_its_destroyed_vms)
{
	struct alcatraz_pool *pool;
	char cg[1024], cg2[1024];
	pid_t pid, pid2;
	int before, fds;

	mount_cgroup2();
	before = count_alcatraz_cgroups();
	fds = count_fds();
	ck_assert_int_eq(alcatraz_pool_new(POOL_SIZE, NULL, &pool), 0);
	alcatraz_vm_destroy(hello_done(pool, &pid, cg, sizeof(cg)));
	for (int i = 0; i < 2000 && is_child(pid); i++)
		usleep(10000);
	ck_assert_msg(!is_child(pid), "the pool did not reap the destroyed VM's process");
	await_gone(cg);
	/* Destroyed right before the free: gone when the free returns. */
	alcatraz_vm_destroy(hello_done(pool, &pid2, cg2, sizeof(cg2)));
	alcatraz_pool_free(pool);
	ck_assert(!is_child(pid2));
	ck_assert_msg(access(cg2, F_OK) != 0, "%s is left after the pool", cg2);
	ck_assert_int_eq(children((pid_t[MAX_CHILDREN]){ 0 }, MAX_CHILDREN), 0);
	ck_assert_int_eq(count_alcatraz_cgroups(), before);
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/*
 * A pool's processes warm and wait in cgroups with the lowest CPU claim, so
 * that they never take CPU from a running VM; the VM that takes one runs
 * with the normal claim, and its replacement waits at the lowest again.
 */
START_TEST(pool_waits_at_the_lowest_cpu_claim)
{
	struct alcatraz_pool *pool;
	struct alcatraz_result res;
	pid_t kids[MAX_CHILDREN], vmm, next = 0;
	char cg[1024];

	mount_cgroup2();
	ck_assert_int_eq(alcatraz_pool_new(1, NULL, &pool), 0);
	ck_assert_int_eq(children(kids, MAX_CHILDREN), 1);
	cgroup_of(kids[0], cg, sizeof(cg));
	ck_assert_msg(strstr(cg, "/alcatraz-vm-") != NULL, "the pool's VMM is in %s", cg);
	ck_assert_msg(claim_is_lowest(cg), "a waiting process's %s: cpu.weight %lld", cg,
		      read_number(cg, "cpu.weight"));
	struct alcatraz_vm *vm = create(pool, endless, -1);
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	vmm = alcatraz_test_vmm_pid(vm);
	ck_assert_int_eq(vmm, kids[0]);
	cgroup_of(vmm, cg, sizeof(cg));
	ck_assert_msg(claim_is_normal(cg), "the VM's %s: cpu.weight %lld", cg,
		      read_number(cg, "cpu.weight"));
	/* The replacement, once it is born. */
	await_children(2);
	ck_assert_int_eq(children(kids, MAX_CHILDREN), 2);
	next = kids[0] == vmm ? kids[1] : kids[0];
	cgroup_of(next, cg, sizeof(cg));
	ck_assert_msg(claim_is_lowest(cg), "the replacement's %s", cg);
	/* The VM spins on the CPU, so the replacement may still be starting:
	 * the free ends it rather than wait for it. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	alcatraz_pool_free(pool);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double free_s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("pool_waits_at_the_lowest_cpu_claim: alcatraz_pool_free took %.3f s\n", free_s);
	ck_assert_msg(free_s < FREE_MAX_S, "alcatraz_pool_free took %.1f s", free_s);
	ck_assert_int_eq(children(kids, MAX_CHILDREN), 1);
	ck_assert_int_eq(alcatraz_vm_kill(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 30000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_KILLED);
	alcatraz_vm_destroy(vm);
}
END_TEST

/* hello from the pool with irqchip mode, its output checked; the VM's log
 * (the library's and the VMM's lines) into log. */
static void run_hello_logged(struct alcatraz_pool *pool, enum alcatraz_irqchip irqchip, char *log,
			     size_t len)
{
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm = NULL;
	struct alcatraz_result res;
	char out[256];
	int o[2], l[2], ret;

	ck_assert_int_eq(pipe2(o, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(l, O_CLOEXEC), 0);
	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, hello), 0);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(cfg, 16), 0);
	ck_assert_int_eq(alcatraz_config_set_timeout_ms(cfg, 20000), 0);
	ck_assert_int_eq(alcatraz_config_set_irqchip(cfg, irqchip), 0);
	ck_assert_int_eq(alcatraz_config_set_pool(cfg, pool), 0);
	ck_assert_int_eq(alcatraz_config_set_serial_fd(cfg, o[1]), 0);
	ck_assert_int_eq(alcatraz_config_set_log_fd(cfg, l[1]), 0);
	ret = alcatraz_vm_create(cfg, &vm);
	alcatraz_config_free(cfg);
	close(o[1]);
	close(l[1]);
	ck_assert_msg(ret == 0, "create from the pool: %s", alcatraz_strerror(ret));
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 30000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	alcatraz_vm_destroy(vm);
	read_all(o[0], out, sizeof(out));
	read_all(l[0], log, len);
	close(o[0]);
	close(l[0]);
	ck_assert_str_eq(out, "Hello from an Alcatraz tiny guest!\n");
	ck_assert_msg(res.kind == ALCATRAZ_EXIT_STATUS && res.status == 0, "hello: %s: %s",
		      alcatraz_exit_kind_name(res.kind), res.message);
}

#define MADE_AHEAD "alcatraz: debug: pool: the VM was made before its configuration"
#define WITH_VCPU0 MADE_AHEAD ", with vcpu0\n"
#define MADE_AFTER "alcatraz: debug: pool: no VM made ahead for this one"

/* Runs hello with irqchip from the pool's one waiting process, which holds
 * its VM and vCPU 0; whether the log says they were handed to it (else
 * made after its configuration, for why). */
static void run_hello_ahead(struct alcatraz_pool *pool, enum alcatraz_irqchip irqchip,
			    const char *why)
{
	char log[4096];
	pid_t waiting = await_waiting_vms(1);
	int n = 0;

	/* Made right after the VM (10 ms steps, up to 20 s). */
	for (int i = 0; i < 2000 && (n = kvm_fds_of(waiting, KVM_VCPU0_LINK)) != 1; i++)
		usleep(10000);
	ck_assert_int_eq(n, 1);
	run_hello_logged(pool, irqchip, log, sizeof(log));
	if (!why)
		ck_assert_msg(strstr(log, WITH_VCPU0) && !strstr(log, MADE_AFTER), "log: %s", log);
	else
		ck_assert_msg(strstr(log, MADE_AFTER) && strstr(log, why) &&
			      !strstr(log, MADE_AHEAD), "log: %s", log);
}

/* A pool's process holds its KVM VM and vCPU 0 before any configuration,
 * with the irqchip made first when the pool guesses one (at first, then as
 * the last configuration chose): a configuration the guess fits is handed
 * them, and runs; one it does not fit gets a VM made after it, and runs. */
START_TEST(pool_makes_its_vm_ahead)
{
	struct alcatraz_pool *pool;

	ck_assert_int_eq(alcatraz_pool_new(1, NULL, &pool), 0);
	run_hello_ahead(pool, ALCATRAZ_IRQCHIP_ON, NULL);
	run_hello_ahead(pool, ALCATRAZ_IRQCHIP_OFF, "(it was made with an irqchip)");
	run_hello_ahead(pool, ALCATRAZ_IRQCHIP_OFF, NULL);
	run_hello_ahead(pool, ALCATRAZ_IRQCHIP_AUTO, NULL); /* a raw image: none */
	run_hello_ahead(pool, ALCATRAZ_IRQCHIP_ON, "(it was made without an irqchip)");
	run_hello_ahead(pool, ALCATRAZ_IRQCHIP_ON, NULL);
	alcatraz_pool_free(pool);
}
END_TEST

/* A process started while /dev/kvm was not KVM (/dev/null bound over it,
 * in a mount namespace of the test's own) holds no VM, and makes it after
 * its configuration brings the real /dev/kvm. */
START_TEST(pool_process_without_kvm_makes_vm_after_config)
{
	struct alcatraz_pool *pool;
	char log[4096];

	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_eq(mount("/dev/null", "/dev/kvm", NULL, MS_BIND, NULL), 0);
	ck_assert_int_eq(alcatraz_pool_new(1, NULL, &pool), 0);
	/* Lazily: the waiting process holds it open. */
	ck_assert_int_eq(umount2("/dev/kvm", MNT_DETACH), 0);
	/* Settled: it has done all it does before CONFIG. */
	pid_t waiting = await_waiting_vms(0);
	usleep(500000);
	ck_assert_int_eq(kvm_fds_of(waiting, KVM_VM_LINK), 0);
	run_hello_logged(pool, ALCATRAZ_IRQCHIP_AUTO, log, sizeof(log));
	ck_assert_msg(strstr(log, MADE_AFTER) && !strstr(log, MADE_AHEAD), "log: %s", log);
	alcatraz_pool_free(pool);
}
END_TEST

#define NORMAL_CLAIM "alcatraz: debug: pool: processes wait with the normal CPU claim (no " \
	"cgroup of its own: "

/*
 * Where the pool's processes can have no cgroup of their own (the caller
 * sits in a cgroup whose controllers it cannot delegate: the
 * no-internal-process rule), the pool works as before and the first VM's
 * log says why its process waited with the normal claim; the next VM's
 * does not repeat it.
 */
START_TEST(pool_without_cgroups_says_so_once)
{
	struct alcatraz_pool *pool;
	char here[300], log[4096];
	pid_t kids[MAX_CHILDREN];
	int fd;

	mount_cgroup2();
	snprintf(here, sizeof(here), "/sys/fs/cgroup/alcatraz-test-pool-%d", (int)getpid());
	ck_assert_int_eq(mkdir(here, 0700), 0);
	snprintf(log, sizeof(log), "%s/cgroup.procs", here);
	fd = open(log, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "0", 1), 1);
	close(fd);
	ck_assert_int_eq(alcatraz_pool_new(1, NULL, &pool), 0);
	ck_assert_int_eq(children(kids, MAX_CHILDREN), 1);
	cgroup_of(kids[0], log, sizeof(log));
	ck_assert_str_eq(log, here);
	run_hello_logged(pool, ALCATRAZ_IRQCHIP_AUTO, log, sizeof(log));
	ck_assert_msg(strstr(log, NORMAL_CLAIM) != NULL, "log: %s", log);
	run_hello_logged(pool, ALCATRAZ_IRQCHIP_AUTO, log, sizeof(log));
	ck_assert_msg(strstr(log, "normal CPU claim") == NULL, "log: %s", log);
	alcatraz_pool_free(pool);
	/* Back to the root, and the test's cgroup removed. */
	fd = open("/sys/fs/cgroup/cgroup.procs", O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "0", 1), 1);
	close(fd);
	ck_assert_int_eq(rmdir(here), 0);
}
END_TEST

#define RETRIED "alcatraz: info: pool: the waiting alcatraz-vmm "
#define KILLED_WAITING RETRIED "was killed (signal 9) before it took its configuration: " \
	"starting a fresh one\n"

/*
 * A pool's process SIGKILLed from outside (kill -9, the OOM killer) right
 * as it is handed out, before its configuration: the library test hook
 * ALCATRAZ_TEST_POOL_KILL_TAKEN kills it after pool_take() and waits until
 * it is gone. The create succeeds on a fresh VMM in the VM's cgroup (the
 * pool's, with the VM's limits), the guest runs to its own result, the log
 * says so once, and nothing is left after the VM and the pool.
 */
START_TEST(killed_taken_process_is_replaced_once)
{
	struct alcatraz_pool *pool;
	struct alcatraz_vm *vm;
	struct alcatraz_result res;
	pid_t kids[MAX_CHILDREN], vmm;
	char out[256], log[8192] = "", cg[1024];
	int o[2], l[2], before, fds, ret;

	mount_cgroup2();
	before = count_alcatraz_cgroups();
	fds = count_fds();
	ck_assert_int_eq(alcatraz_pool_new(1, NULL, &pool), 0);
	ck_assert_int_eq(children(kids, MAX_CHILDREN), 1);
	ck_assert_int_eq(pipe2(o, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(l, O_CLOEXEC), 0);
	setenv("ALCATRAZ_TEST_POOL_KILL_TAKEN", "1", 1);
	ret = create_logged(pool, hello, o[1], l[1], &vm);
	unsetenv("ALCATRAZ_TEST_POOL_KILL_TAKEN");
	close(o[1]);
	close(l[1]);
	if (ret)
		read_all(l[0], log, sizeof(log));
	ck_assert_msg(ret == 0, "create: %s; log: %s", alcatraz_strerror(ret), ret ? log : "");
	vmm = alcatraz_test_vmm_pid(vm);
	ck_assert_int_ne(vmm, kids[0]);
	cgroup_of(vmm, cg, sizeof(cg));
	ck_assert_msg(strstr(cg, "/alcatraz-vm-") != NULL, "the VMM is in %s", cg);
	ck_assert_int_eq(read_number(cg, "memory.max"), (16LL + 64) << 20);
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 30000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	alcatraz_vm_destroy(vm);
	read_all(o[0], out, sizeof(out));
	read_all(l[0], log, sizeof(log));
	close(o[0]);
	close(l[0]);
	ck_assert_str_eq(out, "Hello from an Alcatraz tiny guest!\n");
	ck_assert_msg(res.kind == ALCATRAZ_EXIT_STATUS && res.status == 0, "hello: %s: %s",
		      alcatraz_exit_kind_name(res.kind), res.message);
	ck_assert_msg(occurrences(log, RETRIED) == 1 && strstr(log, KILLED_WAITING), "log: %s",
		      log);
	await_gone(cg); /* the pool's thread removes it */
	alcatraz_pool_free(pool);
	ck_assert_int_eq(children(kids, MAX_CHILDREN), 0);
	ck_assert_int_eq(count_alcatraz_cgroups(), before);
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/*
 * A pool's process that ends another way once it has its configuration
 * (the VMM test hook ALCATRAZ_TEST_CONFIG_DIE: an exit status, a crash) is
 * not replaced: that is its own or the configuration's failure, and the
 * create fails as it did, with the log saying how, and nothing left.
 */
START_TEST(pool_process_dying_otherwise_is_not_replaced)
{
#if defined(__SANITIZE_ADDRESS__)
	/* A sanitizer's handler makes the crash an exit status: "exit" covers it. */
	static const char *const acts[] = { "exit" };
#else
	static const char *const acts[] = { "exit", "crash" };
#endif
	static const char *const how[] = {
		"alcatraz: error: alcatraz-vmm exited with status 1 while it built the VM\n",
		"alcatraz: error: alcatraz-vmm was killed by signal 11 (Segmentation fault) while it "
		"built the VM\n",
	};
	int before;

	mount_cgroup2();
	before = count_alcatraz_cgroups();
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		struct alcatraz_pool *pool;
		struct alcatraz_vm *vm;
		char log[8192];
		int l[2], ret;

		/* The pool's processes have it from their start; a fresh VMM too. */
		setenv("ALCATRAZ_TEST_CONFIG_DIE", acts[i], 1);
		ck_assert_int_eq(alcatraz_pool_new(1, NULL, &pool), 0);
		ck_assert_int_eq(pipe2(l, O_CLOEXEC), 0);
		ret = create_logged(pool, hello, -1, l[1], &vm);
		close(l[1]);
		unsetenv("ALCATRAZ_TEST_CONFIG_DIE");
		/* None is expected; one made would hold the log open. */
		alcatraz_vm_destroy(vm);
		read_all(l[0], log, sizeof(log));
		close(l[0]);
		ck_assert_msg(ret == -ECHILD && !vm, "%s: create: %s; log: %s", acts[i],
			      alcatraz_strerror(ret), log);
		ck_assert_msg(strstr(log, how[i]) && !strstr(log, RETRIED), "%s: log: %s", acts[i],
			      log);
		alcatraz_pool_free(pool);
		ck_assert_int_eq(children((pid_t[MAX_CHILDREN]){ 0 }, MAX_CHILDREN), 0);
		ck_assert_int_eq(count_alcatraz_cgroups(), before);
	}
}
END_TEST

/* Threads a pool's process starts while it waits */
#define PARKED_THREADS 3 /* the device thread, vCPU 0, the watchdog */

static bool settled(const struct thread_conf *t, int n)
{
	if (n != 1 + PARKED_THREADS)
		return false;
	for (int i = 1; i < n; i++)
		if (strcmp(t[i].field[6], "2"))
			return false;
	return true;
}

/* They are confined from their birth, each on its own (capabilities,
 * no_new_privs and seccomp are a thread's own): no capability in any set,
 * no_new_privs, a filter, the namespaces of the process. */
START_TEST(parked_threads_are_confined)
{
	struct thread_conf t[CONF_MAX_THREADS];
	struct alcatraz_pool *pool;
	int n = 0;

	ck_assert_int_eq(alcatraz_pool_new(1, NULL, &pool), 0);
	pid_t waiting = await_waiting_vms(1);
	/* Settled: every parked thread has reached its filter, its last step. */
	for (int i = 0; i < 2000 && !settled(t, n); i++, usleep(10000))
		n = read_thread_confinement(waiting, t, CONF_MAX_THREADS);
	ck_assert_int_eq(n, 1 + PARKED_THREADS);
	for (int i = 1; i < n; i++) {
		assert_thread_jailed(&t[i]);
		for (size_t k = 0; k < CONF_NNS; k++)
			ck_assert_str_eq(t[i].ns[k], t[0].ns[k]);
	}
	/* The main thread is not: it still makes the VM and the jail. */
	ck_assert_str_eq(t[0].field[6], "0");
	alcatraz_pool_free(pool);
}
END_TEST

/* A VM made from the pool runs on the parked threads (no others started)
 * and its threads end up jailed alike. */
START_TEST(pooled_vm_threads_are_confined_alike)
{
	struct alcatraz_pool *pool;
	struct alcatraz_result res;

	ck_assert_int_eq(alcatraz_pool_new(1, NULL, &pool), 0);
	(void)await_waiting_vms(1);
	struct alcatraz_vm *vm = create(pool, endless, -1);
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	int n = assert_threads_confined_alike(alcatraz_test_vmm_pid(vm), 1 + PARKED_THREADS);
	ck_assert_int_eq(n, 1 + PARKED_THREADS);
	ck_assert_int_eq(alcatraz_vm_kill(vm), 0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 30000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_msg(res.kind == ALCATRAZ_EXIT_KILLED, "%s: %s", alcatraz_exit_kind_name(res.kind),
		      res.message);
	alcatraz_vm_destroy(vm);
	alcatraz_pool_free(pool);
}
END_TEST

/* A parked thread that could not be confined (the test hook fails its
 * filter) refuses the configuration: no VM, a sandbox error that names it. */
START_TEST(unconfined_parked_thread_refuses_its_config)
{
	struct alcatraz_config *cfg;
	struct alcatraz_pool *pool;
	struct alcatraz_vm *vm = NULL;
	char log[4096];
	int l[2], ret;

	setenv("ALCATRAZ_TEST_PRESTART_FAIL", "vcpu", 1);
	ck_assert_int_eq(alcatraz_pool_new(1, NULL, &pool), 0);
	(void)await_waiting_vms(1);
	ck_assert_int_eq(pipe2(l, O_CLOEXEC), 0);
	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, hello), 0);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(cfg, 16), 0);
	ck_assert_int_eq(alcatraz_config_set_pool(cfg, pool), 0);
	ck_assert_int_eq(alcatraz_config_set_log_fd(cfg, l[1]), 0);
	ret = alcatraz_vm_create(cfg, &vm);
	alcatraz_config_free(cfg);
	close(l[1]);
	/* Before the log is read: a VM that was made holds its write end. */
	ck_assert_msg(ret == -ALCATRAZ_E_SANDBOX, "create: %s", alcatraz_strerror(ret));
	ck_assert_ptr_null(vm);
	read_all(l[0], log, sizeof(log));
	close(l[0]);
	ck_assert_msg(strstr(log, "vcpu0 started ahead: installing its seccomp filter"), "log: %s",
		      log);
	alcatraz_pool_free(pool);
	unsetenv("ALCATRAZ_TEST_PRESTART_FAIL");
}
END_TEST

START_TEST(bad_pools_are_refused)
{
	struct alcatraz_pool *pool = (void *)1;
	int fds = count_fds();

	ck_assert_int_eq(alcatraz_pool_new(0, NULL, &pool), -EINVAL);
	ck_assert_ptr_null(pool);
	ck_assert_int_eq(alcatraz_pool_new(1, NULL, NULL), -EINVAL);
	ck_assert_int_eq(alcatraz_pool_new(1, "/nonexistent/alcatraz-vmm", &pool), -ENOENT);
	/* Not an alcatraz-vmm: it exits without a word. */
	ck_assert_int_eq(alcatraz_pool_new(1, "/bin/true", &pool), -ENOEXEC);
	ck_assert_ptr_null(pool);
	ck_assert_int_eq(children((pid_t[MAX_CHILDREN]){ 0 }, MAX_CHILDREN), 0);
	ck_assert_int_eq(count_fds(), fds);
	alcatraz_pool_free(NULL);
}
END_TEST

int main(int argc, char **argv)
{
	int skip = skip_without_kvm();

	if (skip)
		return skip;
	const char *dir = argc > 1 ? argv[1] : "tests/guests";
	snprintf(endless, sizeof(endless), "%s/endless.img", dir);
	snprintf(hello, sizeof(hello), "%s/hello.img", dir);

	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, threads_share_one_pool);
	tcase_add_test(tc, killed_pool_process_is_not_handed_out);
	tcase_add_test(tc, free_leaves_nothing);
	tcase_add_test(tc, bad_pools_are_refused);
	tcase_add_test(tc, pooled_vm_gets_its_limits);
	tcase_add_test(tc, pool_reaps_its_destroyed_vms);
	tcase_add_test(tc, pool_waits_at_the_lowest_cpu_claim);
	tcase_add_test(tc, pool_without_cgroups_says_so_once);
	tcase_add_test(tc, pool_makes_its_vm_ahead);
	tcase_add_test(tc, pool_process_without_kvm_makes_vm_after_config);
	tcase_add_test(tc, parked_threads_are_confined);
	tcase_add_test(tc, pooled_vm_threads_are_confined_alike);
	tcase_add_test(tc, unconfined_parked_thread_refuses_its_config);
	tcase_add_test(tc, killed_taken_process_is_replaced_once);
	tcase_add_test(tc, pool_process_dying_otherwise_is_not_replaced);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
