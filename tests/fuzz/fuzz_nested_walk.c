// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hyper-box's nested-table walker (src/hypervisor/nested_walk.c) as
 * user-space code: L1's nested page tables (NPT or EPT) in 64 KiB of L1
 * memory, Hyper-box's arena and protected ranges, and the translations
 * asked for are the fuzzer's.
 *
 * Input: u8 flags (bit 0: EPT, present = RWX, else NPT, present = P),
 * u64 reserved-bit mask, u16 root page, u8 arena blocks (% 3) with a u64
 * address each, u8 ranges (% 5) with u32 start page, u8 pages, u8 kind
 * each, u8 table entries (% 64) with u8 page, u16 index, u64 value each,
 * u8 translations (% 16) with a u64 gpa each, u8 shadow pool pages.
 *
 * Beyond the sanitizers: a tree hv_nested_validate() accepts translates,
 * through hv_nested_walk(), only to pages hv_nested_leaf_check() allows;
 * the shadow table maps what hv_shadow_map() was given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mm.h>

#include "fuzz_common.h"
#include "hv_shim.h"
#include "nested_walk.h"

#define MEM (64 * 1024)
#define PAGES (MEM / PAGE_SIZE)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hv hv;
static uint8_t mem[MEM] __attribute__((aligned(4096)));

/* The shadow table's own walk: the leaf for gpa, or 0. */
static u64 shadow_lookup(const struct hv_shadow *s, u64 gpa)
{
	const u64 *t = s->root;

	for (int level = 4; level > 1; level--) {
		u64 e = t[(gpa >> (12 + 9 * (level - 1))) & 511];
		if (!(e & 7))
			return 0;
		CHECK((e & HV_NW_ADDR) >= s->pool_pa &&
		      (e & HV_NW_ADDR) - s->pool_pa < (u64)s->pool_used * PAGE_SIZE,
		      "shadow entry 0x%llx outside the pool", (unsigned long long)e);
		t = s->pool + (((e & HV_NW_ADDR) - s->pool_pa) >> 3);
	}
	return t[(gpa >> 12) & 511];
}

static void shadow(struct in *in, const u64 *gpas, unsigned int n)
{
	struct hv_shadow s;
	/* At least a PDPT, a PD and a PT for one gpa. */
	unsigned int pages = (unsigned int)take(in, 1) % 8 + 3;

	if (hv_shadow_init(&hv, &s, pages))
		return;
	for (unsigned int i = 0; i < n; i++) {
		u64 gpa = gpas[i] & HV_NW_ADDR & ((1ULL << 48) - 1), leaf = (gpa ^ 0x5000) | 7;

		if (hv_shadow_map(&s, gpa, leaf)) {
			/* As the backends do: start over, and it must fit then. */
			hv_shadow_reset(&s);
			CHECK(!hv_shadow_map(&s, gpa, leaf), "a fresh shadow table is full");
		}
		CHECK(shadow_lookup(&s, gpa) == leaf, "gpa 0x%llx not mapped",
		      (unsigned long long)gpa);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	uint8_t flags = (uint8_t)take(&in, 1);
	u64 present = flags & 1 ? 7 : 1, rsvd = take(&in, 8), root, bad = 0;
	unsigned int tables = 0, n;
	u64 gpas[16];
	int v;

	memset(&hv, 0, sizeof(hv));
	memset(mem, 0, sizeof(mem));
	hv.npt_top = MEM;
	hv_fuzz.mem = mem;
	root = (take(&in, 2) % (PAGES + 1)) * PAGE_SIZE;
	hv.arena.nr = (unsigned int)take(&in, 1) % 3;
	for (unsigned int i = 0; i < hv.arena.nr; i++)
		hv.arena.pa[i] = take(&in, 8) & ~((PAGE_SIZE << HV_ARENA_ORDER) - 1) &
				 ((1ULL << 40) - 1);
	hv.nr_ranges = (unsigned int)take(&in, 1) % 5;
	for (unsigned int i = 0; i < hv.nr_ranges; i++) {
		hv.ranges[i].start = take(&in, 4) * PAGE_SIZE;
		hv.ranges[i].end = hv.ranges[i].start + (take(&in, 1) + 1) * PAGE_SIZE;
		hv.ranges[i].kind = (u8)(take(&in, 1) % HV_PROT_NR);
	}
	n = (unsigned int)take(&in, 1) % 64;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int page = (unsigned int)take(&in, 1) % PAGES;
		unsigned int idx = (unsigned int)take(&in, 2) % 512;
		u64 e = take(&in, 8);
		memcpy(mem + page * PAGE_SIZE + idx * 8, &e, 8);
	}
	n = (unsigned int)take(&in, 1) % 16;
	for (unsigned int i = 0; i < n; i++)
		gpas[i] = take(&in, 8);

	v = hv_nested_validate(&hv, root, 4, present, rsvd, &tables, &bad);
	CHECK(v == -1 || v == HV_V_NESTED_HIDDEN || v == HV_V_NESTED_PROTECTED ||
	      v == HV_V_NESTED_VMCB, "validate: %d", v);
	CHECK(tables <= HV_NW_MAX_TABLES + 1, "%u tables", tables);
	for (unsigned int i = 0; i < n; i++) {
		struct hv_nested_walk w;
		int r = hv_nested_walk(&hv, root, gpas[i], present, rsvd, &w);

		CHECK(w.n >= 1 || r == HV_NW_HIDDEN, "walk read %d entries", w.n);
		CHECK(w.n <= 4, "walk read %d entries", w.n);
		if (r != HV_NW_LEAF || v != -1)
			continue;
		u64 hpa = hv_nested_walk_hpa(&w, gpas[i]) & PAGE_MASK;
		bool writable = w.e[w.n - 1] & HV_NW_W;
		CHECK(hv_nested_leaf_check(&hv, hpa, PAGE_SIZE, writable) < 0,
		      "validated tree maps gpa 0x%llx to refused page 0x%llx",
		      (unsigned long long)gpas[i], (unsigned long long)hpa);
	}
	shadow(&in, gpas, n);
	hv_fuzz_arena_free(&hv.arena);
	return 0;
}
