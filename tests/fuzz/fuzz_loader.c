// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel loaders: a vmlinux ELF (with or without the PVH note) or a
 * bzImage through linux_load() and linux_finish() (linux.c), or a raw
 * image through raw_image_load() (loader_raw.c), read from a file like a
 * user's kernel, into 2 MiB of guest RAM.
 *
 * Input: u8 sel (bit 0: raw image; bits 1-2: vCPUs - 1; bit 3: an
 * initrd), u32 initrd length (% 4 MiB), then the kernel or image file.
 *
 * Beyond the sanitizers: whatever loaded, the initrd lies in RAM above
 * everything the kernel occupies (its ELF segments; for a bzImage the
 * decompressed kernel up to pref_address + init_size) and below the
 * kernel's initrd_addr_max; a raw image loads exactly when it and the
 * vCPUs' stacks fit.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_vm.h"
#include "linux_boot.h"

#define MEM (2 * 1024 * 1024)
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Where the kernel ends in guest RAM and the highest address an initrd
 * may reach, as the image itself says. */
static void kernel_extent(const uint8_t *img, uint64_t len, uint64_t *end, uint64_t *initrd_top)
{
	struct elf_info elf;
	struct bzimage_info bz;

	*end = LINUX_HIGH_START;
	*initrd_top = MEM;
	if (linux_parse_elf(img, len, MEM, &elf) == 0) {
		for (unsigned int i = 0; i < elf.nr_segments; i++)
			if (elf.seg[i].paddr + elf.seg[i].memsz > *end)
				*end = elf.seg[i].paddr + elf.seg[i].memsz;
		return;
	}
	if (linux_parse_bzimage(img, len, &bz) == 0) {
		unsigned __int128 decomp = (unsigned __int128)bz.pref_address + bz.init_size;

		*end = LINUX_HIGH_START + bz.kernel_len;
		FUZZ_ASSERT(decomp <= MEM, "bzImage loaded although pref_address 0x%lx + init_size 0x%x "
			    "lies beyond guest RAM", (unsigned long)bz.pref_address, bz.init_size);
		if (decomp > *end)
			*end = (uint64_t)decomp;
		if ((uint64_t)bz.initrd_addr_max + 1 < *initrd_top)
			*initrd_top = (uint64_t)bz.initrd_addr_max + 1;
	}
}

static void check_linux(struct vm *vm, const uint8_t *img, uint64_t len, bool pvh_possible)
{
	uint64_t end, top, gpa, ilen;
	uint8_t si[4];

	kernel_extent(img, len, &end, &top);
	if (linux_finish(vm, "console=ttyS0 quiet"))
		return;
	/* PVH start info (magic first) or boot_params. */
	if (gmem_read(&vm->mem, LINUX_ZERO_PAGE, si, 4))
		abort();
	if (pvh_possible && get32(si) == 0x336ec578) {
		uint64_t mod[2];
		if (gmem_read(&vm->mem, LINUX_PVH_MODLIST, mod, sizeof(mod)))
			abort();
		gpa = mod[0];
		ilen = mod[1];
	} else {
		gpa = get32(vm->mem.host + LINUX_ZERO_PAGE + BP_RAMDISK_IMAGE);
		ilen = get32(vm->mem.host + LINUX_ZERO_PAGE + BP_RAMDISK_SIZE);
	}
	if (!ilen)
		return;
	FUZZ_ASSERT(gpa >= end && gpa + ilen <= top && gpa + ilen <= MEM,
		    "initrd [0x%lx, +0x%lx) overlaps the kernel (ends 0x%lx) or passes 0x%lx",
		    (unsigned long)gpa, (unsigned long)ilen, (unsigned long)end, (unsigned long)top);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct fuzz_in in = { data, size };
	uint8_t sel = fin_u8(&in);
	uint32_t initrd_len = fin_u32(&in) % (4 * 1024 * 1024);
	struct vm *vm;
	int ret;

	if (fd < 0) {
		fd = memfd_create("kernel", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, in.p, in.left, 0) != (ssize_t)in.left)
		abort();
	vm = fvm_new(MEM, false);
	vm->cfg.vcpus = vm->nr_vcpus = 1 + ((sel >> 1) & 3);
	if (sel & 1) {
		uint64_t room = MEM - RAW_IMAGE_BASE - (uint64_t)vm->nr_vcpus * RAW_STACK_PER_VCPU;

		vm->cfg.image_path = path;
		ret = raw_image_load(vm);
		FUZZ_ASSERT((ret == 0) == (in.left > 0 && in.left <= room),
			    "raw image of %zu bytes (room %lu): %d", in.left, (unsigned long)room, ret);
	} else {
		vm->cfg.kernel_path = path;
		if (sel & 8) {
			vm->cfg.initrd_data = calloc(1, initrd_len ? initrd_len : 1);
			vm->cfg.initrd_len = initrd_len;
		}
		if (linux_load(vm) == 0)
			check_linux(vm, in.p, in.left, true);
		linux_free(vm);
		free(vm->cfg.initrd_data);
	}
	fvm_free(vm);
	return 0;
}
