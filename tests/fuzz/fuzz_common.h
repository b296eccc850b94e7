/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * What the stand-alone fuzz targets (no fake VM, fuzz_vm.h has its own)
 * share: a finding check and a reader of the fuzzer's bytes. Included by
 * GPL-2.0-only targets (Hyper-box code) and LGPL ones alike.
 */
#ifndef ALCATRAZ_FUZZ_COMMON_H
#define ALCATRAZ_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A finding that is not a sanitizer report: one line, then abort, so
 * libFuzzer keeps the input. */
#define CHECK(cond, ...)                                                             \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "ALCATRAZ FUZZ FINDING: %s: ", #cond);       \
			fprintf(stderr, __VA_ARGS__);                                \
			fputc('\n', stderr);                                         \
			abort();                                                     \
		}                                                                    \
	} while (0)

/* The fuzzer's bytes, read front to back; past the end everything is 0. */
struct in {
	const uint8_t *p;
	size_t left;
};

/* The next n (<= 8) bytes as a little-endian integer. */
static inline uint64_t take(struct in *in, size_t n)
{
	uint64_t v = 0;

	if (n > in->left)
		n = in->left;
	memcpy(&v, in->p, n);
	in->p += n;
	in->left -= n;
	return v;
}

#endif
