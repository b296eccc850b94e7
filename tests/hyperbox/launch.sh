#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Lab test: late launch on every CPU, sysfs state and counters, hidden
# memory, unload refused by default.  Exit 0 pass, 1 fail.
M=/alcatraz/modules
fail=0
check() { d=$1; shift; if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; fail=$((fail + 1)); fi; }
# All or none: a launch that fails on one CPU is undone on the others.
insmod $M/hyperbox.ko fail_launch_on_cpu=1 2>/dev/null
check "a launch failing on CPU 1 refuses the load" test $? != 0
check "one line: launched on CPU 0 of 0-1 only, rolled back" sh -c \
	'dmesg | grep -q "hyperbox: refusing to load: launched on CPU(s) 0 of 0-1 only; rolled back"'
check "nothing left loaded" sh -c '! test -d /sys/module/hyperbox && ! test -d /sys/kernel/hyperbox'
for i in 1 2 3 4; do (j=0; while [ $j -lt 200 ]; do j=$((j+1)); done; ls /proc > /dev/null) & done; wait
insmod $M/hyperbox.ko
check "insmod hyperbox" test $? = 0
check "dmesg: Ring -1 active on 2 CPU(s)" sh -c 'dmesg | grep -q "hyperbox: Ring -1 active on 2 CPU(s)"'
for cpu in 1 2; do
	check "state active on cpu mask $cpu" sh -c "taskset $cpu cat /sys/kernel/hyperbox/state | grep -q '^active cpus=2/2'"
done
# work on both CPUs while demoted
for i in 1 2 3 4; do (j=0; while [ $j -lt 200 ]; do j=$((j+1)); done; ls /proc > /dev/null) & done; wait
check "exits counted (cpuid)" sh -c 'grep -q "^cpuid [1-9]" /sys/kernel/hyperbox/exits'
check "protected ranges listed (hidden, text, rodata, ex_table, idt, gdt)" sh -c \
	'for k in hidden text rodata ex_table idt gdt; do grep -q "^$k " /sys/kernel/hyperbox/protected || exit 1; done'
check "no violations from the kernel's own work" sh -c \
	'! grep -v "^text_poke_allowed" /sys/kernel/hyperbox/violations | grep -qv " 0$"'
rmmod hyperbox 2>/dev/null
check "rmmod refused by default" test -d /sys/module/hyperbox
cat /sys/kernel/hyperbox/state /sys/kernel/hyperbox/exits
echo "hyperbox-launch: $fail failed"
[ $fail = 0 ]
