/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Started alcatraz-vmm processes that have greeted and wait for their
 * configuration: what supervisor.c starts for one VM and what a warm pool
 * (pool.c) keeps ready for the next ones.
 */
#ifndef ALCATRAZ_POOL_H
#define ALCATRAZ_POOL_H

#include <stdbool.h>
#include <sys/types.h>

#include "alcatraz/alcatraz.h"
#include "cgroup.h"

struct vmm_proc {
	int pidfd;
	pid_t pid;   /* in the caller's PID namespace; not reaped while pidfd is open */
	int sock;
	/* A pool's process waits in a cgroup of its own (the smallest limits),
	 * so that a VM of the default parent only sets its limits there: a
	 * move through cgroup.procs costs the kernel an RCU grace period.
	 * Empty when none was made; removed with the process. */
	struct vm_cgroup cg;
};

/* vmm_proc.c: clone3 (CLONE_NEWPID, into cg_fd's cgroup when >= 0) and
 * exec of path for one VM, then its HELLO checked. Its stderr is log_fd
 * (or /dev/null), where failures are also told. 0, or -errno and nothing
 * left of it. */
int vmm_proc_start(const char *path, int cg_fd, int log_fd, struct vmm_proc *p);
/* vmm_proc_start() in two: the clone3 and exec (0, or -errno and nothing
 * left), then the wait for its HELLO (0 or -errno; the caller discards).
 * @pool execs it with "--pool" (it makes its namespaces before its
 * configuration); a pool's process with @irqchip makes its VM with one
 * ahead. */
int vmm_proc_spawn(const char *path, bool pool, bool irqchip, int cg_fd, int log_fd,
		   struct vmm_proc *p);
int vmm_proc_greeted(const struct vmm_proc *p, const char *path, int log_fd);
/* vmm_proc_start() of a VM's VMM (not a pool's) in cg, a cgroup
 * vm_cgroup_create() made (none when its path is empty). */
int vmm_proc_start_in(const char *path, const struct vm_cgroup *cg, int log_fd,
		      struct vmm_proc *p);
/* Kills, reaps and closes (a process that never got a VM), and removes its
 * cgroup if it has one. */
void vmm_proc_discard(struct vmm_proc *p);
/* pidfd_send_signal: 0 or -1 with errno. */
int vmm_pidfd_signal(int pidfd, int sig);
/* Waits for the process to end and reaps it: its exit status, or 128+n
 * for signal n. */
int vmm_pidfd_reap(int pidfd);

/* pool.c: a ready process of pool, when it runs path; the pool refills in
 * the background (at the lowest CPU claim: p->cg.claim, which the caller
 * restores with the VM's limits). The first VM of a pool handed a process
 * with the normal claim gets a debug line on log_fd saying why. 0, or
 * -EAGAIN (none ready, another binary): start one. */
int pool_take(struct alcatraz_pool *pool, const char *path, int log_fd, struct vmm_proc *p);
/* The irqchip choice of a configuration that names the pool: the processes
 * it starts from now on make their VM for that choice. */
void pool_note_irqchip(struct alcatraz_pool *pool, bool irqchip);
/* Moves a pool's process into the VM's cgroup (cgroup.procs of cg_fd). */
int pool_proc_into_cgroup(const struct vmm_proc *p, int cg_fd);
/* A VM made from the pool holds it (pool_get) until it is destroyed
 * (pool_put): the last of the caller's free and those frees the pool. */
void pool_get(struct alcatraz_pool *pool);
void pool_put(struct alcatraz_pool *pool);
/* A destroyed VM's process, killed already: the pool's thread reaps it and
 * removes cg, and closes pidfd (both the pool's now). 0, or -EAGAIN (the
 * pool is being freed, or too many wait): the caller does it. */
int pool_retire(struct alcatraz_pool *pool, int pidfd, const struct vm_cgroup *cg);
/* Whether a process pool_take() handed out, which then ended before
 * CREATED with status (vmm_pidfd_reap's), was killed from outside while it
 * waited (config_sent: its CONFIG had left). If so the VM's log says so,
 * and the caller starts a fresh VMM once. */
bool pool_proc_killed_waiting(int status, bool config_sent, int log_fd);

#endif
