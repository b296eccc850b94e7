/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test builds only (alcatraz-vmm-testhooks, -DALCATRAZ_TEST_HOOKS): the VMM
 * misbehaves on request once the guest runs, so the sandbox tests can watch
 * each act being stopped. Never compiled into the installed alcatraz-vmm.
 */
#ifndef ALCATRAZ_VMM_TEST_HOOKS_H
#define ALCATRAZ_VMM_TEST_HOOKS_H

#include "vmm.h"

#ifdef ALCATRAZ_TEST_HOOKS
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void test_hook_after_start(struct vm *vm)
{
	const char *act = getenv("ALCATRAZ_TEST_VIOLATE");
	if (!act)
		return;
	usleep(20000);
	if (!strcmp(act, "execve"))
		execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
	else if (!strcmp(act, "socket"))
		(void)!socket(AF_INET, SOCK_STREAM, 0);
	else if (!strcmp(act, "open"))
		(void)!open("/etc/passwd", O_RDONLY);
	else if (!strcmp(act, "fork"))
		(void)!fork();
}

static inline void test_hook_in_jail(struct vm *vm)
{
	struct stat st;
	if (!getenv("ALCATRAZ_TEST_PROBE_FS"))
		return;
	vm_log(vm, LOG_ERR, "jail probe: /etc/passwd %s, /dev/kvm %s, /proc %s",
	       stat("/etc/passwd", &st) ? strerror(errno) : "VISIBLE",
	       stat("/dev/kvm", &st) ? strerror(errno) : "VISIBLE",
	       stat("/proc/self", &st) ? strerror(errno) : "VISIBLE");
}
#else
static inline void test_hook_after_start(struct vm *vm) { (void)vm; }
static inline void test_hook_in_jail(struct vm *vm) { (void)vm; }
#endif

#endif
