/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The monitor's 32-bit system call entries, while it refuses 32-bit system
 * calls.  The CPU arrives at CPL 0 with the caller's GS, like at the first
 * instruction of the kernel's own entry (so NMIs are handled the same way);
 * the hypercall instruction hands it to the host at once.  Nothing here
 * touches memory: the stack may be the kernel's entry stack or the user's.
 *
 * hv_mon_compat_entry (AMD-V): CSTAR points here instead of
 * entry_SYSCALL_compat, on the caller's stack; the host returns to the
 * caller in compatibility mode with #GP (monitor_svm.c).
 *
 * hv_mon_sysenter_entry (VT-x): L1's GUEST_SYSENTER_EIP points here instead
 * of entry_SYSENTER_compat, on the SYSENTER_ESP stack with interrupts off;
 * the host returns to CPL 3 in compatibility mode with #GP (monitor_vmx.c).
 * It must be the VMCALL itself: the host honours it only at this address.
 */
#include <linux/linkage.h>
#include <asm/unwind_hints.h>

	.text
SYM_CODE_START(hv_mon_compat_entry)
	UNWIND_HINT_EMPTY
	vmmcall
	ud2
SYM_CODE_END(hv_mon_compat_entry)

SYM_CODE_START(hv_mon_sysenter_entry)
	UNWIND_HINT_EMPTY
	vmcall
	ud2
SYM_CODE_END(hv_mon_sysenter_entry)
