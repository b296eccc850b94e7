// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What test_pool and test_sandbox look at from outside the library: this process's
 * children, their descriptors and state in /proc, and cgroups.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "pool_util.h"

/* The children of every thread of this process (the pool's thread
 * starts processes too). */
int children(pid_t *out, int max)
{
	char path[300];
	struct dirent *e;
	int n = 0;
	DIR *d = opendir("/proc/self/task");

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
		FILE *f = fopen(path, "r");
		int pid;
		while (f && n < max && fscanf(f, "%d", &pid) == 1)
			out[n++] = pid;
		if (f)
			fclose(f);
	}
	closedir(d);
	return n;
}

/* Dead with its descriptors closed: a zombie whose other threads are gone
 * too. A pool process has parked threads; its leader turns zombie first,
 * and the socket closes only with the last thread's exit. While its parent
 * reaps it, the zombie shows as X (dead) until its /proc entry goes. */
bool is_gone(pid_t pid)
{
	char path[64], line[128], state = 0;
	int threads = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true; /* reaped already */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "State: %c", &state) == 1)
			continue;
		sscanf(line, "Threads: %d", &threads);
	}
	fclose(f);
	return state == 'X' || (state == 'Z' && threads == 1);
}

/* Polls (10 ms steps, up to 20 s) until the only children are size
 * waiting pool processes (each holding its VM made ahead), none of them
 * gone: the destroyed VMs' processes are reaped (the pool does that in
 * the background) and the replacements ready. */
void await_pool_full(int size, pid_t gone)
{
	pid_t kids[MAX_CHILDREN];
	bool full = false;

	for (int i = 0; i < 2000 && !full; i++) {
		int n = children(kids, MAX_CHILDREN);
		full = n == size;
		for (int k = 0; k < n && full; k++)
			full = kids[k] != gone && kvm_fds_of(kids[k], KVM_VM_LINK) == 1;
		if (!full)
			usleep(10000);
	}
	ck_assert_msg(full, "the pool is not full again: %d children",
		      children(kids, MAX_CHILDREN));
}

/* Polls (10 ms steps, up to 20 s) until this process has @want children. */
void await_children(int want)
{
	pid_t kids[MAX_CHILDREN];
	int n = -1;

	for (int i = 0; i < 2000 && (n = children(kids, MAX_CHILDREN)) != want; i++)
		usleep(10000);
	ck_assert_int_eq(n, want);
}

/* The directory of pid's cgroup under /sys/fs/cgroup ("0::/PATH"). */
void cgroup_of(pid_t pid, char *dir, size_t len)
{
	char path[64], line[512] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	ck_assert_msg(!strncmp(line, "0::/", 4), "not a cgroup v2 line: %s", line);
	snprintf(dir, len, "/sys/fs/cgroup%s", line + 3);
}

long long read_number(const char *dir, const char *file)
{
	char path[1200], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	return atoll(buf);
}

/* Polls (10 ms steps, up to 20 s) until path is gone. */
void await_gone(const char *path)
{
	for (int i = 0; i < 2000 && access(path, F_OK) == 0; i++)
		usleep(10000);
	ck_assert_msg(access(path, F_OK) != 0, "%s is left after the VM", path);
}

/* Entries named alcatraz-* in the caller's cgroup. */
int count_alcatraz_cgroups(void)
{
	char dir[1024];
	struct dirent *e;
	int n = 0;
	DIR *d;

	cgroup_of(getpid(), dir, sizeof(dir));
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "alcatraz-", 9);
	closedir(d);
	return n;
}

/* cgroup v2 at /sys/fs/cgroup, in a mount namespace of the test's own. */
void mount_cgroup2(void)
{
	struct statfs sf;

	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	if (statfs("/sys/fs/cgroup", &sf) || sf.f_type != CGROUP2_SUPER_MAGIC)
		ck_assert_int_eq(mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL), 0);
}

bool is_child(pid_t pid)
{
	pid_t kids[MAX_CHILDREN];
	int n = children(kids, MAX_CHILDREN);

	for (int i = 0; i < n; i++)
		if (kids[i] == pid)
			return true;
	return false;
}

/* Whether cgroup dir has the lowest CPU claim: cpu.idle 1 where the
 * kernel has it (5.15), else cpu.weight 1. */
bool claim_is_lowest(const char *dir)
{
	char path[1200];

	snprintf(path, sizeof(path), "%s/cpu.idle", dir);
	if (access(path, F_OK) == 0)
		return read_number(dir, "cpu.idle") == 1;
	return read_number(dir, "cpu.weight") == 1;
}

/* The normal claim: not idle, the default weight. */
bool claim_is_normal(const char *dir)
{
	char path[1200];

	snprintf(path, sizeof(path), "%s/cpu.idle", dir);
	if (access(path, F_OK) == 0 && read_number(dir, "cpu.idle") != 0)
		return false;
	return read_number(dir, "cpu.weight") == 100;
}

/* Reads fd to its end into buf (NUL-terminated). */
void read_all(int fd, char *buf, size_t len)
{
	size_t total = 0;
	ssize_t n;

	while (total < len - 1 && (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += (size_t)n;
	buf[total] = '\0';
}

/* Descriptors of pid that link to what (KVM_VM_LINK, KVM_VCPU0_LINK). */
int kvm_fds_of(pid_t pid, const char *what)
{
	char dir[64], path[400], link[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		ssize_t len;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0) {
			link[len] = '\0';
			n += !strcmp(link, what);
		}
	}
	closedir(d);
	return n;
}

/* The pool's one waiting process, once it holds want VMs (10 ms steps, up to 20 s). */
pid_t await_waiting_vms(int want)
{
	pid_t kids[MAX_CHILDREN];
	int n = 0, vms = -1;

	/* Destroyed VMs' processes are reaped by the pool in the background. */
	for (int i = 0; i < 2000; i++) {
		n = children(kids, MAX_CHILDREN);
		if (n == 1 && (vms = kvm_fds_of(kids[0], KVM_VM_LINK)) == want)
			break;
		usleep(10000);
	}
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(vms, want);
	return kids[0];
}

/* How often what occurs in s. */
int occurrences(const char *s, const char *what)
{
	int n = 0;

	for (const char *at = s; (at = strstr(at, what)); at += strlen(what))
		n++;
	return n;
}
