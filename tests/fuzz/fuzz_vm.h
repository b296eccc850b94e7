/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM without KVM for the fuzz targets: real guest memory (memory.c, with
 * its guard pages), the real MMIO bus, an event loop that is never started
 * (the harness delivers queue notifications itself, as on_kick() would),
 * the real virtio devices and, optionally, the real control channel.
 */
#ifndef ALCATRAZ_FUZZ_VM_H
#define ALCATRAZ_FUZZ_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "virtio/virtio.h"
#include "vmm.h"

/* A finding that is not a sanitizer report: a broken promise of the code
 * under test. Prints one line and aborts, so libFuzzer keeps the input. */
#define FUZZ_ASSERT(cond, ...)                                                     \
	do {                                                                       \
		if (!(cond))                                                       \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);         \
	} while (0)
__attribute__((noreturn, format(printf, 4, 5)))
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...);

/* Reads the fuzzer's bytes front to back; past the end everything is 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};
uint8_t fin_u8(struct fuzz_in *in);
uint16_t fin_u16(struct fuzz_in *in);
uint32_t fin_u32(struct fuzz_in *in);
uint64_t fin_u64(struct fuzz_in *in);
/* Copies up to n bytes (fewer at the end); returns how many. */
size_t fin_bytes(struct fuzz_in *in, void *dst, size_t n);

enum fuzz_dev { FDEV_BLK, FDEV_BLK_RO, FDEV_RNG, FDEV_CONSOLE, FDEV_VSOCK, FDEV_NR };
extern const char *const fuzz_dev_names[FDEV_NR];

/* A fresh VM with mem_bytes of RAM; with_control: a Linux guest's command
 * ("true") and control channel. Aborts on setup failure (not a finding). */
struct vm *fvm_new(uint64_t mem_bytes, bool with_control);
void fvm_free(struct vm *vm);
struct virtio_dev *fvm_add_device(struct vm *vm, enum fuzz_dev kind);

/* The guest's 32-bit register accesses through the real MMIO handlers. */
void fvm_reg_write(struct virtio_dev *d, uint32_t off, uint32_t v);
uint32_t fvm_reg_read(struct virtio_dev *d, uint32_t off);
/* A driver's bring-up (virtio 1.2, 3.1.1) accepting every offered feature,
 * with queue i at desc[i]/avail[i]/used[i] of num[i] entries. */
void fvm_driver_init(struct virtio_dev *d, const uint16_t *num, const uint64_t *desc,
		     const uint64_t *avail, const uint64_t *used);
/* What the event thread does for a signalled kick eventfd (mmio.c's
 * on_kick): the device's notify, under its lock, while it is live. */
void fvm_deliver_kicks(struct virtio_dev *d);
/* Notifies queue q as if the driver had written QueueNotify and the event
 * thread had run. */
void fvm_notify(struct virtio_dev *d, unsigned int q);

#endif
