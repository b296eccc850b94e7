/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-thread seccomp allow lists for the VMM. Each VMM thread installs the
 * list for its role before it touches guest state; anything not listed traps
 * into a reporter that names the system call and then kills the process with
 * SIGSYS (see sandbox_report_violations()).
 */
#ifndef ALCATRAZ_SANDBOX_H
#define ALCATRAZ_SANDBOX_H

enum vmm_thread_role {
	VMM_THREAD_VCPU,    /* KVM_RUN loop; device register emulation */
	VMM_THREAD_EVENT,   /* virtio queues, host stdio, timers */
	VMM_THREAD_IO,      /* disk I/O engine */
	VMM_THREAD_CONTROL, /* the jailed VMM's main thread: talks to libalcatraz */
	VMM_THREAD_WATCHDOG, /* ends the VM at its timeout */
	VMM_THREAD_ROLES,
};

/* Compiles every role's filter ahead, for seccomp_install() to load as is
 * (otherwise it builds its role's filter each time). Only while the process
 * has one thread: a warm pool's process does it while it waits. */
void seccomp_prepare(void);
/* Installs the filter for @role on the calling thread only. 0 or -errno
 * (also the error of a filter that could not be compiled). */
int seccomp_install(enum vmm_thread_role role);
/* How many system calls @role may make (for --seccomp-report). */
int seccomp_allowed_count(enum vmm_thread_role role);
const char *seccomp_role_name(enum vmm_thread_role role);

/* Installs the SIGSYS reporter: a trapped call writes its number to @fd as
 * "SANDBOX <nr>\n" and the process then dies by SIGSYS. */
int sandbox_report_violations(int fd);
/* The name of a system call number on this architecture (static storage). */
const char *seccomp_syscall_name(int nr);

#endif
