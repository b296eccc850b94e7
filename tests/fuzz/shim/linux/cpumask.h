/* SPDX-License-Identifier: GPL-2.0-only */
/* See shim/linux/types.h. */
#ifndef FUZZ_SHIM_LINUX_CPUMASK_H
#define FUZZ_SHIM_LINUX_CPUMASK_H

#define NR_CPUS 8

#endif
