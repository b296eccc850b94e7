/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Threads a warm pool's process starts while it waits for its
 * configuration: one each for the roles every sandboxed VM has (the device
 * thread, vCPU 0, the watchdog), each confined at birth exactly as the
 * thread it stands in for would be at its start, and parked until the VM
 * hands it its work. Starting a thread (clone, its seccomp filter, a turn
 * of the scheduler) is then off the way from CONFIG to the first exit.
 */
#ifndef ALCATRAZ_PRESTART_H
#define ALCATRAZ_PRESTART_H

#include <pthread.h>
#include <stddef.h>

#include "sandbox.h"

/* Starts the parked threads and waits until each is confined or failed.
 * Only after jail_unshare() and jail_prepare() succeeded (namespaces, the
 * bounding set and no_new_privs are what a thread inherits) and after
 * seccomp_prepare(). A thread that cannot be created is simply not there:
 * its role's thread is then started as in any VMM. */
void prestart_threads(void);

/* 0, or why a parked thread could not be confined (the VM must not be
 * made: the caller reports @why to its configuration). */
int prestart_check(char *why, size_t len);

/* Hands the parked thread of @role fn(arg): 1 and *thread set (it is
 * confined with @role's filter and runs fn at once), 0 if there is none
 * (start the thread as usual), or the error of one that failed its
 * confinement (fail closed: do not start the role's work). */
int prestart_take(enum vmm_thread_role role, void *(*fn)(void *), void *arg,
		  pthread_t *thread);

#endif
