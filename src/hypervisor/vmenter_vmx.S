/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * World switch for VT-x.  VM exits land in hv_vmx_exit_entry on the host
 * stack (HOST_RSP) and private page table (HOST_CR3); between the exit and
 * the save of the guest's registers nothing else may run.  Offsets come from
 * vmx.h and are checked at compile time in vmx.c.
 */
#include <linux/linkage.h>
#include <asm/unwind_hints.h>
#include <asm/nospec-branch.h>
#include "vmx.h"
#include "entry_regs.h"

#define HV_HC_MAGIC	0x48594258424f5831
#define HV_HC_DEVIRT	2
#define VMCS_GUEST_RSP	0x681c
#define VMCS_GUEST_RIP	0x681e

	.text

/*
 * int hv_vmx_launch(void): the VMCS is current and filled.  Points its
 * guest RIP/RSP at .Lresume on this stack and launches; the CPU continues
 * at .Lresume as the guest with every register as it was (RAX = 0).  If
 * VMLAUNCH fails, returns -EIO in the real machine.
 */
SYM_FUNC_START(hv_vmx_launch)
	HV_SAVE_CALLEE
	mov	$VMCS_GUEST_RSP, %edx
	vmwrite	%rsp, %rdx
	lea	.Lresume(%rip), %rax
	mov	$VMCS_GUEST_RIP, %edx
	vmwrite	%rax, %rdx
	xor	%eax, %eax
	vmlaunch
	mov	$-5, %eax		/* -EIO: VMfailValid or VMfailInvalid */
.Lresume:
	HV_RESTORE_CALLEE
	RET
SYM_FUNC_END(hv_vmx_launch)

/*
 * int hv_vmx_devirt_call(void): as the guest, ask the host to leave.  The
 * host resumes here after the VMCALL, outside VMX, with RAX = 0.
 */
SYM_FUNC_START(hv_vmx_devirt_call)
	HV_SAVE_CALLEE
	movabs	$HV_HC_MAGIC, %rax
	mov	$HV_HC_DEVIRT, %ebx
	vmcall
	HV_RESTORE_CALLEE
	RET
SYM_FUNC_END(hv_vmx_devirt_call)

/*
 * Every VM exit.  RSP = HOST_RSP: [rsp + 8] holds the struct vmx_cpu
 * pointer.  Guest RSP/RIP/RFLAGS are in the VMCS, the rest is saved here
 * in struct hv_regs order with RAX above it.
 */
SYM_CODE_START(hv_vmx_exit_entry)
	UNWIND_HINT_EMPTY
	push	%rax
	HV_PUSH_GPRS
	mov	%rsp, %rsi
	mov	VMXC_CPU_SLOT(%rsp), %rdi
	call	hv_vmx_exit
	test	%eax, %eax
	jnz	.Lleave
.Lenter:
	/* Flags survive the pops: they pick VMLAUNCH for a fresh VMCS02. */
	mov	VMXC_CPU_SLOT(%rsp), %rdi
	cmpb	$0, VMXC_LAUNCH(%rdi)
	HV_POP_GPRS
	pop	%rax
	jne	1f
	vmresume
	jmp	2f
1:	vmlaunch
	/*
	 * The entry failed (VMfail).  The saved registers are still below
	 * RSP: an L2 entry goes back to L1 with the VMfail; L1's own is fatal.
	 */
2:	sub	$VMXC_REGS_SIZE, %rsp
	mov	VMXC_CPU_SLOT(%rsp), %rdi
	mov	%rsp, %rsi
	call	hv_vmx_entry_failed
	test	%eax, %eax
	jz	.Lenter
	ud2

/*
 * Leave Ring -1 on this CPU: hv_vmx_exit already ran VMXOFF and put back
 * L1's control registers and segment bases; jump to L1's RIP on L1's stack.
 */
.Lleave:
	mov	VMXC_CPU_SLOT(%rsp), %r12
	mov	VMXC_LEAVE_RSP(%r12), %rsp
	mov	VMXC_LEAVE_RAX(%r12), %rax
	mov	VMXC_LEAVE_RIP(%r12), %rcx
	ANNOTATE_RETPOLINE_SAFE
	jmp	*%rcx
SYM_CODE_END(hv_vmx_exit_entry)

/*
 * The host's NMI gate.  An NMI that arrives while the host runs (between
 * a VM exit and the next entry) belongs to L1: mark it in struct vmx_cpu,
 * found through this CPU's own IDT (gate 255's high half), and return;
 * hv_vmx_exit gives it to L1 before the next entry.
 */
SYM_CODE_START(hv_vmx_host_nmi)
	UNWIND_HINT_IRET_REGS
	ENDBR
	push	%rax
	sub	$16, %rsp
	sidt	(%rsp)
	mov	2(%rsp), %rax
	mov	VMXC_IDT_CPU(%rax), %rax
	movb	$1, VMXC_NMI(%rax)
	add	$16, %rsp
	pop	%rax
	iretq
SYM_CODE_END(hv_vmx_host_nmi)
