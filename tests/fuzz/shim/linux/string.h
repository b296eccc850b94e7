/* SPDX-License-Identifier: GPL-2.0-only */
/* See shim/linux/types.h. */
#ifndef FUZZ_SHIM_LINUX_STRING_H
#define FUZZ_SHIM_LINUX_STRING_H

#include <string.h>

#endif
