/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM without KVM for the unit tests of its devices: no VM or vCPU fds, the
 * locks initialised, the MMIO bus, and (mem_bytes > 0) real guest memory and
 * an event loop that is never started. fake_vm.c, also the fuzz targets'
 * (fuzz_vm.c).
 */
#ifndef ALCATRAZ_FAKE_VM_H
#define ALCATRAZ_FAKE_VM_H

#include <stdint.h>

#include "vmm.h"

/* virtio-mmio registers and device status bits (virtio 1.2, 4.2.2, 2.1). */
#define R_DRV_FEAT 0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_STATUS 0x070
#define R_DESC 0x080
#define R_DRIVER 0x090
#define R_DEVICE 0x0a0
#define ACK 1
#define DRV 2
#define DRV_OK 4
#define FEAT_OK 8

/* Prints the error and aborts on a setup failure. cfg.argv, stdout_fd and the devices are
 * the caller's. */
struct vm *fake_vm_new(uint64_t mem_bytes);
/* In vm.c's order: the event loop, the devices, the control channel, the
 * bus and memory, then the VM. */
void fake_vm_free(struct vm *vm);

/* Fills the pipe of write end wfd through a second, non-blocking
 * description of it, so the descriptor under test keeps its own flags. */
void fill_pipe(int wfd);

#endif
