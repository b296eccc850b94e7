/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Entry for tiny guests. The VMM enters here in 64-bit mode at CPL0 with
 * RSP set per vCPU, RDI = vCPU index and RSI = vCPU count. main()'s return
 * value is reported through the exit device.
 */
	.section .text.start, "ax"
	.globl _start
_start:
	call	guest_main
	mov	$0xf4, %dx
	out	%eax, %dx
1:	cli
	hlt
	jmp	1b
