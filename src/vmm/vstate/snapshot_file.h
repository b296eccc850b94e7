/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The snapshot state file (issue 18): what a VM's vCPUs, in-kernel devices
 * and emulated devices held when it was snapshotted; guest RAM is a file of
 * its own beside it. The file is hostile input when restored: snap_parse()
 * checks it whole before anything reads a section.
 *
 * Layout, all integers little-endian:
 *
 *   header (SNAP_HEADER_SIZE bytes)
 *     magic "ALCZSNAP", u32 version, u32 header size, u32 vCPUs,
 *     u32 sections, u64 RAM bytes, u64 kernel identity, u64 body bytes,
 *     u32 CRC32C, u32 flags (SNAP_F_*), 8 reserved bytes (0)
 *   body: sections, one after the other
 *     u32 type, u32 instance, u64 length, payload, zeros to 8 bytes
 *
 * The CRC32C covers the header (its CRC field as zero) and the body, not
 * the memory file: RAM is the guest's own data, which restoring hands back
 * to the guest as bytes without interpreting any of it (a booted guest can
 * write anything there too), and a checksum over it would read all of it
 * at every restore, defeating the lazy mapping. The kernel identity is a
 * 64-bit FNV-1a of the kernel's build ID and file size when the kernel is
 * an ELF file with a GNU build ID note (the linker's hash of the whole
 * kernel: a restore reads a few KiB, not the kernel), else of the whole
 * file: it tells a snapshot of another kernel from a mistake, it
 * authenticates nothing (whoever writes the state file writes guest memory
 * too, and a restored guest can do nothing a booted one cannot).
 */
#ifndef ALCATRAZ_SNAPSHOT_FILE_H
#define ALCATRAZ_SNAPSHOT_FILE_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC "ALCZSNAP"
#define SNAP_MAGIC_LEN 8
#define SNAP_VERSION 2 /* 2: vsock keeps the guest CID, the control channel its session */
#define SNAP_HEADER_SIZE 64
#define SNAP_SECTION_HDR 16
#define SNAP_ALIGN 8
/* Far above what a VM of SNAP_MAX_VCPUS vCPUs and its devices write
 * (about 12 KiB a vCPU with XSAVE), far below what hurts to read. */
#define SNAP_MAX_FILE (16u << 20)
#define SNAP_MAX_SECTIONS 4096
#define SNAP_MAX_SECTION (1u << 20)
#define SNAP_MAX_VCPUS 64

/* Section types. Per-vCPU sections have the vCPU index as instance;
 * device sections the device's index; VM-wide ones instance 0. */
enum snap_section_type {
	SNAP_SEC_VCPU_REGS = 1,    /* struct kvm_regs */
	SNAP_SEC_VCPU_SREGS,       /* struct kvm_sregs */
	SNAP_SEC_VCPU_XSAVE,       /* struct kvm_xsave (4 KiB region) */
	SNAP_SEC_VCPU_XCRS,        /* struct kvm_xcrs */
	SNAP_SEC_VCPU_MSRS,        /* u32 count, u32 0, then (u32 index, u32 0, u64 data) each */
	SNAP_SEC_VCPU_LAPIC,       /* struct kvm_lapic_state */
	SNAP_SEC_VCPU_EVENTS,      /* struct kvm_vcpu_events */
	SNAP_SEC_VCPU_MPSTATE,     /* struct kvm_mp_state */
	SNAP_SEC_VM_PIC_MASTER,    /* struct kvm_irqchip, chip 0 */
	SNAP_SEC_VM_PIC_SLAVE,     /* struct kvm_irqchip, chip 1 */
	SNAP_SEC_VM_IOAPIC,        /* struct kvm_irqchip, chip 2 */
	SNAP_SEC_VM_PIT2,          /* struct kvm_pit_state2 */
	SNAP_SEC_VM_CLOCK,         /* struct kvm_clock_data */
	SNAP_SEC_DEVICE,           /* a device's own state (its parser checks it) */
	SNAP_SEC_TYPE_MAX          /* one past the last */
};

/* The VM had KVM's in-kernel irqchip: its LAPIC, PIC, IOAPIC and PIT
 * sections are required (and refused without it). */
#define SNAP_F_IRQCHIP 0x1u
#define SNAP_F_ALL SNAP_F_IRQCHIP
#define SNAP_MAX_MSRS 512
#define SNAP_MAX_DEVICES 32

/* What the header says; the restorer compares it with what it was asked
 * for before it believes any section. */
struct snap_info {
	uint32_t nr_vcpus;
	uint64_t mem_bytes;
	uint64_t kernel_id;
	uint32_t flags;            /* SNAP_F_* */
};

struct snap_section {
	uint32_t type;
	uint32_t instance;
	const uint8_t *data;       /* into the parsed buffer */
	uint64_t len;
};

struct snap_state {
	struct snap_info info;
	struct snap_section *sec;  /* sections in file order */
	uint32_t nr_sec;
};

/* Building a state file in memory. Errors stick: snap_finish() reports the
 * first one. */
struct snap_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	uint32_t nr_sec;
	int err;
	struct snap_info info;
};

uint32_t snap_crc32c(uint32_t crc, const void *data, size_t len);
uint64_t snap_kernel_id(const void *data, size_t len);

/* The longest build ID taken (SHA-1's is 20 bytes, a UUID's 16). */
#define SNAP_BUILD_ID_MAX 64
/* A GNU build ID note among the ELF notes in notes[0, len): its length
 * (1 to SNAP_BUILD_ID_MAX) with the ID in id, or 0 when there is none. */
size_t snap_find_build_id(const uint8_t *notes, size_t len, uint8_t id[SNAP_BUILD_ID_MAX]);
/* The identity of a kernel by its build ID and its file's size. */
uint64_t snap_build_id_identity(const uint8_t *id, size_t id_len, uint64_t file_size);

void snap_writer_init(struct snap_writer *w, const struct snap_info *info);
void snap_add(struct snap_writer *w, uint32_t type, uint32_t instance, const void *data,
	      uint64_t len);
/* Fills the header in; *out (malloc'ed) and *len take the file. Frees the
 * writer's buffer on failure. */
int snap_finish(struct snap_writer *w, uint8_t **out, size_t *len);
void snap_writer_free(struct snap_writer *w);

/*
 * Checks buf[0..len) whole: size, header fields, checksum, every section's
 * bounds, type and size, no duplicate, and every section the header's vCPU
 * count needs. 0 with *st filled (its sections point into buf; free with
 * snap_state_free), or a negative errno with *why a one-line reason:
 * -EFBIG too large, -EBADMSG truncated/corrupt, -EINVAL not a state file or
 * a bad field, -EPROTONOSUPPORT another version.
 */
int snap_parse(const uint8_t *buf, size_t len, struct snap_state *st, const char **why);
void snap_state_free(struct snap_state *st);
const struct snap_section *snap_find(const struct snap_state *st, uint32_t type,
				     uint32_t instance);

#endif /* ALCATRAZ_SNAPSHOT_FILE_H */
