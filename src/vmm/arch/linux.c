// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Linux boot: a vmlinux ELF (entered through PVH when it carries the
 * XEN_ELFNOTE_PHYS32_ENTRY note, else through the 64-bit boot protocol) or
 * a bzImage (64-bit boot protocol, Documentation/x86/boot.rst). The kernel
 * and initrd are loaded by linux_load(); the command line, boot parameters,
 * memory map and MP table are written by linux_finish() once platform.c
 * knows the devices; the bootstrap vCPU is set up by linux_setup_vcpu().
 * Application processors are left waiting for INIT/SIPI, which Linux sends.
 *
 * The kernel file is hostile input like anything else: every offset and
 * size from its headers is checked with checked arithmetic before use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "linux_boot.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PT_LOAD 1
#define PT_NOTE 4
#define EM_X86_64 62

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX 8

/* boot_params offsets (Documentation/x86/zero-page.rst, boot.rst). */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_SECTS 0x1f1
#define BP_BOOT_FLAG 0x1fe
#define BP_JUMP 0x200
#define BP_HEADER 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_HEAP_END_PTR 0x224
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22c
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_RELOCATABLE 0x234
#define BP_XLOADFLAGS 0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_PREF_ADDRESS 0x258
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0
#define BP_SIZE 0x1000

#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define HDRS_MAGIC 0x53726448 /* "HdrS" */

/* The default command-line limit of x86 Linux (COMMAND_LINE_SIZE). */
#define LINUX_DEFAULT_CMDLINE_SIZE 2048

#define PVH_MAGIC 0x336ec578

enum boot_kind { BOOT_PVH, BOOT_64BIT };

struct linux_boot {
	enum boot_kind kind;
	uint64_t entry;
	uint8_t zero_page[BP_SIZE];  /* boot_params template (64-bit protocol) */
	uint32_t cmdline_size;
	uint64_t initrd_gpa, initrd_len;
};

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));

static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* [off, off+n) lies inside a buffer of len bytes. */
static bool in_file(uint64_t off, uint64_t n, uint64_t len)
{
	uint64_t end;
	return !__builtin_add_overflow(off, n, &end) && end <= len;
}

static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~3ULL;
}

/* Looks for the PVH entry note in one PT_NOTE segment. */
static uint64_t find_pvh_note(const uint8_t *img, uint64_t off, uint64_t size)
{
	uint64_t end = off + size; /* caller checked */

	while (off + 12 <= end) {
		uint32_t namesz = get32(img + off), descsz = get32(img + off + 4);
		uint32_t type = get32(img + off + 8);
		uint64_t name = off + 12, desc = name + align4(namesz);
		uint64_t next = desc + align4(descsz);

		if (next > end || next <= off)
			break;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 && !memcmp(img + name, "Xen", 4)) {
			if (descsz == 4)
				return get32(img + desc);
			if (descsz == 8)
				return get64(img + desc);
		}
		off = next;
	}
	return 0;
}

int linux_parse_elf(const uint8_t *img, uint64_t len, uint64_t mem_size, struct elf_info *out)
{
	uint64_t phoff;
	uint16_t phentsize, phnum;

	memset(out, 0, sizeof(*out));
	if (len < 64 || memcmp(img, "\177ELF", 4))
		return -ALCATRAZ_E_BADIMAGE;
	/* 64-bit, little-endian, version 1, executable, x86-64. */
	if (img[4] != 2 || img[5] != 1 || img[6] != 1 || get16(img + 16) != 2 ||
	    get16(img + 18) != EM_X86_64)
		return -EINVAL;
	out->entry = get64(img + 24);
	phoff = get64(img + 32);
	phentsize = get16(img + 54);
	phnum = get16(img + 56);
	if (phentsize != 56 || phnum == 0 || !in_file(phoff, (uint64_t)phnum * 56, len))
		return -EINVAL;
	for (unsigned int i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + (uint64_t)i * 56;
		uint32_t type = get32(ph);
		uint64_t offset = get64(ph + 8), paddr = get64(ph + 24);
		uint64_t filesz = get64(ph + 32), memsz = get64(ph + 40);

		if (type == PT_NOTE) {
			if (!in_file(offset, filesz, len))
				return -EINVAL;
			if (!out->pvh_entry)
				out->pvh_entry = find_pvh_note(img, offset, filesz);
			continue;
		}
		if (type != PT_LOAD || memsz == 0)
			continue;
		if (out->nr_segments >= ELF_MAX_SEGMENTS || filesz > memsz ||
		    !in_file(offset, filesz, len) || !in_file(paddr, memsz, mem_size) ||
		    paddr < LINUX_HIGH_START)
			return -EINVAL;
		out->seg[out->nr_segments++] =
			(struct elf_segment){ .paddr = paddr, .offset = offset, .filesz = filesz,
					      .memsz = memsz };
	}
	if (out->nr_segments == 0)
		return -EINVAL;
	return 0;
}

int linux_parse_bzimage(const uint8_t *img, uint64_t len, struct bzimage_info *out)
{
	unsigned int setup_sects;

	memset(out, 0, sizeof(*out));
	if (len < 0x300 || get16(img + BP_BOOT_FLAG) != 0xaa55 || get32(img + BP_HEADER) != HDRS_MAGIC)
		return -ALCATRAZ_E_BADIMAGE;
	out->version = get16(img + BP_VERSION);
	/* 2.12 brought xloadflags and with it the 64-bit entry point. */
	if (out->version < 0x020c || !(get16(img + BP_XLOADFLAGS) & XLF_KERNEL_64))
		return -EINVAL;
	setup_sects = img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : 4;
	out->setup_len = (uint64_t)(setup_sects + 1) * 512;
	out->kernel_off = out->setup_len;
	if (out->kernel_off >= len)
		return -EINVAL;
	out->kernel_len = len - out->kernel_off;
	/* The header ends where the jump at 0x200 lands. */
	out->hdr_end = 0x202 + img[BP_JUMP + 1];
	if (out->hdr_end > out->setup_len || out->hdr_end > BP_E820_TABLE)
		return -EINVAL;
	out->initrd_addr_max = get32(img + BP_INITRD_ADDR_MAX);
	out->cmdline_size = get32(img + BP_CMDLINE_SIZE);
	out->relocatable = img[BP_RELOCATABLE] != 0;
	out->pref_address = get64(img + BP_PREF_ADDRESS);
	out->init_size = get32(img + BP_INIT_SIZE);
	if (out->cmdline_size == 0 || out->initrd_addr_max < LINUX_HIGH_START)
		return -EINVAL;
	return 0;
}

static int load_elf(struct vm *vm, struct linux_boot *b, const uint8_t *img, uint64_t len,
		    uint64_t *kernel_end)
{
	struct elf_info info;
	int ret = linux_parse_elf(img, len, vm->mem.size, &info);

	if (ret)
		return ret;
	for (unsigned int i = 0; i < info.nr_segments; i++) {
		const struct elf_segment *s = &info.seg[i];
		uint8_t *dst = gmem_ptr(&vm->mem, s->paddr, s->memsz);

		if (!dst)
			return -EFBIG;
		memcpy(dst, img + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
		if (s->paddr + s->memsz > *kernel_end)
			*kernel_end = s->paddr + s->memsz;
	}
	if (info.pvh_entry) {
		if (info.pvh_entry >= vm->mem.size)
			return -EINVAL;
		b->kind = BOOT_PVH;
		b->entry = info.pvh_entry;
	} else {
		/* The 64-bit boot protocol with a zero page written from scratch. */
		b->kind = BOOT_64BIT;
		b->entry = info.entry;
		put16(b->zero_page + BP_BOOT_FLAG, 0xaa55);
		put32(b->zero_page + BP_HEADER, HDRS_MAGIC);
		put16(b->zero_page + BP_VERSION, 0x020f);
		put32(b->zero_page + BP_INITRD_ADDR_MAX, 0x7fffffff);
		put32(b->zero_page + BP_KERNEL_ALIGNMENT, 0x1000000);
		if (b->entry >= vm->mem.size)
			return -EINVAL;
	}
	b->cmdline_size = LINUX_DEFAULT_CMDLINE_SIZE;
	return 0;
}

static int load_bzimage(struct vm *vm, struct linux_boot *b, const uint8_t *img, uint64_t len,
			uint64_t *kernel_end)
{
	struct bzimage_info bz;
	uint64_t load = LINUX_HIGH_START, end, decomp;
	int ret = linux_parse_bzimage(img, len, &bz);

	if (ret)
		return ret;
	/* The decompressor works up to the preferred address + init_size;
	 * both come from the file, so their sum may wrap. */
	if (__builtin_add_overflow(load, bz.kernel_len, &end) ||
	    __builtin_add_overflow(bz.pref_address, (uint64_t)bz.init_size, &decomp))
		return -EINVAL;
	if (decomp > end)
		end = decomp;
	if (end > vm->mem.size)
		return -EFBIG;
	if (gmem_write(&vm->mem, load, img + bz.kernel_off, bz.kernel_len))
		return -EFBIG;
	*kernel_end = end;
	memcpy(b->zero_page + BP_SETUP_SECTS, img + BP_SETUP_SECTS, bz.hdr_end - BP_SETUP_SECTS);
	b->kind = BOOT_64BIT;
	b->entry = load + 0x200; /* startup_64 of the decompressor */
	b->cmdline_size = bz.cmdline_size;
	put32(b->zero_page + BP_INITRD_ADDR_MAX, bz.initrd_addr_max);
	return 0;
}

static int load_initrd(struct vm *vm, struct linux_boot *b, uint64_t kernel_end)
{
	uint8_t *data = vm->cfg.initrd_data, *owned = NULL;
	uint64_t len = vm->cfg.initrd_len, top, gpa;
	int ret;

	if (!data && (vm->cfg.initrd_fd >= 0 || vm->cfg.initrd_path)) {
		ret = vm_config_read(vm->cfg.initrd_fd, vm->cfg.initrd_path, vm->mem.size, &owned, &len);
		if (ret) {
			vm_log(vm, LOG_ERR, "initrd '%s': %s", vm->cfg.initrd_path, strerror(-ret));
			return ret;
		}
		data = owned;
	}
	if (!data || !len) {
		free(owned);
		return 0;
	}
	/* As high as allowed, page-aligned, and clear of the kernel. */
	top = vm->mem.size;
	if (b->kind == BOOT_64BIT && (uint64_t)get32(b->zero_page + BP_INITRD_ADDR_MAX) + 1 < top)
		top = (uint64_t)get32(b->zero_page + BP_INITRD_ADDR_MAX) + 1;
	if (len > top || ((top - len) & ~0xfffULL) < kernel_end) {
		vm_log(vm, LOG_ERR, "initrd of %llu KiB does not fit in guest RAM beside the kernel",
		       (unsigned long long)(len >> 10));
		free(owned);
		return -EFBIG;
	}
	gpa = (top - len) & ~0xfffULL;
	ret = gmem_write(&vm->mem, gpa, data, len);
	free(owned);
	b->initrd_gpa = gpa;
	b->initrd_len = len;
	return ret;
}

int linux_load(struct vm *vm)
{
	struct linux_boot *b;
	uint8_t *img;
	uint64_t len, kernel_end = LINUX_HIGH_START;
	int ret;

	ret = vm_config_read(vm->cfg.kernel_fd, vm->cfg.kernel_path, vm->mem.size, &img, &len);
	if (ret) {
		vm_log(vm, LOG_ERR, "kernel '%s': %s", vm->cfg.kernel_path,
		       ret == -EFBIG ? "larger than guest RAM" : strerror(-ret));
		return ret;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		free(img);
		return -ENOMEM;
	}
	vm->boot = b;
	ret = linux_parse_elf(img, len, vm->mem.size, &(struct elf_info){ 0 }) !=
			      -ALCATRAZ_E_BADIMAGE
		      ? load_elf(vm, b, img, len, &kernel_end)
		      : load_bzimage(vm, b, img, len, &kernel_end);
	free(img);
	if (ret) {
		vm_log(vm, LOG_ERR, "kernel '%s': %s", vm->cfg.kernel_path,
		       ret == -ALCATRAZ_E_BADIMAGE ? "neither a vmlinux ELF nor a bzImage"
		       : ret == -EFBIG		   ? "does not fit in guest RAM"
						   : "malformed or unsupported kernel image");
		return ret == -EINVAL ? -ALCATRAZ_E_BADIMAGE : ret;
	}
	return load_initrd(vm, b, kernel_end);
}

static unsigned int build_e820(const struct vm *vm, struct e820_entry *e)
{
	unsigned int n = 0;

	e[n++] = (struct e820_entry){ 0, LINUX_MPTABLE, E820_RAM };
	e[n++] = (struct e820_entry){ LINUX_MPTABLE, LINUX_EBDA_END - LINUX_MPTABLE, E820_RESERVED };
	if (vm->mem.size > LINUX_HIGH_START)
		e[n++] = (struct e820_entry){ LINUX_HIGH_START, vm->mem.size - LINUX_HIGH_START,
					      E820_RAM };
	return n;
}

static int write_pvh_start_info(struct vm *vm, struct linux_boot *b, uint64_t cmdline_len)
{
	struct e820_entry e[E820_MAX];
	unsigned int n = build_e820(vm, e);
	uint8_t si[56] = { 0 };
	uint64_t mod[4] = { b->initrd_gpa, b->initrd_len, 0, 0 };
	uint8_t map[E820_MAX * 24] = { 0 };
	static const uint64_t gdt[] = {
		0, 0,
		0x00cf9b000000ffffULL, /* 0x10: 32-bit code */
		0x00cf93000000ffffULL, /* 0x18: data */
	};
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		memcpy(map + i * 24, &e[i].addr, 8);
		memcpy(map + i * 24 + 8, &e[i].size, 8);
		memcpy(map + i * 24 + 16, &e[i].type, 4);
	}
	put32(si, PVH_MAGIC);
	put32(si + 4, 1);                             /* version: has the memory map */
	put32(si + 12, b->initrd_len ? 1 : 0);        /* nr_modules */
	memcpy(si + 16, &(uint64_t){ LINUX_PVH_MODLIST }, 8);
	memcpy(si + 24, &(uint64_t){ cmdline_len ? LINUX_CMDLINE : 0 }, 8);
	memcpy(si + 40, &(uint64_t){ LINUX_PVH_MEMMAP }, 8);
	put32(si + 48, n);
	if ((ret = gmem_write(&vm->mem, LINUX_ZERO_PAGE, si, sizeof(si))) ||
	    (ret = gmem_write(&vm->mem, LINUX_PVH_MODLIST, mod, sizeof(mod))) ||
	    (ret = gmem_write(&vm->mem, LINUX_PVH_MEMMAP, map, n * 24)) ||
	    (ret = gmem_write(&vm->mem, LINUX_PVH_GDT, gdt, sizeof(gdt))))
		return ret;
	return 0;
}

static int write_zero_page(struct vm *vm, struct linux_boot *b)
{
	uint8_t *bp = b->zero_page;
	struct e820_entry e[E820_MAX];
	unsigned int n = build_e820(vm, e);

	bp[BP_TYPE_OF_LOADER] = 0xff;
	bp[BP_LOADFLAGS] |= LOADED_HIGH;
	put16(bp + BP_HEAP_END_PTR, 0xfe00);
	put32(bp + BP_CMD_LINE_PTR, (uint32_t)LINUX_CMDLINE);
	put32(bp + BP_EXT_CMD_LINE_PTR, 0);
	put32(bp + BP_RAMDISK_IMAGE, (uint32_t)b->initrd_gpa);
	put32(bp + BP_RAMDISK_SIZE, (uint32_t)b->initrd_len);
	put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(b->initrd_gpa >> 32));
	put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(b->initrd_len >> 32));
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	memcpy(bp + BP_E820_TABLE, e, n * sizeof(e[0]));
	return gmem_write(&vm->mem, LINUX_ZERO_PAGE, bp, BP_SIZE);
}

int linux_finish(struct vm *vm, const char *cmdline)
{
	struct linux_boot *b = vm->boot;
	uint64_t len = strlen(cmdline);
	int ret;

	if (!b)
		return -EINVAL;
	if (len + 1 > b->cmdline_size || len + 1 > LINUX_CMDLINE_MAX) {
		vm_log(vm, LOG_ERR, "kernel command line of %llu bytes exceeds the kernel's limit of %u",
		       (unsigned long long)len, b->cmdline_size - 1);
		return -E2BIG;
	}
	ret = gmem_write(&vm->mem, LINUX_CMDLINE, cmdline, len + 1);
	if (ret)
		return ret;
	ret = mptable_write(&vm->mem, LINUX_MPTABLE, vm->cfg.vcpus);
	if (ret)
		return ret;
	if (b->kind == BOOT_PVH)
		return write_pvh_start_info(vm, b, len);
	ret = write_zero_page(vm, b);
	if (ret)
		return ret;
	return x86_build_identity_map(vm);
}

static int setup_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	return ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

static void flat32(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){ .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
				   .present = 1, .db = 1, .s = 1, .g = 1 };
}

/* PVH: 32-bit protected mode, paging off, EBX = start_info (PVH ABI). */
static int enter_pvh(struct vcpu *vcpu, uint64_t entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = entry, .rbx = LINUX_ZERO_PAGE, .rflags = 2 };

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	flat32(&sregs.cs, 0x10, 11);
	flat32(&sregs.ds, 0x18, 3);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){ .limit = 0x67, .type = 11, .present = 1 };
	sregs.ldt = (struct kvm_segment){ .type = 2, .unusable = 1 };
	sregs.gdt.base = LINUX_PVH_GDT;
	sregs.gdt.limit = 31;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = 0x11; /* PE, ET */
	sregs.cr3 = 0;
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int linux_setup_vcpu(struct vm *vm, struct vcpu *vcpu)
{
	struct linux_boot *b = vm->boot;
	int ret;

	if (!b)
		return -EINVAL;
	/* Application processors stay in wait-for-SIPI (in-kernel LAPIC). */
	if (vcpu->index != 0)
		return 0;
	ret = setup_fpu(vcpu);
	if (ret)
		return ret;
	if (b->kind == BOOT_PVH)
		return enter_pvh(vcpu, b->entry);
	return x86_enter_long_mode(vcpu, b->entry, LINUX_BOOT_STACK, 0, LINUX_ZERO_PAGE);
}

void linux_free(struct vm *vm)
{
	free(vm->boot);
	vm->boot = NULL;
}
