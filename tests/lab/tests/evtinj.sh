#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# lab-qemu-evtinj: the check's self-test, then EVTINJ_SECONDS (default 10)
# of timer interrupts injected by KVM into a real-mode L2 that must never
# take one with its IF clear (tests/lab/qemu/evtinj-twice.c).  Wants
# --single-thread --cpus 2.
E=/alcatraz/add/evtinj-twice
st=0
$E --self-test 2 || st=1
$E "${EVTINJ_SECONDS:-10}" || st=1
exit $st
