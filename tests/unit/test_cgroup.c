// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Description: a cgroup's CPU claim (src/sandbox/cgroup.c), on directories
 * that stand in for cgroups: lowered through cpu.idle, or cpu.weight where
 * there is no cpu.idle (Linux < 5.15), and restored with the VM's limits;
 * files that refuse writes (a symlink to /dev/full: ENOSPC, as a kernel's
 * EINVAL) leave the claim normal with a reason, and a restore that fails
 * is an error, never a VM at the idle claim. The real cgroup files are
 * checked in the lab (tests/kvm/test_pool.c).
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "check_main.h"

static char dir[64];

static void put(const char *file, const char *val)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "we");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(val, f);
	fclose(f);
}

static void refusing(const char *file)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	unlink(path);
	ck_assert_int_eq(symlink("/dev/full", path), 0);
}

static bool exists(const char *file)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

static const char *get(const char *file)
{
	static char buf[64];
	char path[600];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

/* A stand-in cgroup with the limit files, empty (a write to a regular
 * file does not replace what was there, as the cgroup's do); cpu.idle and
 * cpu.weight as asked. */
static void make_cgroup(struct vm_cgroup *cg, bool idle, bool weight)
{
	snprintf(dir, sizeof(dir), "/tmp/alcatraz-test-cgroup-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	put("memory.max", "");
	put("pids.max", "");
	put("cpu.max", "");
	if (idle)
		put("cpu.idle", "");
	if (weight)
		put("cpu.weight", "");
	memset(cg, 0, sizeof(*cg));
	snprintf(cg->path, sizeof(cg->path), "%s", dir);
}

static void remove_cgroup(void)
{
	static const char *const files[] = { "memory.max", "memory.swap.max", "pids.max",
					      "cpu.max", "cpu.idle", "cpu.weight" };
	char path[600];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}

START_TEST(idle_then_normal_with_the_limits)
{
	struct vm_cgroup cg;
	char why[300] = "";

	make_cgroup(&cg, true, true);
	ck_assert_int_eq(cg.claim, VM_CGROUP_CLAIM_NORMAL);
	ck_assert_int_eq(vm_cgroup_lower_claim(&cg, why, sizeof(why)), 0);
	ck_assert_int_eq(cg.claim, VM_CGROUP_CLAIM_IDLE);
	ck_assert_str_eq(get("cpu.idle"), "1");
	ck_assert_str_eq(get("cpu.weight"), "");
	/* The VM's limits: 16 MiB and 2 vCPUs, and the normal claim. */
	ck_assert_int_eq(vm_cgroup_set_limits(&cg, 16 << 20, 2), 0);
	ck_assert_int_eq(cg.claim, VM_CGROUP_CLAIM_NORMAL);
	ck_assert_str_eq(get("cpu.idle"), "0");
	ck_assert_str_eq(get("memory.max"), "83886080");
	ck_assert_str_eq(get("pids.max"), "10");
	ck_assert_str_eq(get("cpu.max"), "200000 100000");
	remove_cgroup();
}
END_TEST

/* A pool's process waits with the limits of one vCPU: a VM of one vCPU
 * writes only its memory limit, one of more writes the rest too. */
START_TEST(limits_already_there_are_not_written_again)
{
	struct vm_cgroup cg;

	make_cgroup(&cg, false, false);
	put("memory.swap.max", "");
	ck_assert_int_eq(vm_cgroup_set_limits(&cg, 0, 1), 0);
	ck_assert_str_eq(get("pids.max"), "9");
	ck_assert_str_eq(get("cpu.max"), "100000 100000");
	ck_assert_str_eq(get("memory.swap.max"), "0");
	put("pids.max", "");
	put("cpu.max", "");
	put("memory.swap.max", "");
	ck_assert_int_eq(vm_cgroup_set_limits(&cg, 16 << 20, 1), 0);
	ck_assert_str_eq(get("memory.max"), "83886080");
	ck_assert_str_eq(get("pids.max"), "");
	ck_assert_str_eq(get("cpu.max"), "");
	ck_assert_str_eq(get("memory.swap.max"), "");
	ck_assert_int_eq(vm_cgroup_set_limits(&cg, 16 << 20, 2), 0);
	ck_assert_str_eq(get("pids.max"), "10");
	ck_assert_str_eq(get("cpu.max"), "200000 100000");
	remove_cgroup();
}
END_TEST

START_TEST(weight_without_cpu_idle)
{
	struct vm_cgroup cg;
	char why[300] = "";

	make_cgroup(&cg, false, true);
	ck_assert_int_eq(vm_cgroup_lower_claim(&cg, why, sizeof(why)), 0);
	ck_assert_int_eq(cg.claim, VM_CGROUP_CLAIM_WEIGHT);
	ck_assert_str_eq(get("cpu.weight"), "1");
	ck_assert(!exists("cpu.idle"));
	ck_assert_int_eq(vm_cgroup_set_limits(&cg, 16 << 20, 1), 0);
	ck_assert_int_eq(cg.claim, VM_CGROUP_CLAIM_NORMAL);
	ck_assert_str_eq(get("cpu.weight"), "100");
	remove_cgroup();
}
END_TEST

/* cpu.idle refuses (a kernel's EINVAL): cpu.weight serves. */
START_TEST(weight_when_cpu_idle_refuses)
{
	struct vm_cgroup cg;
	char why[300] = "";

	make_cgroup(&cg, false, true);
	refusing("cpu.idle");
	ck_assert_int_eq(vm_cgroup_lower_claim(&cg, why, sizeof(why)), 0);
	ck_assert_int_eq(cg.claim, VM_CGROUP_CLAIM_WEIGHT);
	ck_assert_str_eq(get("cpu.weight"), "1");
	ck_assert_int_eq(vm_cgroup_set_limits(&cg, 16 << 20, 1), 0);
	ck_assert_str_eq(get("cpu.weight"), "100");
	remove_cgroup();
}
END_TEST

/* Neither file: the claim stays normal, the reason names both and the
 * cgroup, and the limits are still set without touching the claim. */
START_TEST(no_claim_files_leave_it_normal)
{
	struct vm_cgroup cg;
	char why[300] = "";

	make_cgroup(&cg, false, false);
	refusing("cpu.idle");
	ck_assert_int_lt(vm_cgroup_lower_claim(&cg, why, sizeof(why)), 0);
	ck_assert_int_eq(cg.claim, VM_CGROUP_CLAIM_NORMAL);
	ck_assert_msg(strstr(why, "cpu.idle (No space left on device)") &&
		      strstr(why, "cpu.weight (No such file or directory)") && strstr(why, dir),
		      "why: %s", why);
	ck_assert_int_eq(vm_cgroup_set_limits(&cg, 16 << 20, 1), 0);
	ck_assert_str_eq(get("memory.max"), "83886080");
	ck_assert(!exists("cpu.weight"));
	remove_cgroup();
}
END_TEST

/* A claim that cannot be restored fails the limits (the caller then gives
 * the VM a cgroup of its own), and stays recorded as lowered. */
START_TEST(failed_restore_is_an_error)
{
	struct vm_cgroup cg;
	char why[300] = "";

	make_cgroup(&cg, true, true);
	ck_assert_int_eq(vm_cgroup_lower_claim(&cg, why, sizeof(why)), 0);
	refusing("cpu.idle");
	ck_assert_int_eq(vm_cgroup_set_limits(&cg, 16 << 20, 1), -ENOSPC);
	ck_assert_int_eq(cg.claim, VM_CGROUP_CLAIM_IDLE);
	ck_assert_str_eq(get("memory.max"), "");
	remove_cgroup();
}
END_TEST

START_TEST(no_cgroup)
{
	struct vm_cgroup cg = { .path = "" };
	char why[300] = "";

	ck_assert_int_eq(vm_cgroup_lower_claim(&cg, why, sizeof(why)), -ENOENT);
	ck_assert_str_eq(why, "no cgroup");
	ck_assert_int_eq(cg.claim, VM_CGROUP_CLAIM_NORMAL);
	ck_assert_int_eq(vm_cgroup_set_limits(&cg, 16 << 20, 1), -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cgroup");
	TCase *tc = tcase_create("claim");

	tcase_add_test(tc, idle_then_normal_with_the_limits);
	tcase_add_test(tc, limits_already_there_are_not_written_again);
	tcase_add_test(tc, weight_without_cpu_idle);
	tcase_add_test(tc, weight_when_cpu_idle_refuses);
	tcase_add_test(tc, no_claim_files_leave_it_normal);
	tcase_add_test(tc, failed_restore_is_an_error);
	tcase_add_test(tc, no_cgroup);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
