/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kvm tests' helpers for the pool and the sandbox (pool_util.c):
 * children, /proc and cgroups. */
#ifndef ALCATRAZ_TEST_POOL_UTIL_H
#define ALCATRAZ_TEST_POOL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MAX_CHILDREN 64
#define KVM_VM_LINK "anon_inode:kvm-vm"
#define KVM_VCPU0_LINK "anon_inode:kvm-vcpu:0"

/* The children of every thread of this process (the pool's thread
 * starts processes too). */
int children(pid_t *out, int max);

/* Dead with its descriptors closed: a zombie whose other threads are gone
 * too. A pool process has parked threads; its leader turns zombie first,
 * and the socket closes only with the last thread's exit. */
bool is_gone(pid_t pid);

/* Polls (10 ms steps, up to 20 s) until the only children are size
 * waiting pool processes (each holding its VM made ahead), none of them
 * gone: the destroyed VMs' processes are reaped (the pool does that in
 * the background) and the replacements ready. */
void await_pool_full(int size, pid_t gone);

/* Polls (10 ms steps, up to 20 s) until this process has @want children. */
void await_children(int want);

/* The directory of pid's cgroup under /sys/fs/cgroup ("0::/PATH"). */
void cgroup_of(pid_t pid, char *dir, size_t len);

/* The number in dir/file. */
long long read_number(const char *dir, const char *file);

/* Polls (10 ms steps, up to 20 s) until path is gone. */
void await_gone(const char *path);

/* Entries named alcatraz-* in the caller's cgroup. */
int count_alcatraz_cgroups(void);

/* Whether pid is a child of this process (not reaped yet). */
bool is_child(pid_t pid);

/* cgroup v2 at /sys/fs/cgroup, in a mount namespace of the test's own. */
void mount_cgroup2(void);

/* Whether cgroup dir has the lowest CPU claim: cpu.idle 1 where the
 * kernel has it (5.15), else cpu.weight 1. */
bool claim_is_lowest(const char *dir);

/* The normal claim: not idle, the default weight. */
bool claim_is_normal(const char *dir);

/* Reads fd to its end into buf (NUL-terminated). */
void read_all(int fd, char *buf, size_t len);

/* Descriptors of pid that link to what (KVM_VM_LINK, KVM_VCPU0_LINK). */
int kvm_fds_of(pid_t pid, const char *what);

/* The pool's one waiting process, once it holds want VMs (10 ms steps, up to 20 s). */
pid_t await_waiting_vms(int want);

/* How often what occurs in s. */
int occurrences(const char *s, const char *what);

#endif
