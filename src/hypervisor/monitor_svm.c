// SPDX-License-Identifier: GPL-2.0-only
/*
 * Escape monitor, AMD-V glue: the debug registers, the #DB intercept, L1's
 * own debug-register accesses, and the INTn intercept for int 0x80.
 *
 * The monitor owns DR0-3 on every CPU.  L1's MOV to/from DR0-3 and DR7
 * exit and see a private copy (so ptrace/perf hardware breakpoints do not
 * work while the monitor runs; software breakpoints and single-stepping
 * do).  A #DB that is not one of ours is given back to L1 unchanged.
 *
 * The breakpoints are also armed with a native MOV to DR7 before the first
 * VMRUN: QEMU's TCG (7.2) only honours breakpoints armed that way, and on
 * hardware the host never executes the watched kernel functions.
 */
#include <linux/kernel.h>
#include <asm/irq_vectors.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include "svm.h"
#include "monitor.h"

/* On the CPU, IRQs off, just before the first VMRUN (svm_launch). */
void svm_mon_vmcb_setup(struct svm_cpu *sc)
{
	struct hv *hv = sc->hv.hv;
	struct vmcb *v = sc->vmcb01;
	int i;

	if (!hv->mon)
		return;
	for (i = 0; i < 4; i++) {
		svm_set_intercept(v, INTERCEPT_DR0_READ + i);
		svm_set_intercept(v, INTERCEPT_DR0_WRITE + i);
	}
	svm_set_intercept(v, INTERCEPT_DR7_READ);
	svm_set_intercept(v, INTERCEPT_DR7_WRITE);
	svm_set_intercept(v, INTERCEPT_EXCEPTION_OFFSET + DB_VECTOR);
	if (hv_mon_int80_enabled(hv)) {
		svm_set_intercept(v, INTERCEPT_INTn);
		v->save.cstar = hv_mon_cstar(hv, true);	/* pinned from here on (pin_msrs) */
	}
	hv_mon_take_drs(&sc->hv);
	v->save.dr7 = hv_mon_dr7(hv);
	v->save.dr6 = HV_DR6_FIXED;
	HV_DR_SET(7, hv_mon_dr7(hv));
}

/* The first VMRUN was refused: the kernel runs on bare metal again. */
void svm_mon_launch_failed(void)
{
	HV_DR_SET(7, HV_DR7_FIXED);
}

/* Host, leaving Ring -1 on this CPU. */
void __hv_host svm_mon_leave(struct svm_cpu *sc)
{
	if (!sc->hv.hv->mon)
		return;
	HV_DR_SET(7, HV_DR7_FIXED);
	/* .Lleave VMLOADs vmcb01: the bare-metal kernel gets its own 32-bit entry back. */
	sc->vmcb01->save.cstar = hv_mon_cstar(sc->hv.hv, false);
}

int __hv_host svm_mon_exit_db(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	struct vmcb *v = sc->vmcb01;
	int i;

	for (i = 0; i < HV_BP_NR && c->g.cpl == 0; i++) {
		if (c->g.rip != hv_mon_bp_addr(c->hv, i))
			continue;
		v->save.dr6 = HV_DR6_FIXED;
		if (hv_mon_breakpoint(c, i))
			v->save.rflags |= X86_EFLAGS_RF;
		return 0;
	}
	/* Single step, INT1 or L1's own: deliver it as the CPU would have. */
	hv_mon_count_reflected(c);
	svm_inject(c, DB_VECTOR, false, 0);
	return 0;
}

/* Prefixes and REX, then the opcode; *len counts everything up to the opcode. */
static int __hv_host mon_opcode(struct hv_cpu *c, u8 *b, int n, int *at, bool *rex_r, bool *rex_b)
{
	int i = 0;

	if (hv_gva_read(c->hv, c->g.cr3, c->g.rip, b, n) && hv_gva_read(c->hv, c->g.cr3, c->g.rip, b, 4))
		return -EFAULT;
	while (i < 4 && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3 ||
			 b[i] == 0x2e || b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 ||
			 b[i] == 0x64 || b[i] == 0x65))
		i++;
	*rex_r = *rex_b = false;
	if ((b[i] & 0xf0) == 0x40 && c->g.cpl == 0) {
		*rex_r = b[i] & 4;
		*rex_b = b[i] & 1;
		i++;
	}
	*at = i;
	return 0;
}

/* MOV to/from DR0-3 or DR7 by L1: its private copy. */
int __hv_host svm_mon_exit_dr(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	u32 code = sc->vmcb01->control.exit_code;
	bool rex_r, rex_b, write = code >= SVM_EXIT_WRITE_DR0;
	int dr = code & 0xf, at, gpr;
	u8 b[8];

	if (c->g.cpl != 0) {
		svm_inject(c, X86_TRAP_GP, true, 0);
		return 0;
	}
	if (mon_opcode(c, b, sizeof(b), &at, &rex_r, &rex_b) || at > 4 || b[at] != 0x0f ||
	    b[at + 1] != (write ? 0x23 : 0x21) || (b[at + 2] >> 6) != 3 || rex_r ||
	    ((b[at + 2] >> 3) & 7) != dr || (dr > 3 && dr != 7)) {
		svm_inject(c, X86_TRAP_UD, false, 0);
		return 0;
	}
	gpr = (b[at + 2] & 7) | (rex_b ? 8 : 0);
	if (write)
		*hv_mon_vdr(c, dr) = hv_gpr_get(c, gpr);
	else
		hv_gpr_set(c, gpr, *hv_mon_vdr(c, dr));
	c->g.rip += at + 3;
	return 0;
}

/*
 * INT n (intercepted only when the 32-bit entry is refused).  int 0x80
 * from user space gets the #GP a kernel without the 32-bit gate would
 * give (SIGSEGV); everything else is delivered as the CPU would have.
 * QEMU's TCG also reports INT3, INTO and INT1 here (the kernel's text_poke
 * uses INT3 on SMP): those become the trap-style exception they raise,
 * after the instruction, as a CPU delivers them.
 *
 * The exit carries no vector (no decode assist under QEMU), so the
 * instruction is read back, and it may have changed since it was fetched:
 * text_poke_bp() on another CPU restores the patched site's first byte
 * while this CPU is still in here.  An INT3 that is gone was never
 * delivered, so L1 simply fetches again (what a CPU may do with
 * cross-modified code).  A decision is taken only on the bytes read, so a
 * user thread rewriting its own int 0x80 cannot slip past the check.  The
 * retries are bounded so that an instruction the decoder does not know
 * cannot loop: it gets #GP as before.
 */
#define SWINT_MAX_RETRIES 64

static int __hv_host swint_retry(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	u64 gpa;
	u8 *p;

	/*
	 * QEMU's TCG can keep a stale translation of the old INT3: another CPU
	 * may translate the block between QEMU dropping the page's blocks and
	 * the patching store landing, and then nothing drops it again.  A
	 * locked no-op on the byte is a store to a code page, which makes QEMU
	 * drop every block holding it; on hardware it changes nothing (locked,
	 * so a concurrent patch of the byte is never undone).
	 */
	if (!hv_gva_to_gpa(c->hv, c->g.cr3, c->g.rip, &gpa, NULL)) {
		p = hv_gmem_map(c->hv, gpa, 1, false);
		if (p)
			asm volatile("lock orb $0, %0" : "+m" (*p));
	}

	if (sc->swint_rip == c->g.rip && ++sc->swint_retries > SWINT_MAX_RETRIES) {
		sc->swint_retries = 0;
		svm_inject(c, X86_TRAP_GP, true, 0);
		return 0;
	}
	if (sc->swint_rip != c->g.rip) {
		sc->swint_rip = c->g.rip;
		sc->swint_retries = 1;
	}
	hv_mon_count_refetch(c);
	return 0;
}

int __hv_host svm_mon_exit_swint(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	struct vmcb *v = sc->vmcb01;
	bool rex_r, rex_b;
	int at;
	u8 b[8];

	if (mon_opcode(c, b, sizeof(b), &at, &rex_r, &rex_b))
		return swint_retry(sc);	/* unmapped now: the refetch faults */
	switch (b[at]) {
	case 0xcd:
		if (b[at + 1] == IA32_SYSCALL_VECTOR && c->g.cpl == 3 && hv_mon_int80(c)) {
			svm_inject(c, X86_TRAP_GP, true, IA32_SYSCALL_VECTOR * 8 + 2);
			break;
		}
		c->g.rip += at + 2;
		v->control.event_inj = b[at + 1] | SVM_EVTINJ_TYPE_SOFT | SVM_EVTINJ_VALID;
		break;
	case 0xcc:
		c->g.rip += at + 1;
		v->control.event_inj = X86_TRAP_BP | SVM_EVTINJ_TYPE_EXEPT | SVM_EVTINJ_VALID;
		break;
	case 0xce:
		c->g.rip += at + 1;
		v->control.event_inj = X86_TRAP_OF | SVM_EVTINJ_TYPE_EXEPT | SVM_EVTINJ_VALID;
		break;
	case 0xf1:
		c->g.rip += at + 1;
		v->control.event_inj = X86_TRAP_DB | SVM_EVTINJ_TYPE_EXEPT | SVM_EVTINJ_VALID;
		break;
	default:
		return swint_retry(sc);
	}
	sc->swint_retries = 0;
	return 0;
}

/*
 * VMMCALL at hv_mon_compat_entry: a 32-bit SYSCALL.  Refused: do what
 * SYSRET would (back to compatibility mode at RCX with RFLAGS from R11),
 * then #GP there, as a CPU without the entry would fault (SIGSEGV).
 * Logged only: continue into the kernel's entry as if CSTAR pointed there.
 */
bool __hv_host svm_mon_compat_syscall(struct svm_cpu *sc)
{
	struct hv_cpu *c = &sc->hv;
	struct vmcb *v = sc->vmcb01;
	u16 sel;

	if (!c->hv->mon || c->g.cpl != 0 || c->g.rip != hv_mon_cstar(c->hv, true))
		return false;
	if (!hv_mon_syscall32(c)) {
		c->g.rip = hv_mon_cstar(c->hv, false);
		return true;
	}
	sel = v->save.star >> 48;
	v->save.cs.selector = sel | 3;
	v->save.cs.attrib = 0xcfb;	/* code, read, accessed, S, DPL 3, P, D, G */
	v->save.cs.base = 0;
	v->save.cs.limit = 0xffffffff;
	v->save.ss.selector = (sel + 8) | 3;
	v->save.ss.attrib = 0xcf3;	/* data, write, accessed, S, DPL 3, P, B, G */
	v->save.ss.base = 0;
	v->save.ss.limit = 0xffffffff;
	v->save.cpl = 3;
	v->save.rflags = (c->g.regs->r11 & ~(X86_EFLAGS_RF | X86_EFLAGS_VM)) | X86_EFLAGS_FIXED;
	c->g.rip = (u32)c->g.regs->rcx;
	svm_inject(c, X86_TRAP_GP, true, 0);
	return true;
}
