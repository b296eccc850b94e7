/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The 32-bit SYSCALL entry while the monitor refuses 32-bit system calls:
 * CSTAR points here instead of entry_SYSCALL_compat.  The CPU arrives at
 * CPL 0 on the caller's stack with the caller's GS, like at the first
 * instruction of the kernel's own entry (so NMIs are handled the same way);
 * VMMCALL hands it to the host at once, which returns to the caller in
 * compatibility mode with #GP (monitor_svm.c).  Nothing here touches memory.
 */
#include <linux/linkage.h>
#include <asm/unwind_hints.h>

	.text
SYM_CODE_START(hv_mon_compat_entry)
	UNWIND_HINT_EMPTY
	vmmcall
	ud2
SYM_CODE_END(hv_mon_compat_entry)
