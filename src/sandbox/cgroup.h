/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Resource limits for one VMM process through cgroup v2: memory (guest RAM
 * plus a margin for the VMM), number of tasks, and CPU time (one CPU per
 * vCPU). Applied where a cgroup v2 hierarchy with those controllers is
 * writable (a pure v2 host, a hybrid host's unified mount with controllers);
 * elsewhere the reason is reported and the VM runs without them, since
 * seccomp and RLIMIT_NPROC already bound what the VMM can spawn.
 *
 * A warm pool's process warms and waits in a cgroup of its own with the
 * lowest CPU claim (cpu.idle, or cpu.weight 1 on kernels before 5.15), so
 * that starting it never takes CPU from a running VM; the VM that takes it
 * gets the normal claim back with its limits.
 */
#ifndef ALCATRAZ_CGROUP_H
#define ALCATRAZ_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum vm_cgroup_claim {
	VM_CGROUP_CLAIM_NORMAL,
	VM_CGROUP_CLAIM_IDLE,   /* cpu.idle 1 */
	VM_CGROUP_CLAIM_WEIGHT, /* cpu.weight 1: no cpu.idle (Linux < 5.15) */
};

struct vm_cgroup {
	char path[512]; /* empty when no cgroup was made */
	enum vm_cgroup_claim claim;
	/* The vCPUs that pids.max and cpu.max were written for (0: not yet):
	 * a pool's process waits with the limits of one, which most VMs keep. */
	unsigned int vcpus;
};

/* Creates a cgroup with the limits under @parent_dir (NULL: the caller's
 * own cgroup) and opens it into *dirfd, for a process to be born in it.
 * 0 on success; -errno with @why set when limits cannot be applied here. */
int vm_cgroup_create(struct vm_cgroup *cg, const char *parent_dir, uint64_t mem_bytes,
		     unsigned int vcpus, int *dirfd, char *why, size_t why_len);
/* Gives a cgroup that vm_cgroup_create() made the lowest CPU claim
 * (cg->claim says which file). 0; -errno with @why set where neither file
 * can be written (the claim stays normal). */
int vm_cgroup_lower_claim(struct vm_cgroup *cg, char *why, size_t why_len);
/* Gives it back the normal claim (nothing to do if it was not lowered).
 * 0 or -errno (the claim stays lowered). */
int vm_cgroup_normal_claim(struct vm_cgroup *cg);
/* Sets the limits of a cgroup that vm_cgroup_create() made (a warm pool's
 * process waits in one with the smallest), after giving it back the normal
 * CPU claim if it was lowered. 0 or -errno. */
int vm_cgroup_set_limits(struct vm_cgroup *cg, uint64_t mem_bytes, unsigned int vcpus);
/* Opens a cgroup vm_cgroup_create() made, for a process to be born in it
 * (after its first one ended): the descriptor, or -errno. */
int vm_cgroup_open(const struct vm_cgroup *cg);
/* Removes the cgroup once its processes are gone. */
void vm_cgroup_remove(struct vm_cgroup *cg);

#endif
