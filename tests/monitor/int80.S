/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hb-int80: a static 32-bit program that makes its system calls through
 * int 0x80: write(1, "int80: alive\n"), then exit(0).  With the monitor's
 * 32-bit policy on it must die (SIGSEGV) before printing.
 */
	.code32
	.text
	.globl	_start
_start:
	movl	$4, %eax		/* write */
	movl	$1, %ebx
	movl	$msg, %ecx
	movl	$len, %edx
	int	$0x80
	movl	$1, %eax		/* exit */
	xorl	%ebx, %ebx
	int	$0x80
	hlt
	.data
msg:	.ascii	"int80: alive\n"
	len = . - msg
	.section .note.GNU-stack,"",@progbits
