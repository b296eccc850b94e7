/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef ALCATRAZ_HYPERBOX_REGISTER_H
#define ALCATRAZ_HYPERBOX_REGISTER_H

/*
 * Register the calling process, the jailed VMM, with Hyper-box's escape
 * monitor when Hyper-box is loaded.  Call it in the VMM process before it
 * creates its VM: Hyper-box refuses a registration after guest code could
 * have run, from a process that is not PID 1 of its own PID namespace, or
 * from a multi-threaded one.  Writes one line to log_fd (if >= 0) saying
 * whether the VM is protected.
 *
 * Returns 1 when registered (protected), 0 when Hyper-box or its monitor
 * is not loaded, -errno when Hyper-box refused.  Never fatal: the VM runs
 * either way, as it would on a host without Hyper-box.
 */
int hyperbox_register_self(int log_fd);

#endif
