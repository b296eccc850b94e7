// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

/* What the VMM itself may use beyond guest RAM: its code, thread stacks,
 * device buffers and the kernel's page tables for guest memory. */
#define VMM_MEM_MARGIN (64ULL << 20)
#define VMM_TASKS_MARGIN 8
/* cpu.weight: the lowest, and the kernel's default (a new cgroup's). */
#define CPU_WEIGHT_LOWEST "1"
#define CPU_WEIGHT_NORMAL "100"

static int write_str(const char *dir, const char *file, const char *val)
{
	char path[2048];
	int fd, ret = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(val))
		ret = -EIO;
	close(fd);
	return ret;
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* The cgroup2 mount point, from /proc/self/mountinfo. */
static int find_cgroup2(char *mnt, size_t len)
{
	char line[1024];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - cgroup2 ");
		char point[512];
		if (!sep)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", point) == 1) {
			snprintf(mnt, len, "%s", point);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Whether the space-separated list names word ("cpu" is not "cpuset"). */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static bool has_controllers(const char *dir, const char *file)
{
	char path[2048], buf[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_str(path, buf, sizeof(buf)))
		return false;
	return has_word(buf, "memory") && has_word(buf, "pids") && has_word(buf, "cpu");
}

/* Our own cgroup's directory, where VMs' cgroups go by default. */
static int own_cgroup(char *dir, size_t len, char *why, size_t why_len)
{
	char mnt[512], self[1024] = "", line[1024];
	FILE *f;

	if (find_cgroup2(mnt, sizeof(mnt))) {
		snprintf(why, why_len, "no cgroup v2 hierarchy is mounted");
		return -ENOENT;
	}
	f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			snprintf(self, sizeof(self), "%s", line + 3);
			self[strcspn(self, "\n")] = 0;
		}
	if (f)
		fclose(f);
	if ((size_t)snprintf(dir, len, "%s%s", mnt, strcmp(self, "/") ? self : "") >= len) {
		snprintf(why, why_len, "cgroup path too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

/* The limits; what cg holds already for these vCPUs is not written again
 * (each write is three system calls on a VM's create path). */
static int set_limits(struct vm_cgroup *cg, uint64_t mem_bytes, unsigned int vcpus)
{
	const char *dir = cg->path;
	char val[64];
	int ret;

	snprintf(val, sizeof(val), "%llu", (unsigned long long)(mem_bytes + VMM_MEM_MARGIN));
	if ((ret = write_str(dir, "memory.max", val)))
		return ret;
	if (cg->vcpus == vcpus)
		return 0;
	/* Guest RAM must not be pushed to swap behind the limit's back; the
	 * file is absent without swap accounting, which is fine. */
	if (!cg->vcpus)
		(void)write_str(dir, "memory.swap.max", "0");
	cg->vcpus = 0;
	snprintf(val, sizeof(val), "%u", vcpus + VMM_TASKS_MARGIN);
	if ((ret = write_str(dir, "pids.max", val)))
		return ret;
	snprintf(val, sizeof(val), "%u 100000", vcpus * 100000);
	if ((ret = write_str(dir, "cpu.max", val)))
		return ret;
	cg->vcpus = vcpus;
	return 0;
}

int vm_cgroup_lower_claim(struct vm_cgroup *cg, char *why, size_t len)
{
	int idle, weight;

	if (!cg->path[0]) {
		snprintf(why, len, "no cgroup");
		return -ENOENT;
	}
	/* cpu.idle: the group is scheduled as SCHED_IDLE against its siblings
	 * (and a waking VM preempts it); cpu.weight 1 is the nearest older
	 * kernels have. */
	idle = write_str(cg->path, "cpu.idle", "1");
	if (!idle) {
		cg->claim = VM_CGROUP_CLAIM_IDLE;
		return 0;
	}
	weight = write_str(cg->path, "cpu.weight", CPU_WEIGHT_LOWEST);
	if (!weight) {
		cg->claim = VM_CGROUP_CLAIM_WEIGHT;
		return 0;
	}
	snprintf(why, len, "cannot write cpu.idle (%s) or cpu.weight (%s) in %s", strerror(-idle),
		 strerror(-weight), cg->path);
	return weight;
}

int vm_cgroup_normal_claim(struct vm_cgroup *cg)
{
	int ret = 0;

	if (cg->claim == VM_CGROUP_CLAIM_IDLE)
		ret = write_str(cg->path, "cpu.idle", "0");
	else if (cg->claim == VM_CGROUP_CLAIM_WEIGHT)
		ret = write_str(cg->path, "cpu.weight", CPU_WEIGHT_NORMAL);
	if (!ret)
		cg->claim = VM_CGROUP_CLAIM_NORMAL;
	return ret;
}

int vm_cgroup_set_limits(struct vm_cgroup *cg, uint64_t mem_bytes, unsigned int vcpus)
{
	int ret;

	if (!cg->path[0])
		return -ENOENT;
	ret = vm_cgroup_normal_claim(cg);
	return ret ? ret : set_limits(cg, mem_bytes, vcpus);
}

int vm_cgroup_create(struct vm_cgroup *cg, const char *parent_dir, uint64_t mem_bytes,
		     unsigned int vcpus, int *dirfd, char *why, size_t len)
{
	static unsigned long seq;
	char parent[1600];
	int ret;

	cg->path[0] = 0;
	cg->claim = VM_CGROUP_CLAIM_NORMAL;
	cg->vcpus = 0;
	*dirfd = -1;
	if (parent_dir)
		snprintf(parent, sizeof(parent), "%s", parent_dir);
	else if ((ret = own_cgroup(parent, sizeof(parent), why, len)))
		return ret;
	/* The controllers must be delegated to our children; enabling them
	 * ourselves only works where the no-internal-process rule allows. */
	if (!has_controllers(parent, "cgroup.subtree_control") &&
	    write_str(parent, "cgroup.subtree_control", "+memory +pids +cpu") < 0 &&
	    !has_controllers(parent, "cgroup.subtree_control")) {
		snprintf(why, len, "the memory, pids and cpu controllers are not available in %s",
			 parent);
		return -EOPNOTSUPP;
	}
	ret = snprintf(cg->path, sizeof(cg->path), "%s/alcatraz-vm-%d-%lu", parent, (int)getpid(),
		       __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	if (ret < 0 || (size_t)ret >= sizeof(cg->path)) {
		cg->path[0] = 0;
		snprintf(why, len, "cgroup path too long");
		return -ENAMETOOLONG;
	}
	if (mkdir(cg->path, 0700) < 0) {
		ret = -errno;
		snprintf(why, len, "mkdir %s: %s", cg->path, strerror(-ret));
		cg->path[0] = 0;
		return ret;
	}
	ret = set_limits(cg, mem_bytes, vcpus);
	if (!ret && (ret = vm_cgroup_open(cg)) >= 0) {
		*dirfd = ret;
		ret = 0;
	}
	if (ret) {
		snprintf(why, len, "setting limits in %s: %s", cg->path, strerror(-ret));
		rmdir(cg->path);
		cg->path[0] = 0;
	}
	return ret;
}

int vm_cgroup_open(const struct vm_cgroup *cg)
{
	/* For clone3's CLONE_INTO_CGROUP: the VMM is born inside it. */
	int fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

void vm_cgroup_remove(struct vm_cgroup *cg)
{
	if (!cg->path[0])
		return;
	/* The kernel refuses while tasks remain; they are gone by now. */
	for (int i = 0; i < 50 && rmdir(cg->path) < 0 && errno == EBUSY; i++)
		usleep(2000);
	cg->path[0] = 0;
	cg->claim = VM_CGROUP_CLAIM_NORMAL;
	cg->vcpus = 0;
}
