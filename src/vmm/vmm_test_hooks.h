/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test builds only (alcatraz-vmm-testhooks, -DALCATRAZ_TEST_HOOKS): the VMM
 * misbehaves on request once the guest runs, so the sandbox tests can watch
 * each act being stopped, or ends before its VM is built, so the library's
 * tests can watch how that is reported. Never compiled into the installed
 * alcatraz-vmm.
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

/* ALCATRAZ_TEST_CONFIG_DIE=exit|crash: ends once its configuration is in,
 * before CREATED: with status 1, or by a real SIGSEGV (a fault, which even
 * the init of a PID namespace cannot ignore). */
static inline void test_hook_after_config(void)
{
	const char *act = getenv("ALCATRAZ_TEST_CONFIG_DIE");
	volatile int *volatile nowhere = NULL;

	if (act && !strcmp(act, "exit"))
		_exit(1);
	if (act && !strcmp(act, "crash"))
		*nowhere = 0;
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

/* ALCATRAZ_TEST_VCPU_START_DELAY_MS=N holds the starter N ms between
 * creating each application processor's thread and marking it started,
 * the window in which a VM can end before vm_start() returns. */
static inline void test_hook_vcpu_started(const struct vcpu *vcpu)
{
	const char *ms = getenv("ALCATRAZ_TEST_VCPU_START_DELAY_MS");

	if (ms && vcpu->index > 0)
		usleep((useconds_t)strtoul(ms, NULL, 10) * 1000);
}

/* ALCATRAZ_TEST_IGNORE_TIMEOUT=1 makes the watchdog let the VM run on past
 * its timeout, as a vCPU that never leaves KVM_RUN would, for the
 * library's backstop to be seen killing the VMM. */
static inline bool test_hook_ignore_timeout(void)
{
	return getenv("ALCATRAZ_TEST_IGNORE_TIMEOUT") != NULL;
}
#else
static inline void test_hook_vcpu_started(const struct vcpu *vcpu) { (void)vcpu; }
static inline bool test_hook_ignore_timeout(void) { return false; }
static inline void test_hook_after_start(struct vm *vm) { (void)vm; }
static inline void test_hook_after_config(void) {}
static inline void test_hook_in_jail(struct vm *vm) { (void)vm; }
#endif

#endif
