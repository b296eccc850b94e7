/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The machine Hyper-box's host code sees, for the fuzz targets: L1's
 * physical memory is a buffer (gpa 0 = its first byte) mapped through
 * hv_gmem_map() with the same refusals as gmem.c (page-crossing, beyond
 * npt_top, arena, hidden ranges, writes to protected ranges), and L1's
 * virtual memory at the instruction pointer is `code` up to a page end.
 */
#ifndef FUZZ_HV_SHIM_H
#define FUZZ_HV_SHIM_H

#include "hyperbox.h"

struct hv_fuzz_env {
	uint8_t *mem;          /* L1 physical memory, hv->npt_top bytes */
	const uint8_t *code;   /* bytes readable at gva code_va ... */
	size_t code_len;       /* ... up to code_va + code_len */
	uint64_t code_va;
};
extern struct hv_fuzz_env hv_fuzz;

/* Frees what hv_arena_alloc() handed out. */
void hv_fuzz_arena_free(struct hv_arena *a);

#endif
