/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux boot internals: kernel image parsers (pure functions over a byte
 * buffer, unit-tested with hostile input) and the guest-physical layout
 * below 1 MiB that linux.c and mptable.c share.
 */
#ifndef ALCATRAZ_LINUX_BOOT_H
#define ALCATRAZ_LINUX_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm.h"

/* Low memory (Linux reserves the first 64 KiB for itself anyway). */
#define LINUX_PVH_GDT 0x500ULL
#define LINUX_ZERO_PAGE 0x8000ULL   /* boot_params, or hvm_start_info for PVH */
#define LINUX_PVH_MODLIST 0x9000ULL
#define LINUX_PVH_MEMMAP 0x9100ULL
#define LINUX_BOOT_STACK 0xfff0ULL
#define LINUX_CMDLINE 0x20000ULL
#define LINUX_CMDLINE_MAX 0x10000ULL
#define LINUX_MPTABLE 0x9f000ULL     /* config table; floating pointer at +0xc00 */
#define LINUX_EBDA_END 0xa0000ULL
#define LINUX_HIGH_START 0x100000ULL

#define ELF_MAX_SEGMENTS 16

struct elf_segment {
	uint64_t paddr, offset, filesz, memsz;
};

struct elf_info {
	uint64_t entry;        /* e_entry: physical startup_64 */
	uint64_t pvh_entry;    /* XEN_ELFNOTE_PHYS32_ENTRY, 0 if absent */
	unsigned int nr_segments;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
};

struct bzimage_info {
	uint64_t setup_len;    /* real-mode part, skipped */
	uint64_t kernel_off;   /* protected-mode kernel in the file */
	uint64_t kernel_len;
	uint32_t hdr_end;      /* setup header occupies [0x1f1, hdr_end) */
	uint16_t version;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	uint32_t init_size;
	uint64_t pref_address;
	bool relocatable;
};

/* 0, -ALCATRAZ_E_BADIMAGE (not this format) or -EINVAL (this format but
 * malformed or unsupported). */
int linux_parse_elf(const uint8_t *img, uint64_t len, uint64_t mem_size, struct elf_info *out);
int linux_parse_bzimage(const uint8_t *img, uint64_t len, struct bzimage_info *out);

/* mptable.c: an Intel MP 1.4 table for n CPUs and the IOAPIC. */
int mptable_write(struct guest_mem *m, uint64_t gpa, unsigned int ncpus) __must_check;
/* Bytes the table needs (for the caller's layout check). */
uint64_t mptable_size(unsigned int ncpus);

#endif
