/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The jail a VMM process enters once it has opened everything it needs:
 * fresh mount, network, IPC and UTS namespaces (and a user namespace when not
 * root), an empty tmpfs as its root, no capabilities, no_new_privs, and a
 * bounded number of files. Every step fails closed.
 */
#ifndef ALCATRAZ_JAIL_H
#define ALCATRAZ_JAIL_H

#include <stddef.h>

/* Step 1, while the process is still single-threaded (unshare of mount
 * namespaces requires it): new namespaces. Host files stay reachable until
 * step 2, so the VM can still open its images. On failure returns -errno and
 * writes which step failed into @why. */
int jail_unshare(char *why, size_t why_len);

/* Step 1b, which needs no configuration (a warm pool's process does it
 * while it waits): the capability bounding and ambient sets emptied,
 * no_new_privs, no core dumps. jail_enter() does it if nobody did, and
 * fails with its error if it failed. 0 or -errno. */
int jail_prepare(void);

/* Step 2, once everything is open: the empty root, rlimits, no_new_privs,
 * non-dumpable, and no capabilities (for the calling thread and every thread
 * it creates afterwards). */
int jail_enter(char *why, size_t why_len);

/* Capabilities are a thread's own: jail_enter() empties the calling
 * thread's, and a thread that already exists (the device thread, threads a
 * warm pool's process starts ahead) empties its own with this, once
 * jail_prepare() emptied the bounding set it inherited. 0 or -errno. */
int jail_drop_thread_capabilities(void);

/* After the VMM's threads exist: no further processes or threads. */
int jail_forbid_new_tasks(void);

#endif
