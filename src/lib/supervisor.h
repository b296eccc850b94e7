/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM whose VMM is its own process (alcatraz-vmm, exec'd, jailed unless
 * the caller opted out). The library keeps a socket and a pidfd to it and
 * nothing else: a compromised VMM can neither reach the embedding program's
 * memory nor do more than its seccomp lists allow.
 *
 * jailed_wait, jailed_result, jailed_kill and the jailed_exec_* calls may
 * run concurrently from any threads; jailed_start once; jailed_destroy
 * alone, last.
 */
#ifndef ALCATRAZ_SUPERVISOR_H
#define ALCATRAZ_SUPERVISOR_H

#include <sys/types.h>

#include "alcatraz/alcatraz.h"
#include "vmm_protocol.h"

struct jailed_vm;

int jailed_create(const struct alcatraz_config *cfg, struct jailed_vm **out) __attribute__((warn_unused_result));
int jailed_start(struct jailed_vm *j);
int jailed_wait(struct jailed_vm *j, int timeout_ms);
int jailed_kill(struct jailed_vm *j);
int jailed_result(struct jailed_vm *j, struct alcatraz_result *res);
/* Execs (lib/exec.c): req and the descriptors as EXEC carries them (they
 * stay the caller's); *id the VMM's name for it. */
int jailed_exec_start(struct jailed_vm *j, const struct vmm_exec_req *req, const int *fds,
		      unsigned int nfds, uint32_t *id);
/* 0 and *res once it ended; -ETIMEDOUT; -ENOENT: no such id (or taken
 * already); -ESRCH: the VM ended first. */
int jailed_exec_wait(struct jailed_vm *j, uint32_t id, int timeout_ms,
		     struct vmm_exec_done *res);
/* -ESRCH: no running exec of that id. */
int jailed_exec_signal(struct jailed_vm *j, uint32_t id, int signo);
/* -ESRCH: no running exec of that id. */
int jailed_exec_resize(struct jailed_vm *j, uint32_t id, uint16_t rows, uint16_t cols);
/* Snapshot (issue 18) into the two files (they stay the caller's); why:
 * the VMM's one line when it refused. */
int jailed_snapshot(struct jailed_vm *j, int state_fd, int mem_fd, char *why, size_t why_len);
/* The VMM's pidfd: readable once it exited (the VM ended). */
int jailed_fd(struct jailed_vm *j);
/* The VMM's pid in the caller's PID namespace (tests, logs). */
pid_t jailed_pid(struct jailed_vm *j);
void jailed_destroy(struct jailed_vm *j);

/* handle.c: the VMM process behind a public handle. */
struct jailed_vm *vm_jailed(struct alcatraz_vm *h);

#endif
