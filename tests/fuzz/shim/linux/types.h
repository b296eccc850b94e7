/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User-space stand-ins for the kernel headers Hyper-box's host code
 * includes, so decode.c and nested_walk.c build unchanged in the fuzz
 * targets. Only what those files use; same meaning as in the kernel.
 */
#ifndef FUZZ_SHIM_LINUX_TYPES_H
#define FUZZ_SHIM_LINUX_TYPES_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#endif
