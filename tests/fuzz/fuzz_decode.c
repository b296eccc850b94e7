// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hyper-box's instruction decoder (src/hypervisor/decode.c) as user-space
 * code: the bytes at L1's RIP are the fuzzer's, as is how many of them lie
 * before an unmapped page, and L1's registers.
 *
 * Input: u8 bytes to the page end (% 33; 32: the next page is mapped too),
 * 32 instruction bytes, then the 16 general registers.
 *
 * Beyond the sanitizers: a decoded instruction is 1..15 bytes long, all
 * of them read from L1, its prefixes, opcode and ModRM lie inside it, and
 * the effective address of a memory operand (computed as protect.c and svm_exit.c do, for the opcodes
 * they accept) reads only the instruction's own bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_shim.h"

#define PAGE_END 0x7000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "ALCATRAZ FUZZ FINDING: %s (len %d)\n", #cond,  \
				in.len);                                                \
			abort();                                                        \
		}                                                                       \
	} while (0)

/* Bytes of ModRM, SIB and displacement, as the x86 manuals define them. */
static int operand_len(const u8 *p)
{
	int mod = p[0] >> 6, rm = p[0] & 7, n = 1;

	if (mod == 3)
		return 1;
	if (rm == 4)
		n++;
	if (mod == 1)
		n += 1;
	else if (mod == 2 || (mod == 0 && rm == 5) || (mod == 0 && rm == 4 && (p[1] & 7) == 5))
		n += 4;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv hv = { 0 };
	struct hv_regs regs = { 0 };
	struct hv_cpu c = { .hv = &hv, .g = { .regs = &regs } };
	struct hv_insn in = { 0 };
	u8 code[32] = { 0 }, first;
	u64 gpr[16] = { 0 }, ea;
	size_t k;

	if (size < 1)
		return 0;
	first = data[0] % 33;
	memcpy(code, data + 1, size - 1 < sizeof(code) ? size - 1 : sizeof(code));
	if (size > 33)
		memcpy(gpr, data + 33, size - 33 < sizeof(gpr) ? size - 33 : sizeof(gpr));
	k = first == 32 ? 32 : first;
	hv_fuzz = (struct hv_fuzz_env){ .code = code, .code_len = k, .code_va = PAGE_END - first };
	c.g.rip = PAGE_END - first;
	c.g.rax = gpr[0];
	c.g.rsp = gpr[4];
	for (int i = 0; i < 16; i++)
		if (i != HV_RAX && i != HV_RSP)
			hv_gpr_set(&c, i, gpr[i]);
	for (int i = 0; i < 16; i++)
		CHECK(hv_gpr_get(&c, i) == gpr[i]);

	if (hv_insn_fetch(&c, &in))
		return 0;
	CHECK(in.len >= 1 && in.len <= 15);
	CHECK((size_t)in.len <= k); /* only bytes L1 could be read from */
	CHECK(in.nprefix + in.oplen <= in.len);
	CHECK(memcmp(in.bytes, code, (size_t)in.len) == 0);
	if (in.has_modrm)
		CHECK(in.modrm_off >= in.nprefix + in.oplen && in.modrm_off < in.len &&
		      in.modrm == in.bytes[in.modrm_off]);
	/* The callers' effective-address uses: MOV stores (88/89) and the
	 * memory forms of group 7 (0F 01 /2, /3: LGDT, LIDT). */
	if (in.has_modrm && (in.modrm >> 6) != 3 &&
	    (in.op[0] == 0x88 || in.op[0] == 0x89 || (in.op[0] == 0x0f && in.op[1] == 0x01))) {
		u8 pad[32] = { 0 };

		memcpy(pad, in.bytes, sizeof(in.bytes));
		CHECK(in.modrm_off + operand_len(&pad[in.modrm_off]) <= in.len);
		CHECK(hv_insn_ea(&c, &in, &ea) == 0);
	}
	return 0;
}
