/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Register save and restore shared by the world-switch code of both
 * vendors (vmrun.S, vmenter_vmx.S).  Assembler only.
 */
#ifndef HV_ENTRY_REGS_H
#define HV_ENTRY_REGS_H

/*
 * A launch or a leave hypercall made from C: the guest (or, after leaving,
 * the real machine) comes back with every register as the guest had it,
 * so the C caller's callee-saved registers and flags are kept on its stack.
 */
.macro HV_SAVE_CALLEE
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	pushfq
.endm

.macro HV_RESTORE_CALLEE
	popfq
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
.endm

/*
 * The guest's general registers in struct hv_regs order, RAX aside (the
 * VMCB holds it on AMD-V; VT-x pushes it first).
 */
.macro HV_PUSH_GPRS
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rbp
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
.endm

.macro HV_POP_GPRS
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rbp
	pop	%rdx
	pop	%rcx
	pop	%rbx
.endm

#endif
