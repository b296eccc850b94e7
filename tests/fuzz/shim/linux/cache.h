/* SPDX-License-Identifier: GPL-2.0-only */
/* See shim/linux/types.h. */
#ifndef FUZZ_SHIM_LINUX_CACHE_H
#define FUZZ_SHIM_LINUX_CACHE_H

#define ____cacheline_aligned __attribute__((__aligned__(64)))

#endif
