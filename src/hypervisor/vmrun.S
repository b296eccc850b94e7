/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * World switch for AMD-V.  Kept apart from C: the host loop owns its stack,
 * and between VMRUN and the save of the guest's registers nothing else may
 * run.  Offsets come from svm.h and are checked at compile time in svm.c.
 */
#include <linux/linkage.h>
#include <asm/unwind_hints.h>
#include <asm/nospec-branch.h>
#include <asm/ibt.h>
#include "svm.h"
#include "entry_regs.h"

#define HV_HC_MAGIC	0x48594258424f5831
#define HV_HC_DEVIRT	2

	.text

/*
 * int hv_svm_launch(sc, rip_slot, rsp_slot, host_rsp, host_cr3)
 * Saves the caller's frame, points the VMCB's RIP/RSP at hv_svm_resume on this
 * stack and enters the host loop on the host stack.  The CPU comes back to
 * hv_svm_resume as the guest, with RAX from the VMCB (0), or with -errno if the
 * first VMRUN was refused.
 */
SYM_FUNC_START(hv_svm_launch)
	HV_SAVE_CALLEE
	lea	hv_svm_resume(%rip), %rax
	mov	%rax, (%rsi)
	mov	%rsp, (%rdx)
	mov	%r8, %cr3
	mov	%rcx, %rsp
	jmp	hv_svm_loop
SYM_FUNC_END(hv_svm_launch)

/* Where L1 first runs, as the guest: entered by VMRUN, not by a branch. */
SYM_CODE_START_LOCAL(hv_svm_resume)
	UNWIND_HINT_EMPTY
	ANNOTATE_NOENDBR
	HV_RESTORE_CALLEE
	RET
SYM_CODE_END(hv_svm_resume)

/*
 * int hv_svm_devirt_call(void): as the guest, ask the host to leave.  The
 * host resumes here after the VMMCALL, in the real machine, with RAX = 0.
 */
SYM_FUNC_START(hv_svm_devirt_call)
	HV_SAVE_CALLEE
	movabs	$HV_HC_MAGIC, %rax
	mov	$HV_HC_DEVIRT, %ebx
	vmmcall
	HV_RESTORE_CALLEE
	RET
SYM_FUNC_END(hv_svm_devirt_call)

/*
 * The host loop.  [rsp] holds the struct svm_cpu pointer for this CPU.
 * Hidden guest state (FS/GS/TR/LDTR, syscall MSRs) is switched with
 * VMLOAD/VMSAVE around VMRUN; the host never uses it (no per-CPU data, no
 * stack protector in host code).
 */
SYM_CODE_START(hv_svm_loop)
	UNWIND_HINT_EMPTY
.Lrun:
	mov	(%rsp), %rax
	cmpq	$0, SVMC_RUN_STI(%rax)
	mov	SVMC_RUN_PA(%rax), %rax
	je	1f
	/*
	 * An L2 runs with V_INTR_MASKING: physical interrupts are then masked
	 * by the host's IF, so IF=1 makes them exit.  GIF=0 holds them until
	 * VMRUN; after #VMEXIT GIF is 0 again and CLI restores IF=0.
	 */
	sti
1:	vmload	%rax
	vmrun	%rax
	cli
	vmsave	%rax
	HV_PUSH_GPRS
	mov	%rsp, %rsi
	mov	SVMC_REGS_SIZE(%rsp), %rdi
	call	hv_svm_exit
	test	%eax, %eax
	jnz	.Lleave
	HV_POP_GPRS
	jmp	.Lrun

/*
 * Leave Ring -1 on this CPU: reload L1's hidden state and control registers
 * and jump to L1's RIP on L1's stack; the code there restores what it
 * needs (see hv_svm_launch and hv_svm_devirt_call).
 */
.Lleave:
	mov	SVMC_REGS_SIZE(%rsp), %r12
	mov	SVMC_VMCB01_PA(%r12), %rax
	vmload	%rax
	mov	SVMC_LEAVE_CR3(%r12), %rax
	mov	%rax, %cr3
	mov	SVMC_LEAVE_CR4(%r12), %rax
	mov	%rax, %cr4
	mov	SVMC_LEAVE_RSP(%r12), %rsp
	stgi
	mov	$0xc0000080, %ecx
	mov	SVMC_LEAVE_EFER(%r12), %rax
	mov	%rax, %rdx
	shr	$32, %rdx
	wrmsr
	mov	SVMC_LEAVE_RAX(%r12), %rax
	mov	SVMC_LEAVE_RIP(%r12), %rcx
	ANNOTATE_RETPOLINE_SAFE
	jmp	*%rcx
SYM_CODE_END(hv_svm_loop)

/*
 * The host's NMI gate (svm_nested.c builds the host IDT around it).  An
 * NMI that L1 may not take yet (virtual GIF=0) exits to the host, which
 * takes it here with STGI;CLGI and keeps it for L1's STGI.
 */
SYM_CODE_START(hv_host_nmi)
	UNWIND_HINT_IRET_REGS
	ENDBR
	iretq
SYM_CODE_END(hv_host_nmi)
