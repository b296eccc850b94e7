// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: the VMM sandbox. A VMM built with test hooks misbehaves after
 * its guest started (execve, socket, open, fork) and each attempt must kill
 * it with SIGSYS and be reported by name; every VMM thread runs under
 * seccomp; the jail hides the host's files; create/destroy cycles leak no
 * file descriptors or memory. Skips (77) where /dev/kvm is unusable.
 */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <poll.h>
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <alcatraz/alcatraz.h>

#include "check_main.h"
#include "pool_util.h"
#include "thread_confinement.h"

pid_t alcatraz_test_vmm_pid(struct alcatraz_vm *h);
/* Internal (src/sandbox), reached through the test-hooks library. */
int seccomp_allowed_count(int role);
const char *seccomp_role_name(int role);

static char endless[4096], hello[4096];

static struct alcatraz_vm *start_vm(const char *image, int log_fd, uint64_t timeout_ms)
{
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm;

	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, image), 0);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(cfg, 16), 0);
	ck_assert_int_eq(alcatraz_config_set_timeout_ms(cfg, timeout_ms), 0);
	if (log_fd >= 0)
		ck_assert_int_eq(alcatraz_config_set_log_fd(cfg, log_fd), 0);
	ck_assert_int_eq(alcatraz_vm_create(cfg, &vm), 0);
	alcatraz_config_free(cfg);
	ck_assert_int_eq(alcatraz_vm_start(vm), 0);
	return vm;
}

static void expect_violation(const char *act, const char *syscall_name)
{
	struct alcatraz_result res;
	setenv("ALCATRAZ_TEST_VIOLATE", act, 1);
	struct alcatraz_vm *vm = start_vm(endless, -1, 10000);
	unsetenv("ALCATRAZ_TEST_VIOLATE");
	ck_assert_int_eq(alcatraz_vm_wait(vm, 15000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_msg(res.kind == ALCATRAZ_EXIT_SANDBOX, "%s: kind %s: %s", act,
		      alcatraz_exit_kind_name(res.kind), res.message);
	ck_assert_msg(strstr(res.message, syscall_name), "%s: message '%s' lacks '%s'", act,
		      res.message, syscall_name);
	alcatraz_vm_destroy(vm);
}

/*
 * A VMM that cannot stop its VM at the timeout (the test hook lets the VM
 * run on, as a vCPU thread the kernel never returns from KVM_RUN would):
 * the library kills it at the timeout plus its 30 s grace and reports the
 * timeout, so that a wait without a limit still returns.
 */
START_TEST(vmm_that_cannot_stop_its_vm_is_killed_after_the_grace)
{
	struct alcatraz_result res;
	struct timespec t0, t1;

	setenv("ALCATRAZ_TEST_IGNORE_TIMEOUT", "1", 1);
	struct alcatraz_vm *vm = start_vm(endless, -1, 1000);
	unsetenv("ALCATRAZ_TEST_IGNORE_TIMEOUT");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(alcatraz_vm_wait(vm, -1), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_msg(res.kind == ALCATRAZ_EXIT_TIMEOUT && strstr(res.message, "was killed"),
		      "ended as %s: %s", alcatraz_exit_kind_name(res.kind), res.message);
	/* Not before the grace: the VMM's own timeout comes first. */
	ck_assert_msg(s >= 30.0, "killed after %.1f s, before the VM's 1 s timeout + 30 s", s);
	alcatraz_vm_destroy(vm);
}
END_TEST

START_TEST(execve_is_killed)
{
	expect_violation("execve", "execve");
}
END_TEST

START_TEST(socket_is_killed)
{
	expect_violation("socket", "socket");
}
END_TEST

START_TEST(open_is_killed)
{
	expect_violation("open", "openat");
}
END_TEST

START_TEST(fork_is_killed)
{
	expect_violation("fork", "clone");
}
END_TEST

static pid_t vmm_pid_of(struct alcatraz_vm *vm)
{
	pid_t pid = alcatraz_test_vmm_pid(vm);

	ck_assert_int_gt(pid, 0);
	return pid;
}

/* The VMM's threads and fds are both walked as /proc/PID/SUB. */
static DIR *open_proc_dir(pid_t pid, const char *sub)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, sub);
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	return d;
}

/* readdir() without "." and "..". */
static struct dirent *next_entry(DIR *d)
{
	struct dirent *e;

	while ((e = readdir(d)) && e->d_name[0] == '.')
		;
	return e;
}

START_TEST(every_vmm_thread_is_filtered)
{
	struct alcatraz_vm *vm = start_vm(endless, -1, 10000);
	char path[512], line[256];
	int threads = 0, filtered = 0;
	pid_t pid = vmm_pid_of(vm);

	DIR *d = open_proc_dir(pid, "task");
	struct dirent *e;
	while ((e = next_entry(d))) {
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		threads++;
		bool ok = false;
		char name[64] = "?";
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "Name:\t%63s", name);
			if (!strcmp(line, "Seccomp:\t2\n"))
				ok = true;
		}
		filtered += ok;
		if (!ok)
			printf("thread %s (%s) is not filtered\n", e->d_name, name);
		fclose(f);
	}
	closedir(d);
	alcatraz_vm_destroy(vm);
	ck_assert_int_ge(threads, 2); /* control + vCPU (+ watchdog) */
	ck_assert_int_eq(filtered, threads);
}
END_TEST

/* Capabilities, no_new_privs and seccomp are a thread's own: the device
 * thread, started before the control thread empties its capabilities,
 * empties its own, and every thread ends up jailed alike. */
START_TEST(vmm_threads_are_confined_alike)
{
	struct alcatraz_vm *vm = start_vm(endless, -1, 10000);

	/* control, device thread, vCPU, watchdog */
	assert_threads_confined_alike(vmm_pid_of(vm), 4);
	alcatraz_vm_destroy(vm);
}
END_TEST

START_TEST(inherited_fds_are_closed)
{
	/* Not close-on-exec, as a careless embedding program might leave it. */
	int secret = memfd_create("alcatraz-test-secret", 0);
	ck_assert_int_ge(secret, 0);
	struct alcatraz_vm *vm = start_vm(endless, -1, 10000);
	char path[512], link[512];
	pid_t pid = vmm_pid_of(vm);
	int fds = 0;

	DIR *d = open_proc_dir(pid, "fd");
	struct dirent *e;
	while ((e = next_entry(d))) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, e->d_name);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		fds++;
		ck_assert_msg(!strstr(link, "alcatraz-test-secret"), "VMM holds fd %s -> %s",
			      e->d_name, link);
	}
	closedir(d);
	alcatraz_vm_destroy(vm);
	close(secret);
	ck_assert_int_gt(fds, 0);
}
END_TEST

START_TEST(host_files_are_not_visible)
{
	int p[2];
	char buf[1024] = { 0 };
	struct alcatraz_result res;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	setenv("ALCATRAZ_TEST_PROBE_FS", "1", 1);
	struct alcatraz_vm *vm = start_vm(hello, p[1], 10000);
	unsetenv("ALCATRAZ_TEST_PROBE_FS");
	close(p[1]);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 10000), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_STATUS);
	alcatraz_vm_destroy(vm);
	ssize_t n, total = 0;
	while ((n = read(p[0], buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
		total += n;
	close(p[0]);
	ck_assert_msg(strstr(buf, "jail probe: /etc/passwd No such file or directory, "
				  "/dev/kvm No such file or directory, /proc No such file or directory"),
		      "log: %s", buf);
}
END_TEST

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static void cycles(int n)
{
	for (int i = 0; i < n; i++) {
		struct alcatraz_result res;
		struct alcatraz_vm *vm = start_vm(hello, -1, 10000);
		ck_assert_int_eq(alcatraz_vm_wait(vm, 10000), 0);
		ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
		ck_assert_msg(res.kind == ALCATRAZ_EXIT_STATUS, "cycle %d: %s: %s", i,
			      alcatraz_exit_kind_name(res.kind), res.message);
		alcatraz_vm_destroy(vm);
	}
}

START_TEST(create_destroy_cycles_leak_nothing)
{
	int n = getenv("ALCATRAZ_CYCLES") ? atoi(getenv("ALCATRAZ_CYCLES")) : 1000;
	cycles(20); /* warm-up: allocator arenas, the KVM facts cache */
	int fds = count_fds();
	long rss = rss_kb();
	cycles(n);
	ck_assert_int_eq(count_fds(), fds);
#ifndef __SANITIZE_ADDRESS__
	/* A leak of even 1 KiB per cycle would add ~1 MiB over 1000 cycles.
	 * (Under ASan its quarantine grows RSS; LeakSanitizer checks instead.) */
	ck_assert_int_lt(rss_kb() - rss, 512);
#else
	(void)rss;
#endif
}
END_TEST


/* Cgroups this process made for VMs (alcatraz-vm-OURPID-N) that remain. */
static int count_vm_cgroups(void)
{
	char line[1024] = "", dir[1200], prefix[64];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && strncmp(line, "0::", 3))
		;
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s", strncmp(line, "0::", 3) ? "" :
		 (strcmp(line + 3, "/") ? line + 3 : ""));
	snprintf(prefix, sizeof(prefix), "alcatraz-vm-%d-", (int)getpid());
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	if (d)
		closedir(d);
	return n;
}

/* alcatraz_vm_create() with this VMM binary fails with want, and leaves no
 * descriptor, process or cgroup behind; the log names the problem. */
static void expect_bad_vmm(const char *vmm, int want, const char *log_says)
{
	struct alcatraz_config *cfg;
	struct alcatraz_vm *vm = NULL;
	char log[2048] = "";
	int p[2], fds, kids, cgs;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	fds = count_fds();
	kids = children((pid_t[MAX_CHILDREN]){ 0 }, MAX_CHILDREN);
	cgs = count_vm_cgroups();
	ck_assert_int_eq(alcatraz_config_new(&cfg), 0);
	ck_assert_int_eq(alcatraz_config_set_guest_image(cfg, endless), 0);
	ck_assert_int_eq(alcatraz_config_set_memory_mib(cfg, 16), 0);
	ck_assert_int_eq(alcatraz_config_set_log_fd(cfg, p[1]), 0);
	ck_assert_int_eq(alcatraz_config_set_vmm_binary(cfg, vmm), 0);
	ck_assert_int_eq(alcatraz_vm_create(cfg, &vm), want);
	ck_assert_ptr_null(vm);
	alcatraz_config_free(cfg);
	ck_assert_int_eq(count_fds(), fds);
	ck_assert_int_eq(children((pid_t[MAX_CHILDREN]){ 0 }, MAX_CHILDREN), kids);
	ck_assert_int_eq(count_vm_cgroups(), cgs);
	ck_assert_int_ge(read(p[0], log, sizeof(log) - 1), 0);
	ck_assert_msg(strstr(log, log_says), "%s: log '%s' lacks '%s'", vmm, log, log_says);
	close(p[0]);
	close(p[1]);
}

static char fake_dir[4096];

static void fake(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", fake_dir, name);
}

START_TEST(bad_vmm_binaries_are_refused)
{
	char path[4200], noexec[] = "/tmp/alcatraz-noexec-XXXXXX";
	int fd = mkstemp(noexec);

	ck_assert_int_ge(fd, 0);
	close(fd);
	expect_bad_vmm("/nonexistent/alcatraz-vmm", -ENOENT, "is missing");
	expect_bad_vmm(noexec, -EACCES, "is not executable");
	unlink(noexec);
	fake(path, sizeof(path), "fake-vmm-version");
	expect_bad_vmm(path, -EPROTO, "speaks protocol 99");
	fake(path, sizeof(path), "fake-vmm-silent");
	expect_bad_vmm(path, -ENOEXEC, "exited without a word");
	fake(path, sizeof(path), "fake-vmm-garbage");
	expect_bad_vmm(path, -EPROTO, "no valid greeting");
	fake(path, sizeof(path), "fake-vmm-bad-created");
	expect_bad_vmm(path, -EPROTO, "");
	fake(path, sizeof(path), "fake-vmm-gone");
	expect_bad_vmm(path, -ECHILD, "alcatraz-vmm exited with status 3 while it built the VM");
}
END_TEST

/* Nothing of the embedding program's memory is in the VMM process: a
 * secret in our heap (and one in our environment) is searched for in every
 * readable mapping of the running VMM. */
START_TEST(vmm_holds_no_embedder_memory)
{
	char secret[33], envsecret[40];
	unsigned char raw[16];
	char *heap = malloc(4096);

	ck_assert_int_eq(getrandom(raw, sizeof(raw), 0), (ssize_t)sizeof(raw));
	for (int i = 0; i < 16; i++)
		sprintf(secret + 2 * i, "%02x", raw[i]);
	for (int i = 0; i < 4096 - 33; i += 33)
		memcpy(heap + i, secret, 33);
	snprintf(envsecret, sizeof(envsecret), "K%s", secret);
	setenv("ALCATRAZ_TEST_SECRET", envsecret, 1);

	struct alcatraz_vm *vm = start_vm(endless, -1, 20000);
	pid_t pid = vmm_pid_of(vm);
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *maps = fopen(path, "r");
	ck_assert_ptr_nonnull(maps);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int mem = open(path, O_RDONLY);
	ck_assert_int_ge(mem, 0);
	uint64_t scanned = 0;
	unsigned int found = 0;
	char *buf = malloc(1 << 20);
	while (fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r')
			continue;
		if (strstr(line, "[vvar]") || strstr(line, "[vsyscall]"))
			continue;
		for (unsigned long a = lo; a < hi; a += 1 << 20) {
			size_t want = hi - a < (1UL << 20) ? hi - a : 1UL << 20;
			ssize_t n = pread(mem, buf, want, (off_t)a);
			if (n <= 0)
				break;
			scanned += (uint64_t)n;
			if (memmem(buf, (size_t)n, secret, 32))
				found++;
		}
	}
	fclose(maps);
	close(mem);
	free(buf);
	printf("vmm_holds_no_embedder_memory: scanned %llu KiB of VMM %d, secret found %u times\n",
	       (unsigned long long)(scanned >> 10), (int)pid, found);
	ck_assert_uint_gt(scanned, 64 << 10); /* the VMM's own image at least */
	ck_assert_uint_eq(found, 0);
	unsetenv("ALCATRAZ_TEST_SECRET");
	free(heap);
	alcatraz_vm_destroy(vm);
}
END_TEST

/* wait, result, kill and fd from several threads at the same time: every
 * waiter sees the same KILLED result, none "ended unexpectedly". */
#define RACERS 6
struct racer {
	struct alcatraz_vm *vm;
	int index;
	struct alcatraz_result res;
	int ret;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	switch (r->index % 3) {
	case 0:
		r->ret = alcatraz_vm_wait(r->vm, -1);
		break;
	case 1:
		while ((r->ret = alcatraz_vm_result(r->vm, &r->res)) == -EBUSY)
			usleep(1000);
		return NULL;
	case 2: {
		struct pollfd p = { .fd = alcatraz_vm_fd(r->vm), .events = POLLIN };
		usleep(20000 * (unsigned int)r->index);
		alcatraz_vm_kill(r->vm);
		r->ret = poll(&p, 1, 30000) == 1 ? alcatraz_vm_wait(r->vm, 0) : -ETIMEDOUT;
		break;
	}
	}
	if (!r->ret)
		r->ret = alcatraz_vm_result(r->vm, &r->res);
	return NULL;
}

START_TEST(wait_result_kill_race_from_threads)
{
	struct alcatraz_vm *vm = start_vm(endless, -1, 60000);
	struct racer r[RACERS];
	pthread_t t[RACERS];

	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ .vm = vm, .index = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(r[i].ret == 0, "thread %d: %d", i, r[i].ret);
		ck_assert_msg(r[i].res.kind == ALCATRAZ_EXIT_KILLED, "thread %d: %s: %s", i,
			      alcatraz_exit_kind_name(r[i].res.kind), r[i].res.message);
	}
	alcatraz_vm_destroy(vm);
}
END_TEST

/* The pidfd is readable exactly when the VM has ended. */
START_TEST(vm_fd_readable_at_the_end)
{
	struct alcatraz_vm *vm = start_vm(endless, -1, 60000);
	struct pollfd p = { .fd = alcatraz_vm_fd(vm), .events = POLLIN };
	struct alcatraz_result res;

	ck_assert_int_ge(p.fd, 0);
	ck_assert_int_eq(poll(&p, 1, 200), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), -EBUSY);
	alcatraz_vm_kill(vm);
	ck_assert_int_eq(poll(&p, 1, 30000), 1);
	ck_assert_int_eq(alcatraz_vm_wait(vm, 0), 0);
	ck_assert_int_eq(alcatraz_vm_result(vm, &res), 0);
	ck_assert_int_eq(res.kind, ALCATRAZ_EXIT_KILLED);
	alcatraz_vm_destroy(vm);
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
	snprintf(fake_dir, sizeof(fake_dir), "%s", argc > 2 ? argv[2] : "tests/vmm");

	printf("seccomp allow lists (system calls per thread role):");
	for (int r = 0; seccomp_allowed_count(r) > 0; r++)
		printf(" %s %d", seccomp_role_name(r), seccomp_allowed_count(r));
	printf(" (Firecracker: vcpu 27, vmm 50, api 31)\n");

	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, execve_is_killed);
	tcase_add_test(tc, vmm_that_cannot_stop_its_vm_is_killed_after_the_grace);
	tcase_add_test(tc, socket_is_killed);
	tcase_add_test(tc, open_is_killed);
	tcase_add_test(tc, fork_is_killed);
	tcase_add_test(tc, every_vmm_thread_is_filtered);
	tcase_add_test(tc, vmm_threads_are_confined_alike);
	tcase_add_test(tc, host_files_are_not_visible);
	tcase_add_test(tc, inherited_fds_are_closed);
	tcase_add_test(tc, create_destroy_cycles_leak_nothing);
	tcase_add_test(tc, bad_vmm_binaries_are_refused);
	tcase_add_test(tc, vmm_holds_no_embedder_memory);
	tcase_add_test(tc, wait_result_kill_race_from_threads);
	tcase_add_test(tc, vm_fd_readable_at_the_end);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
