// SPDX-License-Identifier: LGPL-2.1-or-later
/* Description: kernel image parsers (ELF/PVH, bzImage) and the MP table reject garbage. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "linux_boot.h"

#define MEM (64ULL << 20)

static uint8_t img[8192];

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A minimal vmlinux: one PT_LOAD at 16 MiB and a PT_NOTE with the PVH entry. */
static void make_elf(void)
{
	uint8_t *ph;

	memset(img, 0, sizeof(img));
	memcpy(img, "\177ELF", 4);
	img[4] = 2, img[5] = 1, img[6] = 1;
	put16(img + 16, 2);
	put16(img + 18, 62);
	put64(img + 24, 0x1000000);
	put64(img + 32, 64);
	put16(img + 54, 56);
	put16(img + 56, 2);
	ph = img + 64;
	put32(ph, 1);                  /* PT_LOAD */
	put64(ph + 8, 0x1000);         /* offset */
	put64(ph + 24, 0x1000000);     /* paddr */
	put64(ph + 32, 0x100);         /* filesz */
	put64(ph + 40, 0x2000);        /* memsz */
	ph += 56;
	put32(ph, 4);                  /* PT_NOTE */
	put64(ph + 8, 0x400);
	put64(ph + 32, 24);
	put32(img + 0x400, 4);         /* namesz */
	put32(img + 0x404, 8);         /* descsz */
	put32(img + 0x408, 18);        /* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(img + 0x40c, "Xen", 4);
	put64(img + 0x410, 0x1000123);
}

static void make_bzimage(void)
{
	memset(img, 0, sizeof(img));
	img[0x1f1] = 4;                /* setup_sects */
	put16(img + 0x1fe, 0xaa55);
	img[0x201] = 0x66;             /* jump: header ends at 0x268 */
	put32(img + 0x202, 0x53726448);
	put16(img + 0x206, 0x020f);
	put32(img + 0x22c, 0x7fffffff);
	put16(img + 0x236, 1);         /* XLF_KERNEL_64 */
	put32(img + 0x238, 2048);
}

START_TEST(elf_valid)
{
	struct elf_info info;
	make_elf();
	ck_assert_int_eq(linux_parse_elf(img, sizeof(img), MEM, &info), 0);
	ck_assert_uint_eq(info.nr_segments, 1);
	ck_assert_uint_eq(info.pvh_entry, 0x1000123);
	ck_assert_uint_eq(info.entry, 0x1000000);
}
END_TEST

START_TEST(elf_garbage)
{
	struct elf_info info;
	memset(img, 0x5a, sizeof(img));
	ck_assert_int_eq(linux_parse_elf(img, sizeof(img), MEM, &info), -ALCATRAZ_E_BADIMAGE);
	ck_assert_int_eq(linux_parse_elf(img, 10, MEM, &info), -ALCATRAZ_E_BADIMAGE);
}
END_TEST

START_TEST(elf_hostile_headers)
{
	struct elf_info info;

	make_elf();
	put64(img + 32, UINT64_MAX - 8);       /* program headers wrap */
	ck_assert_int_eq(linux_parse_elf(img, sizeof(img), MEM, &info), -EINVAL);
	make_elf();
	put64(img + 64 + 8, sizeof(img) - 8);  /* segment data past the file */
	ck_assert_int_eq(linux_parse_elf(img, sizeof(img), MEM, &info), -EINVAL);
	make_elf();
	put64(img + 64 + 24, MEM - 0x100);     /* segment past guest RAM */
	ck_assert_int_eq(linux_parse_elf(img, sizeof(img), MEM, &info), -EINVAL);
	make_elf();
	put64(img + 64 + 32, 0x3000);          /* filesz > memsz */
	ck_assert_int_eq(linux_parse_elf(img, sizeof(img), MEM, &info), -EINVAL);
	make_elf();
	put64(img + 64 + 24, 0x1000);          /* over the boot structures */
	ck_assert_int_eq(linux_parse_elf(img, sizeof(img), MEM, &info), -EINVAL);
	make_elf();
	put16(img + 18, 3);                    /* i386 */
	ck_assert_int_eq(linux_parse_elf(img, sizeof(img), MEM, &info), -EINVAL);
	make_elf();
	put32(img + 0x400, 0xfffffff0);        /* note name size wraps: no entry */
	ck_assert_int_eq(linux_parse_elf(img, sizeof(img), MEM, &info), 0);
	ck_assert_uint_eq(info.pvh_entry, 0);
}
END_TEST

START_TEST(bzimage_valid)
{
	struct bzimage_info bz;
	make_bzimage();
	ck_assert_int_eq(linux_parse_bzimage(img, sizeof(img), &bz), 0);
	ck_assert_uint_eq(bz.kernel_off, 5 * 512);
	ck_assert_uint_eq(bz.hdr_end, 0x268);
	ck_assert_uint_eq(bz.cmdline_size, 2048);
}
END_TEST

START_TEST(bzimage_garbage)
{
	struct bzimage_info bz;

	memset(img, 0, sizeof(img));
	ck_assert_int_eq(linux_parse_bzimage(img, sizeof(img), &bz), -ALCATRAZ_E_BADIMAGE);
	make_bzimage();
	ck_assert_int_eq(linux_parse_bzimage(img, 0x100, &bz), -ALCATRAZ_E_BADIMAGE);
	make_bzimage();
	put16(img + 0x206, 0x020b);            /* too old for the 64-bit entry */
	ck_assert_int_eq(linux_parse_bzimage(img, sizeof(img), &bz), -EINVAL);
	make_bzimage();
	put16(img + 0x236, 0);                 /* no 64-bit entry */
	ck_assert_int_eq(linux_parse_bzimage(img, sizeof(img), &bz), -EINVAL);
	make_bzimage();
	img[0x1f1] = 0xff;                     /* setup larger than the file */
	ck_assert_int_eq(linux_parse_bzimage(img, sizeof(img), &bz), -EINVAL);
	make_bzimage();
	img[0x1f1] = 1;
	img[0x201] = 0xff;                     /* header beyond the setup code */
	ck_assert_int_eq(linux_parse_bzimage(img, sizeof(img), &bz), -EINVAL);
}
END_TEST

/* Loads img[0, len) through linux_load, as a kernel file, into a guest of
 * MEM bytes; returns its result and leaves the guest's RAM in *mem. */
static int load_image(size_t len, struct guest_mem *mem)
{
	char path[] = "/tmp/alcatraz-bz-XXXXXX";
	struct vm *vm = calloc(1, sizeof(*vm));
	int fd = mkstemp(path), ret;

	ck_assert_ptr_nonnull(vm);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, img, len), (ssize_t)len);
	close(fd);
	vm_config_defaults(&vm->cfg);
	vm->vm_fd = vm->kvm_fd = vm->end_fd = -1;
	vm->cfg.kernel_path = path;
	pthread_mutex_init(&vm->log_lock, NULL);
	ck_assert_int_eq(gmem_init(&vm->mem, MEM), 0);
	ret = linux_load(vm);
	unlink(path);
	linux_free(vm);
	*mem = vm->mem;
	pthread_mutex_destroy(&vm->log_lock);
	free(vm);
	return ret;
}

/* pref_address + init_size wraps past 2^64: refused, not taken as a small
 * end of the kernel (the initrd would then land inside the kernel). */
START_TEST(bzimage_load_end_overflow)
{
	struct guest_mem mem;

	make_bzimage();
	memcpy(img + 5 * 512, "KERNEL", 6);
	put64(img + 0x258, 0x1000000);         /* pref_address 16 MiB */
	put32(img + 0x260, 0x100000);          /* init_size 1 MiB */
	ck_assert_int_eq(load_image(sizeof(img), &mem), 0);
	ck_assert_mem_eq(mem.host + 0x100000, "KERNEL", 6);
	gmem_fini(&mem);

	put64(img + 0x258, UINT64_MAX - 0xfff);
	ck_assert_int_eq(load_image(sizeof(img), &mem), -ALCATRAZ_E_BADIMAGE);
	gmem_fini(&mem);
	put64(img + 0x258, MEM);               /* no wrap, past guest RAM */
	ck_assert_int_eq(load_image(sizeof(img), &mem), -EFBIG);
	gmem_fini(&mem);
}
END_TEST

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

START_TEST(mptable_checksums)
{
	struct guest_mem m;
	uint8_t *fp, *t;
	uint16_t len;

	ck_assert_int_eq(gmem_init(&m, 2 << 20), 0);
	ck_assert_int_eq(mptable_write(&m, 0x9f000, 4), 0);
	fp = m.host + 0x9fc00;
	ck_assert_mem_eq(fp, "_MP_", 4);
	ck_assert_uint_eq(sum(fp, 16), 0);
	t = m.host + 0x9f000;
	ck_assert_mem_eq(t, "PCMP", 4);
	memcpy(&len, t + 4, 2);
	ck_assert_uint_eq(sum(t, len), 0);
	ck_assert_int_eq(mptable_write(&m, 0x9f000, 0), -EINVAL);
	ck_assert_int_eq(mptable_write(&m, 0x9f000, 64), 0);
	gmem_fini(&m);
}
END_TEST

/*
 * Every ISA interrupt the table announces must reach the IOAPIC pin KVM's
 * default GSI routing raises for it: a PIT announced on pin 2 while KVM
 * raises pin 0 left Linux guests without a timer.
 */
START_TEST(mptable_irq_pins)
{
	struct guest_mem m;
	const uint8_t *t, *p, *end;
	uint16_t len, count, seen = 0;
	bool irq0 = false;

	ck_assert_int_eq(gmem_init(&m, 2 << 20), 0);
	ck_assert_int_eq(mptable_write(&m, 0x9f000, 2), 0);
	t = m.host + 0x9f000;
	memcpy(&len, t + 4, 2);
	memcpy(&count, t + 34, 2);
	end = t + len;
	for (p = t + 44; p < end && seen < count; seen++) {
		if (p[0] == 0) {		/* processor: 20 bytes, the rest 8 */
			p += 20;
			continue;
		}
		if (p[0] == 3 && p[4] == 0) {	/* I/O interrupt from the ISA bus */
			ck_assert_uint_ne(p[5], 2);	/* the cascade has no pin */
			ck_assert_uint_eq(p[7], p[5]);
			irq0 |= p[5] == 0;
		}
		p += 8;
	}
	ck_assert_uint_eq(seen, count);
	ck_assert(irq0);
	gmem_fini(&m);
}
END_TEST

/* The TSC-deadline bit follows what KVM's LAPIC emulates, whatever KVM reported. */
START_TEST(cpuid_deadline_timer)
{
	struct kvm_cpuid_entry2 e = { .function = 1 };

	cpuid_filter_entry(&e, true, 1);
	ck_assert(e.ecx & (1u << 24));
	e.ecx = 1u << 24;
	cpuid_filter_entry(&e, false, 1);
	ck_assert(!(e.ecx & (1u << 24)));
	ck_assert(e.ecx & (1u << 31));		/* hypervisor present */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("linux_boot");
	TCase *tc = tcase_create("parsers");
	tcase_add_test(tc, elf_valid);
	tcase_add_test(tc, elf_garbage);
	tcase_add_test(tc, elf_hostile_headers);
	tcase_add_test(tc, bzimage_valid);
	tcase_add_test(tc, bzimage_garbage);
	tcase_add_test(tc, bzimage_load_end_overflow);
	tcase_add_test(tc, mptable_checksums);
	tcase_add_test(tc, mptable_irq_pins);
	tcase_add_test(tc, cpuid_deadline_timer);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
