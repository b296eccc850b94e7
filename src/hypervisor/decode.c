// SPDX-License-Identifier: GPL-2.0-only
/*
 * Just enough x86 decoding for the host: the length of intercepted
 * instructions (no next-RIP assist is assumed: QEMU's TCG has none) and the
 * operands of MOV-to-CR, of the stores text_poke issues and of the loads
 * and stores of load_TLS (protect.c).
 */
#include <linux/string.h>
#include "hyperbox.h"

/* The architectural limit of an x86 instruction (hv_insn.bytes). */
#define HV_INSN_MAX ((int)sizeof(((struct hv_insn *)0)->bytes))

u64 __hv_host hv_gpr_get(struct hv_cpu *c, int n)
{
	struct hv_regs *r = c->g.regs;

	switch (n) {
	case HV_RAX: return c->g.rax;
	case HV_RCX: return r->rcx;
	case HV_RDX: return r->rdx;
	case HV_RBX: return r->rbx;
	case HV_RSP: return c->g.rsp;
	case HV_RBP: return r->rbp;
	case HV_RSI: return r->rsi;
	case HV_RDI: return r->rdi;
	case HV_R8: return r->r8;
	case HV_R9: return r->r9;
	case HV_R10: return r->r10;
	case HV_R11: return r->r11;
	case HV_R12: return r->r12;
	case HV_R13: return r->r13;
	case HV_R14: return r->r14;
	default: return r->r15;
	}
}

void __hv_host hv_gpr_set(struct hv_cpu *c, int n, u64 v)
{
	struct hv_regs *r = c->g.regs;

	switch (n) {
	case HV_RAX: c->g.rax = v; break;
	case HV_RCX: r->rcx = v; break;
	case HV_RDX: r->rdx = v; break;
	case HV_RBX: r->rbx = v; break;
	case HV_RSP: c->g.rsp = v; break;
	case HV_RBP: r->rbp = v; break;
	case HV_RSI: r->rsi = v; break;
	case HV_RDI: r->rdi = v; break;
	case HV_R8: r->r8 = v; break;
	case HV_R9: r->r9 = v; break;
	case HV_R10: r->r10 = v; break;
	case HV_R11: r->r11 = v; break;
	case HV_R12: r->r12 = v; break;
	case HV_R13: r->r13 = v; break;
	case HV_R14: r->r14 = v; break;
	default: r->r15 = v; break;
	}
}

static bool __hv_host is_prefix(u8 b)
{
	return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 ||
	       b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

/*
 * Length of the ModRM operand bytes (ModRM, SIB, displacement) at byte i of
 * the instruction; past the architectural 15 bytes the result only has to
 * be too long, as nothing there is read.
 */
static int __hv_host modrm_len(const struct hv_insn *in, int i)
{
	u8 mod = in->bytes[i] >> 6, rm = in->bytes[i] & 7;
	int n = 1;

	if (mod == 3)
		return 1;
	if (rm == 4) {
		if (i + 1 >= HV_INSN_MAX)
			return HV_INSN_MAX;
		n++;			/* SIB */
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2 || (mod == 0 && rm == 5) ||
		 (mod == 0 && rm == 4 && (in->bytes[i + 1] & 7) == 5))
		n += 4;
	return n;
}

/*
 * Fetch and decode the instruction at guest RIP.  Handles the opcodes the
 * host intercepts: 0F 01 xx (SVM/VMX group), 0F 22 (MOV CR), 0F 30/32 (MSR),
 * 0F A2 (CPUID), the MOV stores 88/89 and MOVSB used by memcpy, and the
 * MOV load 8B.
 */
int __hv_host hv_insn_fetch(struct hv_cpu *c, struct hv_insn *in)
{
	int i = 0, avail = HV_INSN_MAX;

	memset(in, 0, sizeof(*in));
	/* Near the end of a mapping only 8 bytes may be readable. */
	if (hv_gva_read(c->hv, c->g.cr3, c->g.rip, in->bytes, HV_INSN_MAX)) {
		memset(in->bytes, 0, sizeof(in->bytes));
		if (hv_gva_read(c->hv, c->g.cr3, c->g.rip, in->bytes, 8))
			return -EFAULT;
		avail = 8;
	}
	while (i < HV_INSN_MAX - 1 && is_prefix(in->bytes[i])) {
		if (in->bytes[i] == 0x66)
			in->opsize = true;
		if (in->bytes[i] == 0xf3)
			in->rep = true;
		i++;
	}
	if ((in->bytes[i] & 0xf0) == 0x40) {
		in->rex_w = in->bytes[i] & 8;
		in->rex_r = in->bytes[i] & 4;
		in->rex_x = in->bytes[i] & 2;
		in->rex_b = in->bytes[i] & 1;
		i++;
	}
	in->nprefix = i;
	/* Every byte read below is checked to lie within the 15. */
	if (i >= HV_INSN_MAX)
		return -EINVAL;
	in->op[0] = in->bytes[i++];
	in->oplen = 1;
	if (in->op[0] == 0x0f) {
		if (i >= HV_INSN_MAX)
			return -EINVAL;
		in->op[1] = in->bytes[i++];
		in->oplen = 2;
		switch (in->op[1]) {
		case 0x01:		/* group 7: fixed third byte for the SVM ones, */
			if (i >= HV_INSN_MAX)
				return -EINVAL;
			if ((in->bytes[i] >> 6) == 3) {
				in->op[2] = in->bytes[i++];
				in->oplen = 3;
				break;
			}
			in->has_modrm = true;	/* or a memory operand (LGDT, LIDT) */
			in->modrm_off = i;
			in->modrm = in->bytes[i];
			i += modrm_len(in, i);
			break;
		case 0x00:		/* group 6 (LTR): ModRM */
		case 0x20: case 0x22:	/* MOV CR: ModRM, register form */
			if (i >= HV_INSN_MAX)
				return -EINVAL;
			in->has_modrm = true;
			in->modrm_off = i;
			in->modrm = in->bytes[i++];
			break;
		case 0x30: case 0x32: case 0xa2:
			break;
		default:
			return -EINVAL;
		}
	} else if (in->op[0] == 0x88 || in->op[0] == 0x89 || in->op[0] == 0x8b) {
		if (i >= HV_INSN_MAX)
			return -EINVAL;
		in->has_modrm = true;
		in->modrm_off = i;
		in->modrm = in->bytes[i];
		i += modrm_len(in, i);
	} else if (in->op[0] != 0xa4) {
		return -EINVAL;
	}
	if (i > HV_INSN_MAX)
		return -EINVAL;
	/* Decoded from bytes that could not be read: fail closed. */
	if (i > avail)
		return -EFAULT;
	in->len = i;
	return 0;
}

/* A displacement sits at any byte offset in the instruction. */
static s32 __hv_host disp32(const u8 *p)
{
	s32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int __hv_host hv_insn_reg(const struct hv_insn *in)
{
	return ((in->modrm >> 3) & 7) | (in->rex_r ? 8 : 0);
}

int __hv_host hv_insn_rm(const struct hv_insn *in)
{
	return (in->modrm & 7) | (in->rex_b ? 8 : 0);
}

/* Effective address of a memory ModRM operand (64-bit addressing). */
int __hv_host hv_insn_ea(struct hv_cpu *c, const struct hv_insn *in, u64 *ea)
{
	const u8 *p = &in->bytes[in->modrm_off];
	u8 mod = p[0] >> 6, rm = p[0] & 7, sib;
	s64 disp = 0;
	u64 a = 0;
	int n = 1, base, index;

	if (mod == 3)
		return -EINVAL;
	if (rm == 4) {
		sib = p[n++];
		base = (sib & 7) | (in->rex_b ? 8 : 0);
		index = ((sib >> 3) & 7) | (in->rex_x ? 8 : 0);
		if (index != HV_RSP)
			a += hv_gpr_get(c, index) << (sib >> 6);
		if ((sib & 7) == 5 && mod == 0)
			disp = disp32(&p[n]), n += 4;
		else
			a += hv_gpr_get(c, base);
	} else if (rm == 5 && mod == 0) {
		disp = disp32(&p[n]);
		a = c->g.rip + in->len;
		n += 4;
	} else {
		a = hv_gpr_get(c, hv_insn_rm(in));
	}
	if (mod == 1)
		disp = (s8)p[n];
	else if (mod == 2)
		disp = disp32(&p[n]);
	*ea = a + disp;
	return 0;
}
