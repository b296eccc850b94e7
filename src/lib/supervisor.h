/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM whose VMM runs in a jailed child process. The library keeps a
 * socket to it and nothing else: a compromised VMM can neither reach the
 * embedding program's memory nor do more than its seccomp lists allow.
 */
#ifndef ALCATRAZ_SUPERVISOR_H
#define ALCATRAZ_SUPERVISOR_H

#include <sys/types.h>

#include "alcatraz/alcatraz.h"

struct vm_config;
struct jailed_vm;

int jailed_create(const struct vm_config *vc, struct jailed_vm **out) __attribute__((warn_unused_result));
int jailed_start(struct jailed_vm *j);
int jailed_wait(struct jailed_vm *j, int timeout_ms);
int jailed_kill(struct jailed_vm *j);
int jailed_result(struct jailed_vm *j, struct alcatraz_result *res);
void jailed_destroy(struct jailed_vm *j);

#endif
