/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Resource limits for one VMM process through cgroup v2: memory (guest RAM
 * plus a margin for the VMM), number of tasks, and CPU time (one CPU per
 * vCPU). Applied where a cgroup v2 hierarchy with those controllers is
 * writable (a pure v2 host, a hybrid host's unified mount with controllers);
 * elsewhere the reason is reported and the VM runs without them, since
 * seccomp and RLIMIT_NPROC already bound what the VMM can spawn.
 */
#ifndef ALCATRAZ_CGROUP_H
#define ALCATRAZ_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vm_cgroup {
	char path[512]; /* empty when no cgroup was made */
};

/* Creates a cgroup with the limits under @parent_dir (NULL: the caller's
 * own cgroup) and opens it into *dirfd, for a process to be born in it.
 * 0 on success; -errno with @why set when limits cannot be applied here. */
int vm_cgroup_create(struct vm_cgroup *cg, const char *parent_dir, uint64_t mem_bytes,
		     unsigned int vcpus, int *dirfd, char *why, size_t why_len);
/* Sets the limits of a cgroup that vm_cgroup_create() made (a warm pool's
 * process waits in one with the smallest). 0 or -errno. */
int vm_cgroup_set_limits(const struct vm_cgroup *cg, uint64_t mem_bytes, unsigned int vcpus);
/* Removes the cgroup once its processes are gone. */
void vm_cgroup_remove(struct vm_cgroup *cg);

#endif
