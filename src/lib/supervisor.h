/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM whose VMM is its own process (alcatraz-vmm, exec'd, jailed unless
 * the caller opted out). The library keeps a socket and a pidfd to it and
 * nothing else: a compromised VMM can neither reach the embedding program's
 * memory nor do more than its seccomp lists allow.
 *
 * jailed_wait, jailed_result and jailed_kill may run concurrently from any
 * threads; jailed_start once; jailed_destroy alone, last.
 */
#ifndef ALCATRAZ_SUPERVISOR_H
#define ALCATRAZ_SUPERVISOR_H

#include <sys/types.h>

#include "alcatraz/alcatraz.h"

struct jailed_vm;

int jailed_create(const struct alcatraz_config *cfg, struct jailed_vm **out) __attribute__((warn_unused_result));
int jailed_start(struct jailed_vm *j);
int jailed_wait(struct jailed_vm *j, int timeout_ms);
int jailed_kill(struct jailed_vm *j);
int jailed_result(struct jailed_vm *j, struct alcatraz_result *res);
/* The VMM's pidfd: readable once it exited (the VM ended). */
int jailed_fd(struct jailed_vm *j);
/* The VMM's pid in the caller's PID namespace (tests, logs). */
pid_t jailed_pid(struct jailed_vm *j);
void jailed_destroy(struct jailed_vm *j);

#endif
