/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM without KVM for the unit tests of its devices: no VM or vCPU fds, the
 * locks initialised, the MMIO bus, and (mem_bytes > 0) real guest memory and
 * an event loop that is never started. fake_vm.c, also the fuzz targets'
 * (fuzz_vm.c).
 */
#ifndef ALCATRAZ_FAKE_VM_H
#define ALCATRAZ_FAKE_VM_H

#include <stdbool.h>
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

/* A virtio-mmio driver's bring-up of d: the features the device offers
 * plus VERSION_1, every queue of num entries with queue q's rings at
 * rings + q * 0x1000 (descriptors, the driver area at +0x200, the device
 * area at +0x400), then DRIVER_OK. False when the device is not live. */
bool fake_virtio_bring_up(struct virtio_dev *d, uint32_t num, uint32_t rings);

/* Fills the pipe of write end wfd through a second, non-blocking
 * description of it, so the descriptor under test keeps its own flags. */
void fill_pipe(int wfd);

#endif
