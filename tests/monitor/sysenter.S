/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hb-sysenter: a static 32-bit program that makes its system calls with
 * SYSENTER, the way the 32-bit vDSO's __kernel_vsyscall does on Intel CPUs:
 * write(1, "sysenter: alive\n"), then exit(0).  SYSENTER saves no return
 * address: Linux returns to the vDSO's landing pad, which pops EBP, EDX,
 * ECX and returns, so the call site pushes them as the vDSO would and the
 * user stack is passed in EBP.
 *
 * "hb-sysenter tf": the same with TF set by the POPF just before SYSENTER,
 * so that the single-step trap is taken right after it, at the kernel's
 * entry (Linux ignores it there and the program dies of SIGTRAP once back
 * in user space, after the write) or at the monitor's stub.
 *
 * With the monitor's 32-bit policy on it must die (SIGSEGV) before printing.
 */
	.code32
	.text
	.globl	_start
_start:
	movl	(%esp), %esi		/* argc: 2 or more means "tf" */
	movl	$4, %eax		/* write */
	movl	$1, %ebx
	movl	$msg, %ecx
	movl	$len, %edx
	call	vsyscall
	movl	$1, %eax		/* exit */
	xorl	%ebx, %ebx
	call	vsyscall
	hlt

vsyscall:
	pushl	%ecx
	pushl	%edx
	pushl	%ebp
	movl	%esp, %ebp
	cmpl	$2, %esi
	jb	1f
	pushfl
	orl	$0x100, (%esp)		/* TF */
	popfl
1:	sysenter
	/* Not reached: Linux returns to the vDSO's landing pad. */
	hlt

	.data
msg:	.ascii	"sysenter: alive\n"
	len = . - msg
	.section .note.GNU-stack,"",@progbits
