#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: the attack replays (tests/hyperbox/attack) are blocked, each
# logged with its RIP and counted.  cr4_smep_clear is SKIP on CPUs without
# SMEP (the lab's qemu64); cr0_wp_clear covers CR pinning there.
M=/alcatraz/modules
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
insmod $M/hyperbox.ko || { echo "FAIL: insmod hyperbox"; exit 1; }
hidden=$(awk '$1 == "hidden" { split($2, a, "-"); print a[1]; exit }' /sys/kernel/hyperbox/protected)
insmod $M/hb_attack.ko hidden_pa=$(printf %d "$hidden")
dmesg | grep hb_attack:
sleep 1		# the log drain runs every 100 ms
for r in text_write cr0_wp_clear lstar_write nested_map_hidden lidt_fake vmload_hidden vmsave_protected \
	vmload_hidden_gif0 vmsave_protected_gif0 vmload_lstar vmload_tr vmload_tr_gif0 \
	vmload_tr_exit vmload_tr_window; do
	check "replay $r blocked" sh -c "dmesg | grep -q 'hb_attack: BLOCKED $r'"
done
check "replay cr4_smep_clear blocked or skipped (no SMEP)" sh -c \
	"dmesg | grep -qE 'hb_attack: (BLOCKED|SKIP) cr4_smep_clear'"
# A VMCB asking for virtual GIF / virtual VMLOAD-VMSAVE that this CPU does not
# have (the default lab CPU has neither): refused.  SKIP where the CPU has it.
for r in vmcb_vgif_unoffered vmcb_vls_unoffered; do
	check "replay $r blocked (or skipped: the CPU has it)" sh -c \
		"dmesg | grep -qE 'hb_attack: (BLOCKED|SKIP) $r'"
done
check "no replay NOT-BLOCKED" sh -c '! dmesg | grep -q "hb_attack: NOT-BLOCKED"'
# With virtual VMLOAD/VMSAVE in the lab's CPU the replays between CLGI and
# STGI ran without an exit: the VMLOAD loaded the new LSTAR into L1 itself
# (RDMSR showed it), and STGI's exit put the pinned one back.
if grep -qw v_vmsave_vmload /proc/cpuinfo; then
	check "vmload_lstar ran as a virtual VMLOAD" sh -c "dmesg | grep -q 'BLOCKED vmload_lstar: .*(virtual VMLOAD)'"
	check "hidden_access counted (NPF of a virtual VMLOAD)" sh -c \
		"grep -q '^hidden_access [1-9]' /sys/kernel/hyperbox/violations"
fi
# VMLOAD/VMSAVE refused: svm_insn when the host emulates them (a virtual
# VMLOAD/VMSAVE would be refused by the nested page table instead).
check "violation svm_insn or hidden_access counted" sh -c \
	"grep -qE '^(svm_insn|hidden_access) [1-9]' /sys/kernel/hyperbox/violations"
# TR/LDTR of the attacker's loaded by VMLOAD (at GIF=1, between CLGI and STGI,
# after a #VMEXIT before STGI, and after a #VMEXIT and STGI): the kernel's put
# back before L1 runs at GIF=1, or (in the GIF window) before its next IRET,
# interrupt or system call, each counted.
check "violation l1_tr_ldtr counted (4 replays)" sh -c \
	"grep -qE '^l1_tr_ldtr ([4-9]|[1-9][0-9]+)$' /sys/kernel/hyperbox/violations"
if grep -qw v_vmsave_vmload /proc/cpuinfo; then
	check "vmload_tr_gif0 ran as a virtual VMLOAD" sh -c \
		"dmesg | grep -q 'BLOCKED vmload_tr_gif0: .*inside: the loaded TR'"
	# STGI ran without an exit after the #VMEXIT, the VMLOAD at GIF=1 too;
	# the IRET exited and put the kernel's TR and LDTR back.
	check "vmload_tr_window ran in the GIF window" sh -c \
		"dmesg | grep -q 'BLOCKED vmload_tr_window: .*inside: the loaded TR'"
	check "the IRET in the GIF window exited" sh -c "grep -q '^l1_iret [1-9]' /sys/kernel/hyperbox/exits"
fi
if dmesg | grep -q "hb_attack: BLOCKED vmcb_vgif_unoffered"; then
	check "violation nested_vmcb counted (2 replays)" sh -c "grep -q '^nested_vmcb [2-9]' /sys/kernel/hyperbox/violations"
fi
for v in text_write cr0_wp syscall_msr nested_map_hidden idt_write; do
	check "violation $v counted" sh -c "grep -q '^$v [1-9]' /sys/kernel/hyperbox/violations"
	check "violation $v logged with rip" sh -c "dmesg | grep -q 'hyperbox: cpu[0-9]* denied $v at rip=0x'"
done
# A denied store to a kernel address is a #PF, as on a CPU: no "fault in user access" WARN.
check "denied text write gives #PF (no #GP warning)" sh -c '! dmesg | grep -q "General protection fault in user access"'
grep -v " 0$" /sys/kernel/hyperbox/violations
echo "hyperbox-attacks: $fail failed"
[ $fail = 0 ]
