/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hb-syscall32: a static 32-bit program that makes its system calls with
 * the SYSCALL instruction (the 32-bit entry behind CSTAR, which the vDSO
 * uses on AMD): write(1, "syscall32: alive\n"), then exit(0).  32-bit
 * SYSCALL ABI: ECX is clobbered, the second argument goes in EBP.  With the
 * monitor's 32-bit policy on it must die (SIGSEGV) before printing.
 */
	.code32
	.text
	.globl	_start
_start:
	movl	$4, %eax		/* write */
	movl	$1, %ebx
	movl	$msg, %ebp
	movl	$len, %edx
	syscall
	movl	$1, %eax		/* exit, through int 0x80: only the first call matters */
	xorl	%ebx, %ebx
	int	$0x80
	hlt
	.data
msg:	.ascii	"syscall32: alive\n"
	len = . - msg
	.section .note.GNU-stack,"",@progbits
