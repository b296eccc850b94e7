/* SPDX-License-Identifier: GPL-2.0-only */
/* See shim/linux/types.h. */
#ifndef FUZZ_SHIM_LINUX_COMPILER_H
#define FUZZ_SHIM_LINUX_COMPILER_H

#define notrace __attribute__((__no_instrument_function__))
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif
