/* SPDX-License-Identifier: (GPL-2.0-only OR LGPL-2.1-or-later) */
/*
 * Hyper-box escape monitor: the user-space ABI of /dev/hyperbox.
 * Shared by the kernel module and libalcatraz (src/lib/hyperbox_register.c),
 * so it uses only fixed-size types.
 */
#ifndef HYPERBOX_MONITOR_ABI_H
#define HYPERBOX_MONITOR_ABI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define HYPERBOX_DEVICE		"/dev/hyperbox"

/*
 * Register the calling process as a VMM.  Only ever adds restrictions (no
 * new process, no exec, no credential gain for the caller and all its
 * threads, and no usermode helper from its kernel context), and only for
 * the caller itself; it is refused unless the caller is single-threaded,
 * is PID 1 of a PID namespace of its own (the jailed VMM libalcatraz
 * starts), and has not created a KVM VM yet (no guest code has run).
 */
struct hyperbox_register {
	__u32 size;		/* sizeof(struct hyperbox_register) */
	__u32 flags;		/* 0 */
	__u32 mode;		/* out: 1 logging only, 2 enforcing */
	__u32 reserved[5];	/* 0 */
};
#define HYPERBOX_IOC_REGISTER_SELF	_IOWR('H', 1, struct hyperbox_register)

#endif
