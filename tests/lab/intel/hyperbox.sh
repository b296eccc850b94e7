#!/bin/sh
# VT-x lab, one boot (tests/lab/run --vendor intel --no-kvm --module hyperbox.ko
# [--module hb_attack.ko]): Hyper-box's late launch on every CPU, EPT
# protections and attack replays, then kvm_intel loaded on top of it and the
# tiny guest through alcatraz-run.  Exit 0 pass, 1 fail.
M=/alcatraz/modules
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
ncpu=$(grep -c ^processor /proc/cpuinfo)
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
	sleep 1		# the log drain runs every 100 ms
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
	insmod $M/hb_attack_vmx.ko hidden_pa=$(printf %d "$hidden")
	dmesg | grep hb_attack_vmx:
	sleep 1
	for r in vmxon_without_cr4_vmxe vmxon_twice vmptrld_vmxon_region vmresume_clear_vmcs; do
		check "VMX misuse $r gets the CPU's answer" sh -c "dmesg | grep -q 'hb_attack_vmx: OK $r'"
	done
	for r in vmptrld_hidden nested_map_hidden; do
		check "replay $r blocked" sh -c "dmesg | grep -q 'hb_attack_vmx: BLOCKED $r'"
	done
	va=$(awk '$1 == "nested_map_hidden" { print $2 }' /sys/kernel/hyperbox/violations)
	check "violation nested_map_hidden counted by the EPT check ($vb -> $va)" test "$va" -gt "$vb"
	check "violation nested_map_hidden logged with rip" sh -c \
		"dmesg | grep -q 'hyperbox: cpu[0-9]* denied nested_map_hidden at rip=0x'"
fi

# kvm_intel after Hyper-box: it sees VMX through the emulated instructions
t0=$(cut -d' ' -f1 /proc/uptime)
/alcatraz/lab/load-kvm
check "kvm_intel loads after hyperbox" test $? = 0
t1=$(cut -d' ' -f1 /proc/uptime)
echo "load-kvm took $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
for p in ept unrestricted_guest vpid enable_shadow_vmcs nested; do
	printf 'kvm_intel %s=%s\n' $p "$(cat /sys/module/kvm_intel/parameters/$p 2>/dev/null)"
done
run=/alcatraz/build/examples/alcatraz-run
img=/alcatraz/build/tests/guests/hello.img
if [ -x "$run" ] && [ -f "$img" ]; then
	lb=$(awk '$1 == "vmlaunch" { print $2 }' /sys/kernel/hyperbox/exits)
	out=$("$run" --guest "$img" 2>/tmp/hello.err < /dev/null)
	rc=$?
	echo "hello through kvm_intel on Hyper-box: status $rc: $out"
	sed 's/^/hello stderr: /' /tmp/hello.err
	la=$(awk '$1 == "vmlaunch" { print $2 }' /sys/kernel/hyperbox/exits)
	check "kvm_intel's VMLAUNCH reached Hyper-box ($lb -> $la)" test "$la" -gt "$lb"
	check "the VM failed cleanly (L2 entry not implemented yet: VMfailValid 7)" sh -c \
		"test $rc = 125 && grep -q 'VM entry failed, reason 0x7' /tmp/hello.err"
	check "no oops" sh -c "! dmesg | grep -q 'Oops\|invalid opcode\|BUG:'"
	check "Ring -1 still active after the VM" sh -c "grep -q '^active' /sys/kernel/hyperbox/state"
fi
rmmod hyperbox 2>/dev/null
check "rmmod refused by default" test -d /sys/module/hyperbox
grep -v " 0$" /sys/kernel/hyperbox/exits
grep -v " 0$" /sys/kernel/hyperbox/violations
echo "hyperbox-intel: $fail failed"
sleep 0.2	# let the console drain before power-off
[ $fail = 0 ]
