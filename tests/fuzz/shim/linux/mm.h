/* SPDX-License-Identifier: GPL-2.0-only */
/* See shim/linux/types.h. */
#ifndef FUZZ_SHIM_LINUX_MM_H
#define FUZZ_SHIM_LINUX_MM_H

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#endif
