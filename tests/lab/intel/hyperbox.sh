#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# VT-x lab, one boot (tests/lab/run --vendor intel --no-kvm --module hyperbox.ko
# [--module hb_attack.ko] [--module hb_attack_vmx.ko] [--add hb-kvmtest]):
#   1. kvm_intel alone: hb-kvmtest and the tiny guests (tests/lab/tests/guest-cases)
#      through alcatraz-run (and a Linux microVM when build/kernel/vmlinux and
#      alcatraz-init were added); outputs and statuses kept; kvm_intel unloaded.
#   2. Hyper-box's late launch on every CPU, EPT protections, attack replays
#      and VMX misuse.
#   3. kvm_intel on top of Hyper-box: the same runs, with the same outputs
#      and statuses as in 1 (L2 on the hardware through VMCS02 and the
#      shadow EPT, kvm_intel's VMREAD/VMWRITE through a shadow VMCS), then
#      an NMI storm.
# Exit 0 pass, 1 fail.
M=/alcatraz/modules
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
ncpu=$(grep -c ^processor /proc/cpuinfo)
B=/alcatraz/build
R=$B/examples/alcatraz-run
cases=/alcatraz/tests/lab/tests/guest-cases
kvmtest=/alcatraz/add/hb-kvmtest
# With --add of the guest kernel and alcatraz-init (lab-intel-hyperbox-linux): a Linux microVM too.
export ALCATRAZ_KERNEL=$B/kernel/vmlinux ALCATRAZ_INIT=$B/src/guest/alcatraz-init
export ALCATRAZ_VMM=$B/src/vmm/alcatraz-vmm
linux=0
[ -f "$ALCATRAZ_KERNEL" ] && [ -x "$ALCATRAZ_INIT" ] && [ -x "$R" ] && linux=1
# run_all DIR: hb-kvmtest, every tiny guest, the microVM; outputs and statuses into DIR
run_all() {
	d=$1; mkdir -p "$d"
	if [ -x "$kvmtest" ]; then
		timeout 120 "$kvmtest" > "$d/kvmtest.out" 2>&1; echo $? > "$d/kvmtest.status"
	fi
	if [ $linux = 1 ]; then
		# The VMM jail cannot pivot_root from the lab's initramfs root (see tests/e2e).
		timeout 600 "$R" --insecure-no-sandbox -- sh -c 'echo hello from linux; grep -c ^processor /proc/cpuinfo; exit 7' \
			> "$d/linux.out" 2> "$d/linux.err" < /dev/null
		echo $? > "$d/linux.status"
	fi
	[ -x "$R" ] && [ -f "$cases" ] || return 0
	while read -r name want args; do
		case $name in ''|'#'*) continue ;; esac
		# shellcheck disable=SC2086  # args are split on purpose
		(cd $B/tests/guests && timeout 60 "$R" $args > "$d/$name.out" 2> "$d/$name.err" < /dev/null)
		rc=$?; echo $rc > "$d/$name.status"
		[ "$rc" = "$want" ] || echo "$name: status $rc, want $want" >> "$d/wrong"
	done < "$cases"
}

# ---- 1. kvm_intel alone
t0=$(cut -d' ' -f1 /proc/uptime)
/alcatraz/lab/load-kvm || { echo "FAIL: kvm_intel alone does not load"; exit 1; }
run_all /tmp/without
t1=$(cut -d' ' -f1 /proc/uptime)
echo "kvm_intel alone: guests took $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
for f in /tmp/without/*.status; do printf '%s=%s ' "$(basename "$f" .status)" "$(cat "$f")"; done; echo
[ -s /tmp/without/wrong ] && cat /tmp/without/wrong
# The jailed VMMs' last references to kvm go a little after alcatraz-run returns.
i=0
while [ -d /sys/module/kvm_intel ] && [ $i -lt 40 ]; do
	rmmod kvm_intel 2>/dev/null || sleep 0.25
	i=$((i + 1))
done
rmmod kvm && rmmod irqbypass
check "kvm_intel unloaded before Hyper-box" test ! -d /sys/module/kvm_intel
[ -d /sys/module/kvm_intel ] && { echo "hyperbox-intel: kvm_intel stays loaded, stopping"; exit 1; }

# The VT-x replays on the CPU alone first: the answers a CPU gives, which
# the same replays must get from Hyper-box's emulation below.
if [ -f $M/hb_attack_vmx.ko ]; then
	n0=$(dmesg | wc -l)
	insmod $M/hb_attack_vmx.ko && rmmod hb_attack_vmx
	dmesg | tail -n +$((n0 + 1)) | grep hb_attack_vmx: > /tmp/vmx.cpu
	cat /tmp/vmx.cpu
	for r in vmxon_without_cr4_vmxe vmxon_twice vmptrld_vmxon_region vmresume_clear_vmcs l2_own_db; do
		check "CPU alone: VMX replay $r as expected" grep -q "hb_attack_vmx: OK $r" /tmp/vmx.cpu
	done
fi

# ---- 2. Hyper-box
t0=$(cut -d' ' -f1 /proc/uptime)
insmod $M/hyperbox.ko
check "insmod hyperbox" test $? = 0
t1=$(cut -d' ' -f1 /proc/uptime)
echo "insmod hyperbox took $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
dmesg | grep hyperbox: | tail -n 3
check "dmesg: Ring -1 active on $ncpu CPU(s) (vmx)" sh -c "dmesg | grep -q 'hyperbox: Ring -1 active on $ncpu CPU(s) (vmx)'"
[ -d /sys/module/hyperbox ] || { echo "hyperbox-intel: not loaded, stopping"; exit 1; }
check "state active cpus=$ncpu/$ncpu (VMCALL ping from Ring -1)" \
	sh -c "grep -q '^active cpus=$ncpu/$ncpu' /sys/kernel/hyperbox/state"
for i in 1 2 3 4; do (ls /proc > /dev/null; cat /proc/cpuinfo > /dev/null) & done; wait
check "exits counted (cpuid)" sh -c 'grep -q "^cpuid [1-9]" /sys/kernel/hyperbox/exits'
check "protected ranges listed (hidden, text, rodata, ex_table, idt, gdt)" sh -c \
	'for k in hidden text rodata ex_table idt gdt; do grep -q "^$k " /sys/kernel/hyperbox/protected || exit 1; done'
check "no violations from the kernel's own work" sh -c \
	'! grep -v "^text_poke_allowed" /sys/kernel/hyperbox/violations | grep -qv " 0$"'

hidden=$(awk '$1 == "hidden" { split($2, a, "-"); print a[1]; exit }' /sys/kernel/hyperbox/protected)
echo "a hidden range starts at $hidden"
# attack replays (vendor-neutral ones; its nested_map_hidden is SVM code: not run here)
if [ -f $M/hb_attack.ko ]; then
	insmod $M/hb_attack.ko
	dmesg | grep hb_attack:
	sleep 0.3	# the log drain runs every 100 ms
	for r in text_write cr0_wp_clear lstar_write; do
		check "replay $r blocked" sh -c "dmesg | grep -q 'hb_attack: BLOCKED $r'"
	done
	check "replay cr4_smep_clear blocked" sh -c "dmesg | grep -q 'hb_attack: BLOCKED cr4_smep_clear'"
	for v in text_write cr0_wp syscall_msr; do
		check "violation $v counted" sh -c "grep -q '^$v [1-9]' /sys/kernel/hyperbox/violations"
	done
fi

# VT-x replays: L1's VMX instructions against Hyper-box's emulation
if [ -f $M/hb_attack_vmx.ko ]; then
	vb=$(awk '$1 == "nested_map_hidden" { print $2 }' /sys/kernel/hyperbox/violations)
	n0=$(dmesg | wc -l)
	insmod $M/hb_attack_vmx.ko hidden_pa=$(printf %d "$hidden")
	sleep 0.3
	dmesg | tail -n +$((n0 + 1)) | grep hb_attack_vmx: > /tmp/vmx.hb
	cat /tmp/vmx.hb
	for r in vmxon_without_cr4_vmxe vmxon_twice vmptrld_vmxon_region vmresume_clear_vmcs l2_own_db; do
		check "VMX replay $r gets the CPU's answer" grep -q "hb_attack_vmx: OK $r" /tmp/vmx.hb
	done
	check "L2's own #DB went through Hyper-box (l2_exception_kept > 0)" \
		grep -q "^l2_exception_kept [1-9]" /sys/kernel/hyperbox/exits
	for r in vmptrld_hidden nested_map_hidden nested_fill_hidden nested_prefill_hidden nested_ahead_hidden nested_kept_hidden; do
		check "replay $r blocked" grep -q "hb_attack_vmx: BLOCKED $r" /tmp/vmx.hb
	done
	va=$(awk '$1 == "nested_map_hidden" { print $2 }' /sys/kernel/hyperbox/violations)
	# one at VMLAUNCH (the whole-EPT check), four at shadow EPT fills
	# (fill, prefill, ahead, kept root: each refused at L2's own fault)
	check "violation nested_map_hidden counted by both EPT checks ($vb -> $va)" test "$va" -ge $((vb + 5))
	check "violation nested_map_hidden logged with rip" sh -c \
		"dmesg | grep -q 'hyperbox: cpu[0-9]* denied nested_map_hidden at rip=0x'"
fi

# ---- 3. kvm_intel after Hyper-box: its guests run as L2 on the hardware
t0=$(cut -d' ' -f1 /proc/uptime)
/alcatraz/lab/load-kvm
check "kvm_intel loads after hyperbox" test $? = 0
t1=$(cut -d' ' -f1 /proc/uptime)
echo "load-kvm took $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
for p in ept unrestricted_guest vpid enable_shadow_vmcs nested; do
	printf 'kvm_intel %s=%s\n' $p "$(cat /sys/module/kvm_intel/parameters/$p 2>/dev/null)"
done
check "kvm_intel uses EPT and unrestricted guest on Hyper-box" sh -c \
	'grep -qx Y /sys/module/kvm_intel/parameters/ept && grep -qx Y /sys/module/kvm_intel/parameters/unrestricted_guest'
l2b=$(awk '$1 == "l2_runs" { print $2 }' /sys/kernel/hyperbox/exits)
grep -E '^nested_' /sys/kernel/hyperbox/violations > /tmp/nested.before
cp /sys/kernel/hyperbox/exits /tmp/exits.before
t0=$(cut -d' ' -f1 /proc/uptime)
run_all /tmp/with
t1=$(cut -d' ' -f1 /proc/uptime)
cp /sys/kernel/hyperbox/exits /tmp/exits.after
. /alcatraz/tests/lab/intel/figures.sh
exit_figures /tmp/exits.before /tmp/exits.after "hyperbox-intel: the guests"
echo "on Hyper-box: guests took $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
[ -f /tmp/with/kvmtest.out ] && { echo "--- hb-kvmtest on Hyper-box:"; cat /tmp/with/kvmtest.out; }
[ -f /tmp/with/kvmtest.status ] &&
	check "hb-kvmtest on Hyper-box: the guest halted after its output" \
		test "$(tr -d '\n' < /tmp/with/kvmtest.out)" = "hello@exit: hlt"
[ $linux = 1 ] && check "Linux microVM on Hyper-box printed its output (status 7)" \
	sh -c 'test "$(cat /tmp/with/linux.status)" = 7 && grep -q "^hello from linux$" /tmp/with/linux.out'
check "every tiny guest has its expected status on Hyper-box" test ! -s /tmp/with/wrong
[ -s /tmp/with/wrong ] && cat /tmp/with/wrong
. /alcatraz/tests/lab/compare-runs.sh
compare_runs /tmp/without /tmp/with
l2a=$(awk '$1 == "l2_runs" { print $2 }' /sys/kernel/hyperbox/exits)
check "L2 entries reached Hyper-box ($l2b -> $l2a)" test "$l2a" -gt "$l2b"
check "L2 ran on the shadow EPT (l2_ept_violation, shadow_fills > 0)" sh -c \
	'grep -q "^l2_ept_violation [1-9]" /sys/kernel/hyperbox/exits && grep -q "^shadow_fills [1-9]" /sys/kernel/hyperbox/exits'
check "L2's exits went to kvm_intel (l2_reflected > 0)" grep -q "^l2_reflected [1-9]" /sys/kernel/hyperbox/exits
check "shadow EPT entries mapped ahead of L2's faults (shadow_ahead > 0)" \
	grep -q "^shadow_ahead [1-9]" /sys/kernel/hyperbox/exits
# VMCS shadowing (Bochs's Skylake-X has it): kvm_intel's VMREAD/VMWRITE of
# the fields it uses around each L2 exit run without an exit.  Emulated,
# the same runs took about 8 VMREAD exits per L2 entry (3841 for 487).
vr=$(awk '$1 == "vmread" { print $2 }' /sys/kernel/hyperbox/exits)
check "VMCS shadowing is on (the load says so)" sh -c 'dmesg | grep -q "hyperbox: VMCS shadowing on"'
check "VMCS shadowing: kvm_intel's VMCS12s were loaded into the shadow VMCS" \
	grep -q "^vmcs_shadow_loads [1-9]" /sys/kernel/hyperbox/exits
check "VMCS shadowing: fewer VMREAD exits than L2 entries ($vr for $((l2a - l2b)))" \
	test "${vr:-0}" -lt "$((l2a - l2b))"
# What an exit of a KVM guest costs (tests/lab/intel/exits.sh): N CPUIDs
# that KVM handles in the kernel, one L2 run each.
if [ -x "$kvmtest" ]; then
	cp /sys/kernel/hyperbox/exits /tmp/exits.before
	check "hb-kvmtest --cpuid 2000 on Hyper-box halted" \
		test "$(timeout 120 "$kvmtest" --cpuid 2000 | tr -d '\n')" = "exit: hlt"
	cp /sys/kernel/hyperbox/exits /tmp/exits.after
	exit_figures /tmp/exits.before /tmp/exits.after "hyperbox-intel: hb-kvmtest --cpuid 2000"
	runs=$(exit_delta /tmp/exits.before /tmp/exits.after l2_runs)
	all=$(exit_delta /tmp/exits.before /tmp/exits.after vm_exits)
	check "at most 2.5 Hyper-box exits per L2 run in a CPUID loop ($all for $runs)" \
		awk -v r="${runs:-0}" -v a="${all:-0}" 'BEGIN { exit !(r >= 2000 && a <= 2.5 * r) }'
fi
# NMIs while KVM runs its guests (sysrq-l sends NMIs to the other CPUs;
# with one CPU it prints its own backtrace without an NMI: not run then)
if [ -x "$kvmtest" ] && [ "$ncpu" -gt 1 ]; then
	( i=0; while [ $i -lt 10 ]; do echo l > /proc/sysrq-trigger; sleep 0.2; i=$((i + 1)); done ) > /dev/null 2>&1 &
	storm=$!
	for i in 1 2; do
		check "hb-kvmtest under an NMI storm ($i)" test "$(timeout 60 "$kvmtest" | tr -d '\n')" = "hello@exit: hlt"
	done
	wait $storm
	check "NMIs were delivered to L1 (NMI backtraces)" sh -c 'dmesg | grep -q "NMI backtrace for cpu"'
fi
grep -E '^nested_' /sys/kernel/hyperbox/violations > /tmp/nested.after
check "no nested violations from kvm_intel's own guests" cmp -s /tmp/nested.before /tmp/nested.after
check "no oops" sh -c "! dmesg | grep -q 'Oops\|invalid opcode\|BUG:'"
# load_TLS writes three TLS descriptors a context switch into the locked
# GDT: the first store's EPT violation carries out the two that follow.
tls=$(awk '$1 == "gdt_tls" { print $2 }' /sys/kernel/hyperbox/exits)
follow=$(awk '$1 == "gdt_tls_follow" { print $2 }' /sys/kernel/hyperbox/exits)
check "load_TLS: one exit a context switch ($follow of ${tls:-?} TLS stores rode along)" \
	test "${tls:-0}" -gt 0 -a $((3 * ${follow:-0})) -ge $((2 * tls - 30))
check "Ring -1 still active after the VMs" sh -c "grep -q '^active' /sys/kernel/hyperbox/state"
rmmod hyperbox 2>/dev/null
check "rmmod refused by default" test -d /sys/module/hyperbox
# The verdict before and after the counters: Bochs sometimes loses the
# console's last lines when it exits at power-off.
echo "hyperbox-intel: $fail failed"
grep -v " 0$" /sys/kernel/hyperbox/exits
grep -v " 0$" /sys/kernel/hyperbox/violations
echo "hyperbox-intel: $fail failed"
sleep 0.5	# let the console drain before power-off
[ $fail = 0 ]
